"""The directory of territorial services and the referrals of pacts to them.

The taxonomy has two levels (macro-area, type); a type answers one need area of the
screening (lavoro, casa, ...) and may carry its code in the national Nomenclatore of social
services. A service is offered by an organisation in the comuni it serves, in the languages
it speaks. A service referral follows one pact's request to one service until it ends; each
of its changes is a `service_referral_event` (the pact's timeline shows them), and the
beneficiary's consent to share data with the provider is a `data_sharing_consent`.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ColumnElement,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    and_,
    or_,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casework.models.base import Base, make_append_only, str_enum
from casework.models.beneficiary import Beneficiary
from casework.models.pact import Action, Pact
from casework.models.territory import Organisation, Territory
from casework.models.user import User


class ServiceMacroArea(Base):
    __tablename__ = "service_macro_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_it: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    types: Mapped[list[ServiceType]] = relationship(back_populates="macro_area", order_by="ServiceType.position")


class ServiceType(Base):
    __tablename__ = "service_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    macro_area_id: Mapped[int] = mapped_column(ForeignKey("service_macro_area.id"), index=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    label_it: Mapped[str] = mapped_column(String(160))
    label_en: Mapped[str] = mapped_column(String(160))
    # The screening's need area this type answers ("" for none): what suggestions match on.
    need_area: Mapped[str] = mapped_column(String(40), default="", index=True)
    # Its code in the Nomenclatore interregionale degli interventi e servizi sociali, if any.
    nomenclatore_code: Mapped[str] = mapped_column(String(20), default="")
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    macro_area: Mapped[ServiceMacroArea] = relationship(back_populates="types")


class ServiceAccess(enum.Enum):
    FREE_ACCESS = "free_access"
    BY_APPOINTMENT = "by_appointment"


class ServiceCost(enum.Enum):
    FREE = "free"
    DISCOUNTED = "discounted"
    PAID = "paid"


class Service(Base):
    """A service an organisation offers: what, for whom, where, when, how to reach it, places.

    `capacity` None means no fixed limit; `places_available` None means not known. A service
    whose `last_checked_on` is more than 12 months old is flagged to the supervisor.
    """

    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("places_available IS NULL OR places_available >= 0", name="places_not_negative"),
        CheckConstraint("waiting_list >= 0", name="waiting_list_not_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_service_type_active", "type_id", "active"),
        Index("ix_service_organisation_id", "organisation_id"),
        Index("ix_service_last_checked_on", "last_checked_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    type_id: Mapped[int] = mapped_column(ForeignKey("service_type.id"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    target_group: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    access: Mapped[ServiceAccess] = mapped_column(str_enum(ServiceAccess, "service_access"))
    # [{"day": 0..6 (Monday 0), "opens": "09:00", "closes": "12:30"}, ...] in local time.
    opening_hours: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    opening_notes: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(120), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    cost: Mapped[ServiceCost] = mapped_column(str_enum(ServiceCost, "service_cost"))
    cost_notes: Mapped[str] = mapped_column(String(300), default="")
    company_welfare_plan: Mapped[bool] = mapped_column(default=False)
    capacity: Mapped[int | None]
    places_available: Mapped[int | None]
    waiting_list: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    last_checked_on: Mapped[date]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    organisation: Mapped[Organisation] = relationship()
    service_type: Mapped[ServiceType] = relationship()
    comuni: Mapped[list[ServiceComune]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceComune.territory_id"
    )
    languages: Mapped[list[ServiceLanguage]] = relationship(
        back_populates="service", cascade="all, delete-orphan", order_by="ServiceLanguage.language"
    )


def has_places() -> ColumnElement[bool]:
    """A service that can take someone now: places left, or no fixed limit and no count of places.
    One rule for the search's filter, the suggestions' ranking and the mapping's gaps."""
    return or_(Service.places_available > 0,
               and_(Service.capacity.is_(None), Service.places_available.is_(None)))


class ServiceComune(Base):
    """A comune a service serves."""

    __tablename__ = "service_comune"
    __table_args__ = (Index("ix_service_comune_territory_id", "territory_id", "service_id"),)

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    territory_id: Mapped[int] = mapped_column(ForeignKey("territory.id"), primary_key=True)

    service: Mapped[Service] = relationship(back_populates="comuni")
    territory: Mapped[Territory] = relationship()


class ServiceLanguage(Base):
    """A language spoken at a service (ISO 639-1 code: it, en, fr, ar, ...)."""

    __tablename__ = "service_language"
    __table_args__ = (Index("ix_service_language_language", "language", "service_id"),)

    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)

    service: Mapped[Service] = relationship(back_populates="languages")


class ServiceSearchTerm(Base):
    """One normalised, stemmed word of a service's texts: text search reads these by prefix."""

    __tablename__ = "service_search_term"
    __table_args__ = (Index("ix_service_search_term_service_id", "service_id"),)

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), primary_key=True)


