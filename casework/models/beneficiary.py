from __future__ import annotations

import enum
import re
import unicodedata
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

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
        # The header search's prefix lookups (casework.people.search) read these keys by range.
        Index("ix_beneficiary_last_name_key", "last_name_key"),
        Index("ix_beneficiary_first_name_key", "first_name_key"),
        Index("ix_beneficiary_phone_key", "phone_key"),
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
    # ISO 639-1 code ("" for not known): suggestions rank the services that speak it first.
    preferred_language: Mapped[str] = mapped_column(String(8), default="", server_default="")
    # Search keys, kept by the validators below whatever path writes the record (forms, import,
    # demo): the names without case, accents, spaces or apostrophes, the phone as its national digits.
    last_name_key: Mapped[str] = mapped_column(String(100), default="", server_default="")
    first_name_key: Mapped[str] = mapped_column(String(100), default="", server_default="")
    phone_key: Mapped[str] = mapped_column(String(40), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Checked on save, like a pact's: two people editing one record must not overwrite each other.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    # When the person's identity and free text were erased (casework.people.erasure); what the
    # indicators count (gender, birth date, comune, pacts) stays.
    erased_at: Mapped[datetime | None]

    __mapper_args__ = {"version_id_col": version}

    comune: Mapped[Territory | None] = relationship()
    household: Mapped[list[HouseholdMember]] = relationship(
        back_populates="beneficiary", cascade="all, delete-orphan", order_by="HouseholdMember.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @validates("first_name", "last_name", "phone")
    def _keep_search_keys(self, name: str, value: str | None) -> str | None:
        key = phone_key(value or "") if name == "phone" else name_key(value or "")
        setattr(self, f"{name}_key", key)
        return value


def name_key(text: str) -> str:
    """'D'Angelo Gesù' -> 'dangelogesu': what a name is searched by."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if character.isalnum()).casefold()[:100]


_INTERNATIONAL_ITALY = re.compile(r"^(\+|00)39")


def phone_key(text: str) -> str:
    """'+39 333 123.4567' -> '3331234567': the digits as dialled in Italy, so a number typed
    with or without the country code finds the same person."""
    compact = re.sub(r"[^0-9+]", "", text)
    return re.sub(r"\D", "", _INTERNATIONAL_ITALY.sub("", compact))[:40]


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
