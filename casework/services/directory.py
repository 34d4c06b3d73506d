"""Keeping the directory of services: create, edit, deactivate, confirm as checked, list, history.

Administrators keep every service; a supervisor keeps the services of the organisations of
their territory and the territories below it, and places them only in the comuni there.
Other roles get NotAllowed; a service outside the actor's reach is ServiceNotFound (the web
answers 404, not saying it exists). Every operation takes the caller's session and never
commits; bad input raises InvalidInput({field: code}). Each changed field lands in the edit
history (ChangeRecord, entity "service"), as text a person reads back: the organisation by
name, the comuni by name and ISTAT code, the opening hours as "lun 09:00-12:30".

A service is "to check" when it is active and nobody confirmed it for more than 12 months
(`last_checked_on`, a day in the office's zone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.errors import CaseworkError, InvalidInput
from casework.models import (
    ChangeRecord,
    Organisation,
    Role,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceMacroArea,
    ServiceType,
    Territory,
    TerritoryKind,
    User,
)
from casework.security import record_changes, territory_subtree
from casework.services.languages import LANGUAGE_CODES
from casework.versioning import check_version, touch

ENTITY = "service"
# Monday first, as Service.opening_hours counts days (0..6); the Italian abbreviations files use.
WEEKDAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
_DAY_NAMES = {
    **{name: day for day, name in enumerate(WEEKDAYS)},
    **{name: day for day, name in enumerate(("lunedi", "martedi", "mercoledi", "giovedi", "venerdi", "sabato",
                                             "domenica"))},
    **{name: day for day, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
}
STALE_MONTHS = 12
# The longest text each field keeps (the columns' lengths in casework.models.services).
LIMITS = {"name": 200, "opening_notes": 300, "address": 200, "contact_name": 120, "contact_email": 254,
          "contact_phone": 40, "website": 300, "cost_notes": 300}
TEXT_LIMIT = 5000  # description, target group, eligibility: long enough for a leaflet's paragraph
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_WEBSITE = re.compile(r"^(https?://)?([A-Za-z0-9-]+\.)+[A-Za-z]{2,}(:\d+)?(/\S*)?$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{1,2})[:.](\d{2})\s*-\s*(\d{1,2})[:.](\d{2})$")


class NotAllowed(CaseworkError):
    """Only an active administrator or supervisor keeps the directory."""


class ServiceNotFound(CaseworkError):
    """No such service among those the actor keeps (the caller answers 404)."""

    def __init__(self, service_id: int):
        self.service_id = service_id
        super().__init__(f"no service {service_id} for this user")


@dataclass(frozen=True)
class ServiceInput:
    """A service as a form or a file row gives it; text and numbers as typed, checked here.

    `opening_hours` is the text form ("lun 09:00-12:30; mer 14:00-18:00"); `last_checked_on`
    None means today (a new service is checked when it is entered) or unchanged (an edit).
    """

    organisation_id: int | None = None
    type_id: int | None = None
    name: str = ""
    description: str = ""
    target_group: str = ""
    eligibility: str = ""
    access: str = ""
    opening_hours: str = ""
    opening_notes: str = ""
    address: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    website: str = ""
    cost: str = ""
    cost_notes: str = ""
    company_welfare_plan: bool = False
    languages: Sequence[str] = ()
    comuni: Sequence[int] = ()
    capacity: int | str | None = None
    places_available: int | str | None = None
    waiting_list: int | str | None = None
    active: bool = True
    last_checked_on: date | None = None


@dataclass
class Cleaned:
    """Checked values, ready to be written on a Service."""

    organisation: Organisation
    service_type: ServiceType
    values: dict[str, Any]  # the Service's plain columns
    opening_hours: list[dict[str, object]]
    languages: list[str]
    comuni: list[Territory]


# --- who keeps what -----------------------------------------------------------------------

def check_allowed(actor: User | None) -> User:
    if actor is None or not actor.active or actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise NotAllowed("only administrators and supervisors keep the services directory")
    return actor


def _organisations(actor: User) -> Select[tuple[Organisation]]:
    query = select(Organisation)
    if actor.role != Role.ADMIN:
        query = query.where(Organisation.territory_id.in_(territory_subtree(actor)))
    return query


def kept_services(actor: User) -> Select[tuple[Service]]:
    """The services `actor` keeps (the caller checked `check_allowed`)."""
    query = select(Service)
    if actor.role != Role.ADMIN:
        query = query.join(Service.organisation).where(Organisation.territory_id.in_(territory_subtree(actor)))
    return query


def organisation_choices(session: Session, actor: User, *, include_inactive: bool = False) -> list[Organisation]:
    """The organisations whose services `actor` keeps, by name."""
    check_allowed(actor)
    query = _organisations(actor)
    if not include_inactive:
        query = query.where(Organisation.active.is_(True))
    return list(session.scalars(query.order_by(Organisation.name)))


def comune_choices(session: Session, actor: User) -> list[Territory]:
    """The comuni `actor` may say a service serves: all for an administrator, their subtree's for a supervisor."""
    check_allowed(actor)
    query = select(Territory).where(Territory.kind == TerritoryKind.COMUNE)
    if actor.role != Role.ADMIN:
        query = query.where(Territory.id.in_(territory_subtree(actor)))
    return list(session.scalars(query.order_by(Territory.name, Territory.id)))


