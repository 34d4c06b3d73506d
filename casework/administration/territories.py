"""The territory tree: ambiti, unioni and consorzi that administrators create, and comuni chosen
from the official ISTAT list (casework.administration.comuni), each with its own holidays.

Only an active administrator changes the tree; supervisors and case managers may not. Each
operation takes the caller's session and never commits; bad input raises InvalidInput({field:
code}) naming every wrong field at once. Every change is recorded in the administrative log
(subject "territory"), with what changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from casework.administration.comuni import IstatComune, comune_by_code
from casework.errors import CaseworkError, InvalidInput
from casework.models import (
    Beneficiary,
    ClosureDay,
    Organisation,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.reminders import queue_comune_pacts
from casework.security import changed_fields, record_admin_change

SUBJECT = "territory"
MAX_NAME = 120
# Kinds an administrator creates by name; comuni come from the ISTAT list.
GROUP_KINDS = (TerritoryKind.AMBITO, TerritoryKind.UNIONE, TerritoryKind.CONSORZIO)
_DAY_FORMATS = (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"))
MAX_CLOSURE_DAYS = 60


class NotAllowed(CaseworkError):
    """Only an active administrator edits the territory tree."""


class TerritoryNotFound(CaseworkError):
    def __init__(self, territory_id: int):
        self.territory_id = territory_id
        super().__init__(f"no territory {territory_id}")


def _check_allowed(actor: User) -> None:
    if actor is None or not actor.active or actor.role != Role.ADMIN:
        raise NotAllowed("only an administrator edits the territory tree")


def _get(session: Session, territory_id: int | None) -> Territory:
    territory = session.get(Territory, territory_id) if territory_id is not None else None
    if territory is None:
        raise TerritoryNotFound(territory_id or 0)
    return territory


def label(territory: Territory) -> str:
    if territory.kind == TerritoryKind.COMUNE and territory.province:
        return f"{territory.name} ({territory.province})"
    return territory.name


# --- reading ------------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeRow:
    territory: Territory
    depth: int
    users: int
    people: int
    programmes: int
    organisations: int

    @property
    def in_use(self) -> bool:
        return bool(self.users or self.people or self.programmes or self.organisations or self.territory.children)


def _counts(session: Session, column) -> dict[int, int]:
    return dict(session.execute(select(column, func.count()).where(column.is_not(None)).group_by(column)).all())


def territory_tree(session: Session) -> list[TreeRow]:
    """Every territory, each after its parent, siblings by name, with what hangs on it."""
    territories = session.scalars(
        select(Territory).options(selectinload(Territory.children), selectinload(Territory.closure_days))
        .order_by(Territory.name, Territory.id)
    ).all()
    users = _counts(session, User.territory_id)
    people = _counts(session, Beneficiary.comune_id)
    programmes = _counts(session, Programme.territory_id)
    organisations = _counts(session, Organisation.territory_id)
    children: dict[int | None, list[Territory]] = {}
    for territory in territories:
        children.setdefault(territory.parent_id, []).append(territory)
    rows: list[TreeRow] = []

    def visit(parent_id: int | None, depth: int) -> None:
        for territory in children.get(parent_id, []):
            rows.append(TreeRow(territory, depth, users.get(territory.id, 0), people.get(territory.id, 0),
                                programmes.get(territory.id, 0), organisations.get(territory.id, 0)))
            visit(territory.id, depth + 1)

    visit(None, 0)
    return rows


def parent_choices(session: Session, moving: Territory | None = None) -> list[TreeRow]:
    """Territories that may hold others (not comuni), minus `moving` and what lies below it."""
    below = _subtree_ids(session, moving.id) if moving is not None and moving.id is not None else set()
    return [row for row in territory_tree(session)
            if row.territory.kind != TerritoryKind.COMUNE and row.territory.id not in below]


def _subtree_ids(session: Session, territory_id: int) -> set[int]:
    ids, frontier = {territory_id}, {territory_id}
    while frontier:
        frontier = set(session.scalars(select(Territory.id).where(Territory.parent_id.in_(frontier)))) - ids
        ids |= frontier
    return ids


# --- checks -----------------------------------------------------------------------------------

def _clean_name(name: str, errors: dict[str, str]) -> str:
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = "required"
    elif len(name) > MAX_NAME:
        errors["name"] = "too_long"
    return name


def _check_parent(session: Session, parent_id: int | None, errors: dict[str, str], *,
                  moving: Territory | None = None, required: bool = False) -> Territory | None:
    if parent_id is None:
        if required:
            errors["parent_id"] = "required"
        return None
    parent = session.get(Territory, parent_id)
    if parent is None:
        errors["parent_id"] = "unknown_parent"
        return None
    if parent.kind == TerritoryKind.COMUNE:
        errors["parent_id"] = "parent_is_comune"
        return None
    if moving is not None and parent.id in _subtree_ids(session, moving.id):
        errors["parent_id"] = "cycle"
        return None
    return parent


def check_patron_day(month: int | None, day: int | None) -> tuple[int, int] | None:
    """(month, day) of a patron's day that some year has (29 February is allowed), or InvalidInput."""
    if month is None and day is None:
        return None
    if month is None or day is None:
        raise InvalidInput({"patron_day": "patron_incomplete"})
    try:
        date(2024, int(month), int(day))  # a leap year: every real day of the calendar exists in it
    except (TypeError, ValueError):
        raise InvalidInput({"patron_day": "impossible_day"}) from None
    return int(month), int(day)


