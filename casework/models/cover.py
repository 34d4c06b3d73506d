"""Cover for an absence: a colleague who follows an absent case manager's pacts for a while."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base
from casework.models.user import User


class AbsenceCover(Base):
    """`covering_user` sees and is reminded of `absent_user`'s pacts from `starts_on` to `ends_on`
    (local dates, inclusive). `starts_at`/`ends_at` are the same days as UTC instants (the start
    of the first day, the start of the day after the last), written when the cover is made, so
    the access scoping compares them with `now` and needs no time zone. Ending it early sets
    `ended_at`."""

    __tablename__ = "absence_cover"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_starts"),
        CheckConstraint("absent_user_id != covering_user_id", name="not_self"),
        Index("ix_absence_cover_covering_user_id_ends_at", "covering_user_id", "ends_at"),
        Index("ix_absence_cover_absent_user_id_ends_at", "absent_user_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    absent_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    covering_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]

    absent_user: Mapped[User] = relationship(foreign_keys=[absent_user_id])
    covering_user: Mapped[User] = relationship(foreign_keys=[covering_user_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
