from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base
from casework.models.territory import Territory


class Programme(Base):
    """A funded project (TILDE, CHANCE...) that runs pacts on one workflow in one territory."""

    __tablename__ = "programme"
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        CheckConstraint("no_contact_days > 0", name="no_contact_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    funder: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    workflow_name: Mapped[str] = mapped_column(String(80))
    # Cases of violence or under court orders: visible only to the people assigned.
    restricted: Mapped[bool] = mapped_column(default=False)
    no_contact_days: Mapped[int] = mapped_column(default=30)
    # Months after a person's last pact closed before their identity is erased (proposed by the
    # scheduler, confirmed by a supervisor); None: kept until erased on request.
    retention_months: Mapped[int | None]

    territory: Mapped[Territory] = relationship()
    targets: Mapped[list[ProgrammeTarget]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="ProgrammeTarget.id"
    )


class ProgrammeTarget(Base):
    """A number the funder expects: e.g. 300 beneficiaries, at least 0.80 women."""

    __tablename__ = "programme_target"
    __table_args__ = (
        UniqueConstraint("programme_id", "indicator"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    indicator: Mapped[str] = mapped_column(String(60))
    value: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    description: Mapped[str] = mapped_column(String(300), default="")

    programme: Mapped[Programme] = relationship(back_populates="targets")