def parse_closure_days(text: str) -> list[date]:
    """One day a line (or separated by commas), as 31/12/2026 or 2026-12-31; sorted, each once."""
    days: set[date] = set()
    for item in re.split(r"[\n,;]+", text or ""):
        item = item.strip()
        if not item:
            continue
        for pattern in _DAY_FORMATS:
            match = pattern.match(item)
            if match:
                parts = [int(part) for part in match.groups()]
                year, month, day = (parts[2], parts[1], parts[0]) if pattern is _DAY_FORMATS[0] else parts
                try:
                    days.add(date(year, month, day))
                except ValueError:
                    raise InvalidInput({"closure_days": "invalid_closure_day"}) from None
                break
        else:
            raise InvalidInput({"closure_days": "invalid_closure_day"})
    if len(days) > MAX_CLOSURE_DAYS:
        raise InvalidInput({"closure_days": "too_many_closure_days"})
    return sorted(days)


def _log(session: Session, actor: User, action: str, territory: Territory, changes, now: datetime,
         ip_address: str) -> None:
    record_admin_change(session, actor=actor, action=action, subject_type=SUBJECT, subject_id=territory.id,
                        subject_label=label(territory), changes=changes, now=now, ip_address=ip_address)


# --- changes ----------------------------------------------------------------------------------

def create_territory(session: Session, actor: User, *, name: str, kind: TerritoryKind | str | None,
                     parent_id: int | None, now: datetime, ip_address: str = "") -> Territory:
    """An ambito, unione or consorzio, at the top of the tree or under another such territory."""
    _check_allowed(actor)
    errors: dict[str, str] = {}
    name = _clean_name(name, errors)
    try:
        kind = TerritoryKind(kind.value if isinstance(kind, TerritoryKind) else kind)
    except ValueError:
        kind = None
    if kind not in GROUP_KINDS:
        errors["kind"] = "invalid_kind"
    parent = _check_parent(session, parent_id, errors)
    if errors:
        raise InvalidInput(errors)
    territory = Territory(name=name, kind=kind, parent=parent)
    session.add(territory)
    session.flush()
    _log(session, actor, "create", territory, changed_fields({}, {
        "name": name, "kind": kind, "parent": parent.name if parent else None}), now, ip_address)
    return territory


def add_comune(session: Session, actor: User, *, istat_code: str, parent_id: int | None, now: datetime,
               ip_address: str = "") -> Territory:
    """A comune of the ISTAT list, under an ambito, unione or consorzio; each comune once."""
    _check_allowed(actor)
    errors: dict[str, str] = {}
    found: IstatComune | None = comune_by_code((istat_code or "").strip())
    if not (istat_code or "").strip():
        errors["istat_code"] = "required"
    elif found is None:
        errors["istat_code"] = "unknown_istat_code"
    elif session.scalar(select(Territory.id).where(Territory.istat_code == found.istat_code)) is not None:
        errors["istat_code"] = "duplicate_comune"
    parent = _check_parent(session, parent_id, errors, required=True)
    if errors:
        raise InvalidInput(errors)
    assert found is not None
    territory = Territory(name=found.full_name[:MAX_NAME], kind=TerritoryKind.COMUNE, istat_code=found.istat_code,
                          province=found.province, cadastral_code=found.cadastral_code, parent_id=parent.id)
    try:
        with session.begin_nested():  # someone adding the same comune at the same moment
            session.add(territory)
            session.flush()
    except IntegrityError:
        raise InvalidInput({"istat_code": "duplicate_comune"}) from None
    _log(session, actor, "create", territory, changed_fields({}, {
        "name": territory.name, "kind": TerritoryKind.COMUNE, "istat_code": found.istat_code,
        "province": found.province, "cadastral_code": found.cadastral_code, "parent": parent.name}),
        now, ip_address)
    return territory


