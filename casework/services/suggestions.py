"""Services to suggest on a pact: those answering the need areas of its latest screening,
near the beneficiary, ranked, each with the reasons it was suggested.

Candidates are the active services whose type answers a need area the latest screening scored
above zero and that serve the beneficiary's comune or another comune of the same ambito (the
territory just above the comune), leaving out the services the pact already has a referral
to that has not ended. They are ranked by

1. the need's score, highest first;
2. distance: serving the comune of residence before serving only the same ambito;
3. places: places available (or no fixed limit) before not known before none;
4. language: speaking the beneficiary's preferred language before not;
5. name.

Reasons are codes with parameters, translated where shown (`reason_text`):
("need", area, score), ("same_comune", comune), ("same_ambito", ambito), ("places", n),
("no_limit",), ("language", code).

One query reads the beneficiary's place and language, one the latest need profile, one the
ranked services (ranked and cut in the database), then one per collection the cards show,
whatever the size of the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, false, select
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from casework.i18n import N_, gettext
from casework.models import (
    Beneficiary,
    Pact,
    Screening,
    Service,
    ServiceComune,
    ServiceLanguage,
    ServiceReferral,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    TerritoryKind,
    has_places,
)
from casework.services.directory import is_stale
from casework.services.languages import LANGUAGES

# A referral in one of these has not ended: the service is not suggested again.
OPEN_REFERRAL_STATUSES = (ServiceReferralStatus.PROPOSED, ServiceReferralStatus.REQUESTED,
                          ServiceReferralStatus.ACCEPTED, ServiceReferralStatus.STARTED)
# A service not checked for this long is flagged (the supervisor's list says so too).

Reason = tuple[object, ...]


@dataclass(frozen=True)
class Suggestion:
    service: Service
    need_area: str
    need_score: int
    distance: str  # "comune" (serves the comune of residence) or "ambito" (another comune of its ambito)
    places_left: int | None  # None: not known, or no fixed limit (service.capacity is None)
    language_match: bool
    stale: bool  # not checked for 12 months: worth a phone call before sending someone
    reasons: tuple[Reason, ...]


def latest_need_profile(session: Session, pact_id: int) -> dict[str, int]:
    """The need areas the pact's latest screening scored above zero, with their scores."""
    profile = session.scalar(
        select(Screening.need_profile).where(Screening.pact_id == pact_id).order_by(Screening.id.desc()).limit(1)
    ) or {}
    return {str(area): int(score) for area, score in profile.items() if isinstance(score, int) and score > 0}


def suggest_services(session: Session, pact: Pact, *, now: datetime, zone: ZoneInfo,
                     limit: int = 10) -> list[Suggestion]:
    """The services to suggest for `pact`, best first (see the module's notes)."""
    needs = latest_need_profile(session, pact.id)
    parent = aliased(Territory)
    place = session.execute(
        select(Beneficiary.comune_id, Beneficiary.preferred_language, Territory.name, Territory.parent_id,
               parent.name)
        .join(Territory, Territory.id == Beneficiary.comune_id)
        .outerjoin(parent, parent.id == Territory.parent_id)
        .where(Beneficiary.id == pact.beneficiary_id)
    ).one_or_none()
    if not needs or place is None:
        return []
    comune_id, language, comune_name, ambito_id, ambito_name = place

    if ambito_id is not None:
        nearby = select(Territory.id).where(Territory.parent_id == ambito_id, Territory.kind == TerritoryKind.COMUNE)
        near = Service.id.in_(select(ServiceComune.service_id).where(ServiceComune.territory_id.in_(nearby)))
    else:
        near = Service.id.in_(select(ServiceComune.service_id).where(ServiceComune.territory_id == comune_id))
    in_comune = exists().where(ServiceComune.service_id == Service.id, ServiceComune.territory_id == comune_id)
    speaks = (exists().where(ServiceLanguage.service_id == Service.id, ServiceLanguage.language == language)
              if language else false())
    already_referred = exists().where(
        ServiceReferral.pact_id == pact.id, ServiceReferral.service_id == Service.id,
        ServiceReferral.status.in_(OPEN_REFERRAL_STATUSES),
    )
    score = case(needs, value=ServiceType.need_area, else_=0)
    distance = case((in_comune, 0), else_=1)
    places = case((has_places(), 0), (Service.places_available.is_(None), 1), else_=2)
    speaks_rank = case((speaks, 0), else_=1)
    rows = session.execute(
        select(Service, ServiceType.need_area, distance, speaks_rank)
        .join(ServiceType, ServiceType.id == Service.type_id)
        .where(Service.active.is_(True), ServiceType.need_area.in_(needs), near, ~already_referred)
        .order_by(score.desc(), distance, places, speaks_rank, Service.name, Service.id)
        .limit(limit)
        .options(joinedload(Service.organisation), joinedload(Service.service_type).joinedload(ServiceType.macro_area),
                 selectinload(Service.languages), selectinload(Service.comuni).joinedload(ServiceComune.territory))
    ).all()

    suggestions = []
    for service, need_area, distance_rank, speaks_value in rows:
        reasons: list[Reason] = [("need", need_area, needs[need_area])]
        reasons.append(("same_comune", comune_name) if distance_rank == 0 else ("same_ambito", ambito_name or ""))
        places_left = service.places_available
        if places_left:
            reasons.append(("places", places_left))
        elif service.capacity is None and places_left is None:
            reasons.append(("no_limit",))
        matched = bool(language) and speaks_value == 0
        # Every service here speaks Italian: saying so on each card would hide what matters.
        if matched and language != "it":
            reasons.append(("language", language))
        suggestions.append(Suggestion(
            service=service, need_area=need_area, need_score=needs[need_area],
            distance="comune" if distance_rank == 0 else "ambito", places_left=places_left,
            language_match=matched, stale=is_stale(service, now, zone), reasons=tuple(reasons),
        ))
    return suggestions



_REASON_TEXTS = {
    "need": N_("Need: {area} (score {score})"),
    "same_comune": N_("In the comune of residence ({comune})"),
    "same_ambito": N_("In the same ambito ({ambito})"),
    "places": N_("Places available: {count}"),
    "no_limit": N_("No fixed limit of places"),
    "language": N_("Speaks {language}"),
}


def reason_text(reason: Reason, locale: str, *, need_label: str = "") -> str:
    """One reason in the reader's language; `need_label` names the need area (the workflow's label)."""
    code = reason[0]
    if code == "need":
        return gettext(locale, _REASON_TEXTS["need"], area=need_label or reason[1], score=reason[2])
    if code == "same_comune":
        return gettext(locale, _REASON_TEXTS["same_comune"], comune=reason[1])
    if code == "same_ambito":
        return gettext(locale, _REASON_TEXTS["same_ambito"], ambito=reason[1])
    if code == "places":
        return gettext(locale, _REASON_TEXTS["places"], count=reason[1])
    if code == "language":
        name = gettext(locale, LANGUAGES[str(reason[1])]) if reason[1] in LANGUAGES else str(reason[1])
        # Italian writes language names in lower case within a sentence ("Parla arabo").
        return gettext(locale, _REASON_TEXTS["language"], language=name if locale == "en" else name.lower())
    return gettext(locale, _REASON_TEXTS[str(code)])

