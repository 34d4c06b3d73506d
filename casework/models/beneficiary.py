from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, str_enum, utcnow
from casework.models.territory import Territory


class Gender(enum.Enum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"


class Relation(enum.Enum):
    PARTNER = "partner"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    OTHER = "other"


class Beneficiary(Base):
    __tablename__ = "beneficiary"
    __table_args__ = (
        CheckConstraint(
            "codice_fiscale IS NULL OR length(codice_fiscale) = 16", name="codice_fiscale_length"
        ),
        Index("ix_beneficiary_name", "last_name", "first_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    # Optional: foreign nationals and people in emergencies may not have one yet.
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), unique=True)
    birth_date: Mapped[date | None]
    birth_place: Mapped[str] = mapped_column(String(120), default="")
    gender: Mapped[Gender] = mapped_column(str_enum(Gender, "gender"))
    migrant_background: Mapped[bool] = mapped_column(default=False)
    citizenship: Mapped[str] = mapped_column(String(80), default="")
    comune_id: Mapped[int | None] = mapped_column(ForeignKey("territory.id"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Checked on save, like a pact's: two people editing one record must not overwrite each other.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    comune: Mapped[Territory | None] = relationship()
    household: Mapped[list[HouseholdMember]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="HouseholdMember.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class HouseholdMember(Base):
    __tablename__ = "household_member"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(
        ForeignKey("beneficiary.id", ondelete="CASCADE"), index=True
    )
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100), default="")
    relation: Mapped[Relation] = mapped_column(str_enum(Relation, "relation"))
    birth_date: Mapped[date | None]

    beneficiary: Mapped[Beneficiary] = relationship(back_populates="household")