def update_territory(session: Session, actor: User, territory_id: int, *, name: str, parent_id: int | None,
                     now: datetime, ip_address: str = "", public_board: bool | None = None) -> Territory:
    """Rename a territory and/or move it under another parent (never below itself), and switch
    its public board of services on or off (None leaves it as it is).

    A comune keeps the ISTAT name unless renamed (e.g. to add a hamlet); it always has a parent.
    """
    _check_allowed(actor)
    territory = _get(session, territory_id)
    errors: dict[str, str] = {}
    name = _clean_name(name, errors)
    parent = _check_parent(session, parent_id, errors, moving=territory,
                           required=territory.kind == TerritoryKind.COMUNE)
    if errors:
        raise InvalidInput(errors)
    before = {"name": territory.name, "parent": territory.parent.name if territory.parent else None,
              "public_board": territory.public_board}
    territory.name = name
    territory.parent = parent
    if public_board is not None:
        territory.public_board = public_board
    changes = changed_fields(before, {"name": name, "parent": parent.name if parent else None,
                                      "public_board": territory.public_board})
    if changes:
        session.flush()
        _log(session, actor, "update", territory, changes, now, ip_address)
    return territory


def set_comune_holidays(session: Session, actor: User, territory_id: int, *, patron_month: int | None,
                        patron_day: int | None, closure_days: str | Iterable[date], now: datetime,
                        ip_address: str = "") -> Territory:
    """The comune's patron saint's day (month and day) and its extra closure days.

    Its pacts' working-day deadlines skip them: the deadline rows of its open pacts (reminders,
    escalations, Oggi) are queued for the next sweep; the next deadline shown in lists follows
    at each pact's next move.
    """
    _check_allowed(actor)
    territory = _get(session, territory_id)
    if territory.kind != TerritoryKind.COMUNE:
        raise InvalidInput({"patron_day": "not_a_comune"})
    errors: dict[str, str] = {}
    patron: tuple[int, int] | None = None
    try:
        patron = check_patron_day(patron_month, patron_day)
    except InvalidInput as error:
        errors.update(error.errors)
    days: list[date] = []
    try:
        days = parse_closure_days(closure_days) if isinstance(closure_days, str) else sorted(set(closure_days))
    except InvalidInput as error:
        errors.update(error.errors)
    if errors:
        raise InvalidInput(errors)

    def shown(month, day, closed):
        return {"patron_day": f"{day:02d}/{month:02d}" if month else None,
                "closure_days": ", ".join(d.strftime("%d/%m/%Y") for d in closed) or None}

    before = shown(territory.patron_month, territory.patron_day, [c.day for c in territory.closure_days])
    territory.patron_month, territory.patron_day = patron if patron else (None, None)
    kept = {c.day: c for c in territory.closure_days}
    territory.closure_days = [kept.get(day) or ClosureDay(day=day) for day in days]
    changes = changed_fields(before, shown(territory.patron_month, territory.patron_day, days))
    session.flush()
    if changes:
        queue_comune_pacts(session, territory.id)
        _log(session, actor, "update", territory, changes, now, ip_address)
    return territory


@dataclass(frozen=True)
class Uses:
    users: int
    people: int
    programmes: int
    organisations: int
    children: int

    def __bool__(self) -> bool:
        return bool(self.users or self.people or self.programmes or self.organisations or self.children)


def territory_uses(session: Session, territory_id: int) -> Uses:
    def count(column) -> int:
        return session.scalar(select(func.count()).where(column == territory_id)) or 0

    return Uses(count(User.territory_id), count(Beneficiary.comune_id), count(Programme.territory_id),
                count(Organisation.territory_id), count(Territory.parent_id))


def delete_territory(session: Session, actor: User, territory_id: int, *, now: datetime,
                     ip_address: str = "") -> str:
    """Remove a territory nothing uses; else InvalidInput({"territory": "in_use"}). Returns its label."""
    _check_allowed(actor)
    territory = _get(session, territory_id)
    if territory_uses(session, territory_id):
        raise InvalidInput({"territory": "in_use"})
    shown = label(territory)
    before = {"name": territory.name, "kind": territory.kind.value, "istat_code": territory.istat_code}
    _log(session, actor, "delete", territory, {field: [value, None] for field, value in before.items() if value},
         now, ip_address)
    session.delete(territory)
    session.flush()
    return shown
