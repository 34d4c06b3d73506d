"""Listing the services a person keeps: filters, one page and how many in all, the ones to check.

The same reach as casework.services.directory: everything for an administrator, the services
of the organisations of their territory and below for a supervisor. A page issues two queries
(the count and the page) whatever the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.models import Service, ServiceComune, ServiceType, User
from casework.services.directory import check_allowed, is_stale, kept_services, stale_before

PER_PAGE = 50


@dataclass(frozen=True)
class ServiceFilters:
    text: str = ""  # within the name, any case
    macro_area_id: int | None = None
    organisation_id: int | None = None
    active: bool | None = None
    stale: bool = False  # only the active services not checked for 12 months


@dataclass(frozen=True)
class ServiceRow:
    service: Service
    stale: bool


@dataclass(frozen=True)
class ServicePage:
    rows: list[ServiceRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _filtered(actor: User, filters: ServiceFilters, now: datetime, zone: ZoneInfo) -> Select[tuple[Service]]:
    query = kept_services(actor)
    text = " ".join(filters.text.split()).lower()
    if text:
        query = query.where(func.lower(Service.name).contains(text, autoescape=True))
    if filters.macro_area_id is not None:
        query = query.where(Service.type_id.in_(
            select(ServiceType.id).where(ServiceType.macro_area_id == filters.macro_area_id)))
    if filters.organisation_id is not None:
        query = query.where(Service.organisation_id == filters.organisation_id)
    if filters.active is not None:
        query = query.where(Service.active.is_(filters.active))
    if filters.stale:
        query = query.where(Service.active.is_(True), Service.last_checked_on < stale_before(now, zone))
    return query


def managed_services(session: Session, actor: User, filters: ServiceFilters, *, now: datetime, zone: ZoneInfo,
                     page: int = 1, per_page: int = PER_PAGE) -> ServicePage:
    """The services `actor` keeps, filtered, by name: one page of them and how many in all."""
    check_allowed(actor)
    query = _filtered(actor, filters, now, zone)
    total = session.scalar(query.with_only_columns(func.count(Service.id)).order_by(None)) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))  # past the end: the last page
    services = session.scalars(
        query.options(joinedload(Service.organisation), joinedload(Service.service_type).joinedload(
            ServiceType.macro_area))
        .order_by(func.lower(Service.name), Service.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return ServicePage([ServiceRow(service, is_stale(service, now, zone)) for service in services], total, page,
                       per_page)


def all_managed_services(session: Session, actor: User, filters: ServiceFilters, *, now: datetime,
                         zone: ZoneInfo) -> list[Service]:
    """Every service the filters select, with what an export writes (a fixed number of queries)."""
    check_allowed(actor)
    return list(session.scalars(
        _filtered(actor, filters, now, zone)
        .options(joinedload(Service.organisation), joinedload(Service.service_type),
                 selectinload(Service.comuni).joinedload(ServiceComune.territory), selectinload(Service.languages))
        .order_by(func.lower(Service.name), Service.id)
    ))


def stale_services_count(session: Session, actor: User, now: datetime, zone: ZoneInfo) -> int:
    """How many active services `actor` keeps were not checked for more than 12 months."""
    check_allowed(actor)
    query = _filtered(actor, ServiceFilters(stale=True), now, zone)
    return session.scalar(query.with_only_columns(func.count(Service.id)).order_by(None)) or 0

