"""The administrative log: every change to accounts, roles, territories, organisations,
programmes and settings (append-only, as the Garante requires of administrators' logs)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only
from casework.models.user import User


class AdministrativeLogEntry(Base):
    """One administrative change: who, when, from which address, on what, and each field's old
    and new value. Never updated or deleted, by the application or the database."""

    __tablename__ = "administrative_log_entry"
    __table_args__ = (
        Index("ix_administrative_log_entry_at", "at"),
        Index("ix_administrative_log_entry_subject", "subject_type", "subject_id", "at"),
        Index("ix_administrative_log_entry_actor_id_at", "actor_id", "at"),
        Index("ix_administrative_log_entry_chain_position", "chain_position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(40))  # create, update, deactivate, invite, ...
    subject_type: Mapped[str] = mapped_column(String(40))  # user, territory, organisation, programme, setting
    subject_id: Mapped[int | None]
    subject_label: Mapped[str] = mapped_column(String(200), default="")
    # {field: [old, new]} as text, so the entry reads the same whatever the model becomes.
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set once, after the insert, by casework.security.audit_chain.seal: never at insert time.
    chain_position: Mapped[int | None]
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()


make_append_only(AdministrativeLogEntry, sealed_by=("chain_position", "chain_hash"))
