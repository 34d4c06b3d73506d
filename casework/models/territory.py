from __future__ import annotations

import enum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum


class TerritoryKind(enum.Enum):
    AMBITO = "ambito"
    UNIONE = "unione"
    CONSORZIO = "consorzio"
    COMUNE = "comune"


class Territory(Base):
    """An ambito, unione di comuni, consortium or comune; comuni carry their ISTAT code."""

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

    parent: Mapped[Territory | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Territory]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Territory {self.kind.value} {self.name}>"


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

    territory: Mapped[Territory | None] = relationship()
