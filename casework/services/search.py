"""Finding services in the directory: by words, taxonomy, comune, language, opening, cost, places.

Every signed-in role searches the whole directory (it holds no personal data); the public board
narrows it to the comuni of its territories (`territory_ids`). Text is matched word by word:
each stemmed word (casework.services.search_terms) must start some term of the service, so
"ludoteche" finds "Ludoteca" and "mediazione linguistica" finds "Mediazione
linguistico-culturale"; results are in name order (every result matched every word).

"Open now" reads the opening hours (a JSON list in local time) in Python over the services the
other filters kept: the database cannot compare them portably. Without it, one COUNT and one
page query; with it, one query of ids and hours in name order, then the page. Then one query
per collection the page shows, whatever the size of the directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from math import ceil
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.models import (
    Service,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceMacroArea,
    ServiceType,
    Territory,
    has_places,
)
from casework.services.search_terms import query_stems, services_matching

MAX_PER_PAGE = 100


@dataclass(frozen=True)
class ServiceQuery:
    text: str = ""
    macro_area: str = ""  # ServiceMacroArea.code
    service_type: str = ""  # ServiceType.code
    comune_id: int | None = None
    language: str = ""  # ISO 639-1
    open_now: bool = False
    free_only: bool = False
    with_places: bool = False
    # Only services serving a comune in (or below) these territories: the public board's.
    territory_ids: tuple[int, ...] | None = None
    active_only: bool = True


@dataclass(frozen=True)
class ServicePage:
    items: list[Service]
    total: int
    page: int  # 1-based, within 1..pages
    per_page: int
    pages: int  # at least 1

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _conditions(query: ServiceQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.active_only:
        conditions.append(Service.active.is_(True))
    for stem in query_stems(query.text):
        conditions.append(Service.id.in_(services_matching(stem)))
    if query.service_type:
        conditions.append(Service.type_id.in_(select(ServiceType.id).where(ServiceType.code == query.service_type)))
    if query.macro_area:
        conditions.append(Service.type_id.in_(
            select(ServiceType.id).join(ServiceMacroArea, ServiceMacroArea.id == ServiceType.macro_area_id)
            .where(ServiceMacroArea.code == query.macro_area)))
    if query.comune_id is not None:
        conditions.append(Service.id.in_(
            select(ServiceComune.service_id).where(ServiceComune.territory_id == query.comune_id)))
    if query.language:
        conditions.append(Service.id.in_(
            select(ServiceLanguage.service_id).where(ServiceLanguage.language == query.language)))
    if query.free_only:
        conditions.append(Service.cost == ServiceCost.FREE)
    if query.with_places:
        conditions.append(has_places())
    if query.territory_ids is not None:
        tree = select(Territory.id).where(Territory.id.in_(query.territory_ids)).cte("board_tree", recursive=True)
        tree = tree.union_all(select(Territory.id).where(Territory.parent_id == tree.c.id))
        conditions.append(Service.id.in_(
            select(ServiceComune.service_id).where(ServiceComune.territory_id.in_(select(tree.c.id)))))
    return conditions


def _shown(statement: Select) -> Select:
    """What a result card shows, loaded with the page (one query per collection)."""
    return statement.options(
        joinedload(Service.organisation),
        joinedload(Service.service_type).joinedload(ServiceType.macro_area),
        selectinload(Service.comuni).joinedload(ServiceComune.territory),
        selectinload(Service.languages),
    )


def _parse_time(text: object) -> time | None:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def is_open(opening_hours: list[dict[str, object]] | None, local: datetime) -> bool:
    """Whether the hours (day 0 = Monday, "HH:MM" local) include the local instant `local`."""
    moment = local.time().replace(second=0, microsecond=0)
    for slot in opening_hours or []:
        if slot.get("day") != local.weekday():
            continue
        opens, closes = _parse_time(slot.get("opens")), _parse_time(slot.get("closes"))
        if opens is not None and closes is not None and opens <= moment < closes:
            return True
    return False


def search_services(session: Session, query: ServiceQuery, *, now: datetime, zone: ZoneInfo, page: int = 1,
                    per_page: int = 20) -> ServicePage:
    """One page of the services matching `query`, in name order, with the total."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    conditions = _conditions(query)
    if query.open_now:
        local = now.astimezone(zone)
        rows = session.execute(
            select(Service.id, Service.opening_hours).where(*conditions).order_by(Service.name, Service.id)
        ).all()
        ids = [row.id for row in rows if is_open(row.opening_hours, local)]
        total = len(ids)
        pages = max(1, ceil(total / per_page))
        page = min(max(1, page), pages)
        wanted = ids[(page - 1) * per_page:page * per_page]
        found = {service.id: service for service in session.scalars(
            _shown(select(Service).where(Service.id.in_(wanted)))).unique()} if wanted else {}
        return ServicePage([found[service_id] for service_id in wanted], total, page, per_page, pages)

    total = session.scalar(select(func.count()).select_from(Service).where(*conditions)) or 0
    pages = max(1, ceil(total / per_page))
    page = min(max(1, page), pages)
    items = list(session.scalars(
        _shown(select(Service).where(*conditions).order_by(Service.name, Service.id)
               .offset((page - 1) * per_page).limit(per_page))
    ).unique()) if total else []
    return ServicePage(items, total, page, per_page, pages)


