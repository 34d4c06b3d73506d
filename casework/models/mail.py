"""The e-mail outbox: every message Casework sends, queued in the transaction that decides it."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum
from casework.models.user import User


class EmailStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry: shown to administrators
    CANCELLED = "cancelled"  # every deadline it was about was met or left before it could go


class OutboundEmail(Base):
    """The e-mail outbox: written in the transaction that decides to send, sent afterwards.

    A sender claims a row by moving it to `sending` with a lease (`next_attempt_at` is then
    the lease's expiry): if it dies before recording the result, the lease runs out and the
    next sender takes the row again.
    """

    __tablename__ = "outbound_email"
    __table_args__ = (
        Index(
            "ix_outbound_email_next_attempt_at", "next_attempt_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        Index(
            "ix_outbound_email_failed", "created_at",
            sqlite_where=text("status = 'failed'"), postgresql_where=text("status = 'failed'"),
        ),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # What this message is, e.g. "digest:12:2026-03-02": the same message is never queued twice.
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    status: Mapped[EmailStatus] = mapped_column(str_enum(EmailStatus, "email_status"))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")

    recipient: Mapped[User | None] = relationship()