class ServiceReferralStatus(enum.Enum):
    PROPOSED = "proposed"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    STARTED = "started"
    COMPLETED = "completed"
    DROPPED = "dropped"


class ServiceReferral(Base):
    """A pact's referral to a service, followed until it ends (completed, refused or dropped)."""

    __tablename__ = "service_referral"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("status != 'refused' OR refusal_reason != ''", name="refused_has_reason"),
        CheckConstraint("status != 'dropped' OR drop_reason != ''", name="dropped_has_reason"),
        CheckConstraint(
            "status IN ('proposed', 'dropped') OR requested_at IS NOT NULL", name="requested_beyond_proposed"
        ),
        Index("ix_service_referral_pact_id", "pact_id"),
        Index("ix_service_referral_service_status", "service_id", "status"),
        Index("ix_service_referral_action_id", "action_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="RESTRICT"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    # The pact's action this referral carries out, if one was linked.
    action_id: Mapped[int | None] = mapped_column(ForeignKey("pact_action.id", ondelete="SET NULL"))
    status: Mapped[ServiceReferralStatus] = mapped_column(
        str_enum(ServiceReferralStatus, "service_referral_status"), default=ServiceReferralStatus.PROPOSED
    )
    # The need area it answers and why it was suggested, as shown when it was added.
    need_area: Mapped[str] = mapped_column(String(40), default="")
    proposed_at: Mapped[datetime]
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    refusal_reason: Mapped[str] = mapped_column(String(40), default="")
    agreed_start_on: Mapped[date | None]
    started_on: Mapped[date | None]
    ended_at: Mapped[datetime | None]
    drop_reason: Mapped[str] = mapped_column(String(40), default="")
    # The person at the provider who handles this referral (a name, an e-mail, a phone).
    provider_contact: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    pact: Mapped[Pact] = relationship()
    service: Mapped[Service] = relationship()
    action: Mapped[Action | None] = relationship()
    proposed_by: Mapped[User | None] = relationship(foreign_keys=[proposed_by_id])
    events: Mapped[list[ServiceReferralEvent]] = relationship(
        back_populates="referral", order_by="ServiceReferralEvent.id"
    )


class ServiceReferralEvent(Base):
    """One change of a service referral's status (append-only): the timeline reads these."""

    __tablename__ = "service_referral_event"
    __table_args__ = (
        Index("ix_service_referral_event_referral_id", "referral_id"),
        Index("ix_service_referral_event_pact_at", "pact_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("service_referral.id", ondelete="RESTRICT"))
    pact_id: Mapped[int] = mapped_column(ForeignKey("pact.id", ondelete="RESTRICT"))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    from_status: Mapped[str] = mapped_column(String(20), default="")
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")

    referral: Mapped[ServiceReferral] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ConsentLegalBasis(enum.Enum):
    """Why the person's data may go to the organisation (GDPR art. 6, and art. 9 for health,
    violence or court data): what a data-protection officer asks of every sharing."""

    CONSENT = "consent"  # art. 6(1)(a), 9(2)(a): the person agreed, and may withdraw
    PUBLIC_TASK = "public_task"  # art. 6(1)(e), 9(2)(g): the comune's social services, by law
    LEGAL_OBLIGATION = "legal_obligation"  # art. 6(1)(c): a duty of the office (a court, a report)
    VITAL_INTERESTS = "vital_interests"  # art. 6(1)(d), 9(2)(c): to protect a life, consent impossible


class DataSharingConsent(Base):
    """The beneficiary's consent to share their data with one organisation for one purpose, on
    a legal basis (`ConsentLegalBasis`), collected by a member of staff on a given day.

    Required before a referral to that organisation's service is requested. Withdrawing it (from
    the referral or from the person's page) records `withdrawn_at`; the row itself stays, as
    evidence of what was agreed and when.
    """

    __tablename__ = "data_sharing_consent"
    __table_args__ = (
        Index("ix_data_sharing_consent_beneficiary_organisation", "beneficiary_id", "organisation_id"),
        Index("ix_data_sharing_consent_referral_id", "referral_id"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= recorded_at", name="withdrawn_after_recorded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id", ondelete="CASCADE"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The referral it was collected for, if any (a consent may cover later referrals to the same organisation).
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("service_referral.id", ondelete="SET NULL"))
    given_on: Mapped[date]
    purpose: Mapped[str] = mapped_column(Text)
    # Rows recorded before the basis was asked were all the person's consent (migration 0022).
    legal_basis: Mapped[ConsentLegalBasis] = mapped_column(
        str_enum(ConsentLegalBasis, "consent_legal_basis"), server_default=ConsentLegalBasis.CONSENT.value)
    collected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    beneficiary: Mapped[Beneficiary] = relationship()
    organisation: Mapped[Organisation] = relationship()
    collected_by: Mapped[User | None] = relationship()


make_append_only(ServiceReferralEvent, erasable=("note",))