def type_choices(session: Session) -> list[ServiceMacroArea]:
    """The taxonomy in its order: each macro-area with its types."""
    return list(session.scalars(
        select(ServiceMacroArea).options(selectinload(ServiceMacroArea.types)).order_by(ServiceMacroArea.position)
    ))


def get_service(session: Session, actor: User, service_id: int) -> Service:
    check_allowed(actor)
    found = session.scalars(
        kept_services(actor).where(Service.id == service_id)
        .options(joinedload(Service.organisation), joinedload(Service.service_type),
                 selectinload(Service.comuni).joinedload(ServiceComune.territory), selectinload(Service.languages))
    ).one_or_none()
    if found is None:
        raise ServiceNotFound(service_id)
    return found


# --- the values as people write them --------------------------------------------------------

def today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


def stale_before(now: datetime, zone: ZoneInfo) -> date:
    """A service last checked before this day is to check (12 months before today)."""
    day = today(now, zone)
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def is_stale(service: Service, now: datetime, zone: ZoneInfo) -> bool:
    return service.active and service.last_checked_on < stale_before(now, zone)


def parse_opening_hours(text: str) -> list[dict[str, object]]:
    """"lun 09:00-12:30; lun 14:00-17:00, mer 9.00-12.00" -> [{"day": 0, "opens": "09:00", ...}].

    Entries are separated by ";" (a day may list more ranges after a comma); days by their
    Italian name or its first three letters. Raises InvalidInput for `opening_hours`.
    """
    hours: list[dict[str, object]] = []
    for entry in (part.strip() for part in (text or "").split(";")):
        if not entry:
            continue
        day_name, _, ranges = entry.partition(" ")
        day = _DAY_NAMES.get(_plain_letters(day_name))
        if day is None or not ranges.strip():
            raise InvalidInput({"opening_hours": "invalid_hours"})
        for part in ranges.split(","):
            match = _RANGE.match(part.strip())
            if match is None:
                raise InvalidInput({"opening_hours": "invalid_hours"})
            open_h, open_m, close_h, close_m = (int(group) for group in match.groups())
            if open_h > 23 or close_h > 24 or open_m > 59 or close_m > 59 or (close_h == 24 and close_m):
                raise InvalidInput({"opening_hours": "invalid_hours"})
            if (open_h, open_m) >= (close_h, close_m):
                raise InvalidInput({"opening_hours": "closes_before_opens"})
            hours.append({"day": day, "opens": f"{open_h:02d}:{open_m:02d}", "closes": f"{close_h:02d}:{close_m:02d}"})
    return sorted(hours, key=lambda slot: (slot["day"], slot["opens"]))