def get_service(session: Session, service_id: int) -> Service | None:
    """A service with all its detail page shows (organisation, taxonomy, comuni, languages)."""
    return session.scalars(_shown(select(Service).where(Service.id == service_id))).unique().one_or_none()


def opening_table(opening_hours: list[dict[str, object]] | None) -> list[tuple[int, list[str]]]:
    """The opening hours by weekday (0 = Monday), each day's slots as "09:00–12:30", in order."""
    days: dict[int, list[tuple[str, str]]] = {}
    for slot in opening_hours or []:
        day = slot.get("day")
        if isinstance(day, int) and 0 <= day <= 6:
            days.setdefault(day, []).append((str(slot.get("opens", "")), str(slot.get("closes", ""))))
    return [(day, [f"{opens}–{closes}" for opens, closes in sorted(days[day])]) for day in sorted(days)]


@dataclass(frozen=True)
class TypeChoice:
    code: str
    label_it: str
    label_en: str


@dataclass(frozen=True)
class AreaChoice:
    code: str
    label_it: str
    label_en: str
    types: tuple[TypeChoice, ...]


@dataclass(frozen=True)
class SearchChoices:
    """What the search form offers: the taxonomy and the comuni some active service serves."""

    areas: tuple[AreaChoice, ...]
    comuni: tuple[tuple[int, str], ...]


def search_choices(session: Session, *, territory_ids: tuple[int, ...] | None = None) -> SearchChoices:
    """The search form's choices, in two queries (the board passes its territories)."""
    areas: dict[str, tuple[ServiceMacroArea, list[TypeChoice]]] = {}
    for kind, area in session.execute(
        select(ServiceType, ServiceMacroArea).join(ServiceMacroArea, ServiceMacroArea.id == ServiceType.macro_area_id)
        .order_by(ServiceMacroArea.position, ServiceMacroArea.id, ServiceType.position, ServiceType.id)
    ).all():
        areas.setdefault(area.code, (area, []))[1].append(TypeChoice(kind.code, kind.label_it, kind.label_en))
    served = select(ServiceComune.territory_id).join(Service, Service.id == ServiceComune.service_id).where(
        Service.active.is_(True))
    comuni = select(Territory.id, Territory.name).where(Territory.id.in_(served))
    if territory_ids is not None:
        tree = select(Territory.id).where(Territory.id.in_(territory_ids)).cte("choice_tree", recursive=True)
        tree = tree.union_all(select(Territory.id).where(Territory.parent_id == tree.c.id))
        comuni = comuni.where(Territory.id.in_(select(tree.c.id)))
    return SearchChoices(
        areas=tuple(AreaChoice(area.code, area.label_it, area.label_en, tuple(types))
                    for area, types in areas.values()),
        comuni=tuple((row.id, row.name) for row in session.execute(comuni.order_by(Territory.name, Territory.id))),
    )
