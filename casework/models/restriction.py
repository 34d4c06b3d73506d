"""A restriction of processing on a person's record (GDPR art. 18): while one is open the record
and their pacts are kept and may be read, and nothing about them is written
(casework.security.record_freeze refuses it; casework.people.restriction opens and lifts them).

A restriction is never deleted: lifting it closes the row, so the record's history keeps every
restriction, who asked for it and why, and who lifted it and why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base
from casework.models.user import User

MAX_RESTRICTION_REASON = 500


class BeneficiaryRestriction(Base):
    __tablename__ = "beneficiary_restriction"
    __table_args__ = (
        # At most one open restriction per person: the database refuses a second, even from two
        # requests at once.
        Index("ix_beneficiary_restriction_open", "beneficiary_id", unique=True,
              sqlite_where=text("lifted_at IS NULL"), postgresql_where=text("lifted_at IS NULL")),
        CheckConstraint("(lifted_at IS NULL) = (lifted_by_id IS NULL)", name="lifted_by_someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    restricted_at: Mapped[datetime]
    restricted_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(String(MAX_RESTRICTION_REASON))
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lift_reason: Mapped[str] = mapped_column(String(MAX_RESTRICTION_REASON), default="", server_default="")

    restricted_by: Mapped[User] = relationship(foreign_keys=[restricted_by_id])
    lifted_by: Mapped[User | None] = relationship(foreign_keys=[lifted_by_id])
