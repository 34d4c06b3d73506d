from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    SmallInteger,
    String,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum


class TerritoryKind(enum.Enum):
    AMBITO = "ambito"
    UNIONE = "unione"
    CONSORZIO = "consorzio"
    COMUNE = "comune"


class Territory(Base):
    """An ambito, unione di comuni, consortium or comune; comuni carry their ISTAT code.

    A comune also carries its province (the two-letter sigla), its cadastral code and its own
    holidays: the patron saint's day (month and day, every year) and the extra closure days
    (`closure_days`), which its pacts' working-day deadlines skip.
    """

    __tablename__ = "territory"
    __table_args__ = (
        CheckConstraint(
            "kind != 'comune' OR (istat_code IS NOT NULL AND length(istat_code) = 6)",
            name="comune_has_istat_code",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id != id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[TerritoryKind] = mapped_column(str_enum(TerritoryKind, "territory_kind"))
    istat_code: Mapped[str | None] = mapped_column(String(6), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    province: Mapped[str | None] = mapped_column(String(2))
    cadastral_code: Mapped[str | None] = mapped_column(String(4))
    patron_month: Mapped[int | None] = mapped_column(SmallInteger)
    patron_day: Mapped[int | None] = mapped_column(SmallInteger)
    # The public board of its services (no sign-in, no personal data): off until an administrator switches it on.
    public_board: Mapped[bool] = mapped_column(default=False, server_default=false())

    parent: Mapped[Territory | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Territory]] = relationship(back_populates="parent")
    closure_days: Mapped[list[ClosureDay]] = relationship(
        back_populates="territory", cascade="all, delete-orphan", order_by="ClosureDay.day"
    )

    def __repr__(self) -> str:
        return f"<Territory {self.kind.value} {self.name}>"


class ClosureDay(Base):
    """A day a comune's offices are closed besides the national holidays and its patron's day."""

    __tablename__ = "closure_day"
    __table_args__ = (UniqueConstraint("territory_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]

    territory: Mapped[Territory] = relationship(back_populates="closure_days")


class OrganisationKind(enum.Enum):
    PUBLIC_BODY = "public_body"
    COOPERATIVE = "cooperative"
    ASSOCIATION = "association"
    SCHOOL = "school"
    COMPANY = "company"
    FOUNDATION = "foundation"


class Organisation(Base):
    """Ente, cooperativa, associazione, scuola or azienda working in a territory."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(str_enum(OrganisationKind, "organisation_kind"))
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    territory: Mapped[Territory | None] = relationship()
