"""Server-side sessions, login attempts and the access log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only
from casework.models.user import User


class UserSession(Base):
    """A signed-in browser. The cookie holds only a random token; its hash is stored here,
    so logout, deactivation or an administrator can end a session for real."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User] = relationship()


class LoginAttempt(Base):
    """Kept in the database so throttling holds across every web worker."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_address_at", "ip_address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip_address: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime]
    succeeded: Mapped[bool]


class AccessLogEntry(Base):
    """Who looked at or exported whose personal data, when (GDPR art. 9 data): append-only."""

    __tablename__ = "access_log_entry"
    __table_args__ = (
        Index("ix_access_log_entry_subject", "subject_type", "subject_id", "at"),
        Index("ix_access_log_entry_user_id_at", "user_id", "at"),
        Index("ix_access_log_entry_chain_position", "chain_position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    action: Mapped[str] = mapped_column(String(40))  # view, download, export, print
    subject_type: Mapped[str] = mapped_column(String(40))  # beneficiary, pact, document, export
    subject_id: Mapped[int | None]
    detail: Mapped[str] = mapped_column(String(300), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    # Set once, after the insert, by casework.security.audit_chain.seal: never at insert time.
    chain_position: Mapped[int | None]
    chain_hash: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()


make_append_only(AccessLogEntry, sealed_by=("chain_position", "chain_hash"))