def format_opening_hours(hours: Iterable[dict[str, object]]) -> str:
    """The opening hours as the form and files write them: "lun 09:00-12:30; mer 14:00-18:00"."""
    ordered = sorted(hours, key=lambda slot: (int(slot["day"]), str(slot["opens"])))  # type: ignore[arg-type]
    return "; ".join(f"{WEEKDAYS[int(slot['day'])]} {slot['opens']}-{slot['closes']}" for slot in ordered)  # type: ignore[call-overload]


def _plain_letters(word: str) -> str:
    return word.lower().rstrip(".:").replace("ì", "i").replace("è", "e")


# Places and waiting lists of one service: far above any real one, far below what the columns hold.
MAX_COUNT = 100_000


def _whole(value: int | str | None) -> int | None:
    """A count as typed: None for empty; ValueError unless a whole number, 0 or more (OverflowError
    beyond MAX_COUNT)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = value if isinstance(value, int) else int(value.strip())
    if number < 0:
        raise ValueError(value)
    if number > MAX_COUNT:
        raise OverflowError(value)
    return number


def _text(value: str) -> str:
    # Browsers send a textarea's lines ended by CRLF: stored with LF, as files give them back.
    return (value or "").replace("\r\n", "\n").strip()


@dataclass(frozen=True)
class Reach:
    """What `actor` may place a service with, read once for many rows."""

    organisations: dict[int, Organisation]  # inactive ones included
    comuni: dict[int, Territory]


def reach(session: Session, actor: User) -> Reach:
    check_allowed(actor)
    organisations = session.scalars(_organisations(actor))
    return Reach({organisation.id: organisation for organisation in organisations},
                 {territory.id: territory for territory in comune_choices(session, actor)})


def clean(session: Session, actor: User, data: ServiceInput, *, current: Service | None, now: datetime,
          zone: ZoneInfo, within: Reach | None = None) -> Cleaned:
    """The input checked against every rule of the directory, or InvalidInput with every problem."""
    within = within or reach(session, actor)
    errors: dict[str, str] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = "required"
    texts = {key: _text(getattr(data, key)) for key in ("description", "target_group", "eligibility",
                                                         "opening_notes", "address", "contact_name",
                                                         "contact_email", "contact_phone", "website", "cost_notes")}
    for key, value in {"name": name, **texts}.items():
        if len(value) > LIMITS.get(key, TEXT_LIMIT):
            errors[key] = "too_long"
    if texts["contact_email"] and "contact_email" not in errors and not _EMAIL.match(texts["contact_email"]):
        errors["contact_email"] = "invalid_email"
    if texts["website"] and "website" not in errors and not _WEBSITE.match(texts["website"]):
        errors["website"] = "invalid_website"

    organisation = None
    if data.organisation_id is None:
        errors["organisation_id"] = "required"
    else:
        organisation = within.organisations.get(data.organisation_id)
        if organisation is None:
            errors["organisation_id"] = "outside_territory"
        elif not organisation.active and (current is None or current.organisation_id != organisation.id):
            errors["organisation_id"] = "inactive_organisation"
    service_type = None
    if data.type_id is None:
        errors["type_id"] = "required"
    else:
        service_type = session.get(ServiceType, data.type_id)
        if service_type is None:
            errors["type_id"] = "unknown_type"

    access = cost = None
    try:
        access = ServiceAccess(data.access)
    except ValueError:
        errors["access"] = "required" if not data.access else "invalid_choice"
    try:
        cost = ServiceCost(data.cost)
    except ValueError:
        errors["cost"] = "required" if not data.cost else "invalid_choice"

    hours: list[dict[str, object]] = []
    try:
        hours = parse_opening_hours(data.opening_hours)
    except InvalidInput as error:
        errors.update(error.errors)

    languages = sorted({code.strip().lower() for code in data.languages if code.strip()})
    if any(code not in LANGUAGE_CODES for code in languages):
        errors["languages"] = "unknown_language"

    comuni: list[Territory] = []
    wanted = set(data.comuni)
    if not wanted:
        errors["comuni"] = "required"
    else:
        allowed = within.comuni
        kept = {link.territory_id: link.territory for link in current.comuni} if current is not None else {}
        comuni = [allowed.get(territory_id) or kept[territory_id] for territory_id in sorted(wanted)
                  if territory_id in allowed or territory_id in kept]
        if len(comuni) != len(wanted):
            errors["comuni"] = "outside_territory"

    counts: dict[str, int | None] = {}
    for key in ("capacity", "places_available", "waiting_list"):
        try:
            counts[key] = _whole(getattr(data, key))
        except ValueError:
            errors[key] = "not_whole_number"
        except OverflowError:
            errors[key] = "too_large"
    if (counts.get("capacity") is not None and counts.get("places_available") is not None
            and counts["places_available"] > counts["capacity"]):  # type: ignore[operator]
        errors["places_available"] = "over_capacity"

    checked_on = data.last_checked_on
    if checked_on is not None and checked_on > today(now, zone):
        errors["last_checked_on"] = "in_the_future"
    if errors:
        raise InvalidInput(errors)
    assert organisation is not None and service_type is not None
    if checked_on is None:
        checked_on = current.last_checked_on if current is not None else today(now, zone)
    values = {
        "name": name, **texts, "access": access, "cost": cost,
        "company_welfare_plan": bool(data.company_welfare_plan), "capacity": counts["capacity"],
        "places_available": counts["places_available"], "waiting_list": counts["waiting_list"] or 0,
        "active": bool(data.active), "last_checked_on": checked_on,
    }
    return Cleaned(organisation, service_type, values, hours, languages, comuni)


# --- the edit history -----------------------------------------------------------------------

HISTORY_FIELDS = ("name", "organisation", "type", "description", "target_group", "eligibility", "access",
                  "opening_hours", "opening_notes", "address", "contact_name", "contact_email", "contact_phone",
                  "website", "cost", "cost_notes", "company_welfare_plan", "languages", "comuni", "capacity",
                  "places_available", "waiting_list", "active", "last_checked_on")


def _comuni_text(comuni: Iterable[Territory]) -> str:
    return "; ".join(f"{territory.name} ({territory.istat_code})"
                     for territory in sorted(comuni, key=lambda territory: (territory.name, territory.id)))


_RELATED = ("organisation", "type", "opening_hours", "languages", "comuni")  # kept as text, not as read


def history_values(service: Service) -> dict[str, Any]:
    """The service as its edit history keeps it (the type by its stable code)."""
    values = {key: getattr(service, key) for key in HISTORY_FIELDS if key not in _RELATED}
    values.update(
        organisation=service.organisation.name, type=service.service_type.code,
        opening_hours=format_opening_hours(service.opening_hours or []),
        languages=", ".join(sorted(link.language for link in service.languages)),
        comuni=_comuni_text(link.territory for link in service.comuni),
    )
    return values


def cleaned_values(cleaned: Cleaned) -> dict[str, Any]:
    """What `history_values` would read once `cleaned` is written."""
    return {**cleaned.values, "organisation": cleaned.organisation.name, "type": cleaned.service_type.code,
            "opening_hours": format_opening_hours(cleaned.opening_hours),
            "languages": ", ".join(cleaned.languages), "comuni": _comuni_text(cleaned.comuni)}


def _apply(service: Service, cleaned: Cleaned) -> None:
    for key, value in cleaned.values.items():
        if getattr(service, key) != value:
            setattr(service, key, value)
    if service.organisation is not cleaned.organisation:
        service.organisation = cleaned.organisation
    if service.service_type is not cleaned.service_type:
        service.service_type = cleaned.service_type
    if format_opening_hours(service.opening_hours or []) != format_opening_hours(cleaned.opening_hours):
        service.opening_hours = cleaned.opening_hours
    wanted_languages = set(cleaned.languages)
    for link in list(service.languages):
        if link.language not in wanted_languages:
            service.languages.remove(link)
    have = {link.language for link in service.languages}
    service.languages.extend(ServiceLanguage(language=code) for code in cleaned.languages if code not in have)
    wanted_comuni = {territory.id for territory in cleaned.comuni}
    for link in list(service.comuni):
        if link.territory_id not in wanted_comuni:
            service.comuni.remove(link)
    have = {link.territory_id for link in service.comuni}
    service.comuni.extend(ServiceComune(territory=territory) for territory in cleaned.comuni if territory.id not in have)


# --- writing ------------------------------------------------------------------------------

def write_new(session: Session, actor: User, cleaned: Cleaned, *, now: datetime) -> Service:
    service = Service(opening_hours=[], created_at=now, updated_at=now, languages=[], comuni=[])
    _apply(service, cleaned)
    session.add(service)
    session.flush()
    record_changes(session, ENTITY, service.id, {}, history_values(service), actor=actor, now=now)
    return service


def write_changes(session: Session, actor: User, service: Service, cleaned: Cleaned, *, now: datetime,
                  expected_version: int | None) -> Service:
    """Write `cleaned` on `service`; the version moves only if something changed."""
    before = history_values(service)
    if before == cleaned_values(cleaned):
        check_version(service, expected_version)
        return service
    _apply(service, cleaned)
    touch(service, expected_version, now)
    record_changes(session, ENTITY, service.id, before, history_values(service), actor=actor, now=now)
    return service


def create_service(session: Session, actor: User, data: ServiceInput, *, now: datetime, zone: ZoneInfo) -> Service:
    """A new active service, checked today unless the input says when."""
    check_allowed(actor)
    cleaned = clean(session, actor, data, current=None, now=now, zone=zone)
    cleaned.values["active"] = True
    return write_new(session, actor, cleaned, now=now)


def update_service(session: Session, actor: User, service_id: int, data: ServiceInput, *, now: datetime,
                   zone: ZoneInfo, expected_version: int | None) -> Service:
    """Change a service; a version other than `expected_version` raises Conflict, nothing written.

    The form does not carry the active flag (its own buttons do): it stays as it is.
    """
    service = get_service(session, actor, service_id)
    check_version(service, expected_version)
    cleaned = clean(session, actor, data, current=service, now=now, zone=zone)
    cleaned.values["active"] = service.active
    return write_changes(session, actor, service, cleaned, now=now, expected_version=expected_version)


def _set(session: Session, actor: User, service_id: int, *, now: datetime, expected_version: int | None,
         **values: Any) -> Service:
    service = get_service(session, actor, service_id)
    check_version(service, expected_version)
    before = history_values(service)
    changed = {key: value for key, value in values.items() if getattr(service, key) != value}
    if not changed:
        return service
    for key, value in changed.items():
        setattr(service, key, value)
    touch(service, expected_version, now)
    record_changes(session, ENTITY, service.id, before, history_values(service), actor=actor, now=now)
    return service


def deactivate_service(session: Session, actor: User, service_id: int, *, now: datetime,
                       expected_version: int | None = None) -> Service:
    """No longer offered in searches and suggestions; its referrals and history stay."""
    return _set(session, actor, service_id, now=now, expected_version=expected_version, active=False)


def reactivate_service(session: Session, actor: User, service_id: int, *, now: datetime,
                       expected_version: int | None = None) -> Service:
    return _set(session, actor, service_id, now=now, expected_version=expected_version, active=True)


def confirm_service_checked(session: Session, actor: User, service_id: int, *, now: datetime, zone: ZoneInfo,
                            expected_version: int | None = None) -> Service:
    """Someone checked the service is as described today: it is no longer to check for 12 months."""
    return _set(session, actor, service_id, now=now, expected_version=expected_version,
                last_checked_on=today(now, zone))


@dataclass(frozen=True)
class ServiceHistory:
    service: Service
    changes: list[ChangeRecord]  # oldest first


def service_history(session: Session, actor: User, service_id: int) -> ServiceHistory:
    service = get_service(session, actor, service_id)
    changes = session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == ENTITY, ChangeRecord.entity_id == service_id)
        .options(joinedload(ChangeRecord.actor)).order_by(ChangeRecord.at, ChangeRecord.id)
    ).all()
    return ServiceHistory(service, list(changes))
