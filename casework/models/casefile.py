"""What a case file holds besides the workflow: journal entries, documents, edit history."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only, str_enum
from casework.models.user import User


class JournalKind(enum.Enum):
    NOTE = "note"
    PHONE_CALL = "phone_call"
    MEETING = "meeting"
    HOME_VISIT = "home_visit"
    EQUIPE_MEETING = "equipe_meeting"
    MESSAGE = "message"


class JournalEntry(Base):
    """Diario del caso: a typed, dated note on a pact."""

    __tablename__ = "journal_entry"
    __table_args__ = (Index("ix_journal_entry_pact_id_at", "pact_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"))
    kind: Mapped[JournalKind] = mapped_column(str_enum(JournalKind, "journal_kind"))
    at: Mapped[datetime]  # when it happened
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]
    # The one-time key of the form that wrote it: the same form sent twice writes one entry.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)

    author: Mapped[User | None] = relationship()


class DocumentKind(enum.Enum):
    SIGNED_PACT = "signed_pact"
    ID_DOCUMENT = "id_document"
    RESIDENCE_PERMIT = "residence_permit"
    CERTIFICATE = "certificate"
    OTHER = "other"


class Document(Base):
    """A file attached to a beneficiary or a pact; the bytes live under the instance folder."""

    __tablename__ = "document"
    __table_args__ = (
        CheckConstraint("beneficiary_id IS NOT NULL OR pact_id IS NOT NULL", name="has_owner"),
        CheckConstraint("size_bytes > 0", name="not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True)
    pact_id: Mapped[int | None] = mapped_column(ForeignKey("pact.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    uploaded_by: Mapped[User | None] = relationship()


class ChangeRecord(Base):
    """One field's change on a beneficiary or a pact: the edit history (append-only)."""

    __tablename__ = "change_record"
    __table_args__ = (Index("ix_change_record_entity", "entity", "entity_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    actor: Mapped[User | None] = relationship()


make_append_only(ChangeRecord, erasable=("old_value", "new_value"))
