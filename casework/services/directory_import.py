"""Importing the directory from a CSV or XLSX file (the columns of casework.services.directory_files).

A row with an `id` changes that service (one the actor keeps); a row without creates one. The
organisation is named exactly as it is among those the actor keeps; the type by its code; the
comuni by ISTAT code. A column left out of the file leaves that value as it is (a new service
takes the default); ente, nome, tipologia, accesso, costo and comuni must be there.

Every row is checked before anything is written: if any row has a problem nothing is written,
and the report names each one (row as the spreadsheet numbers it, column, code and what was
found). A dry run checks and reports the same, writing nothing. The caller commits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.errors import InvalidInput
from casework.models import Service, ServiceComune, ServiceType, Territory, TerritoryKind, User
from casework.services.directory import (
    Cleaned,
    ServiceInput,
    check_allowed,
    clean,
    cleaned_values,
    format_opening_hours,
    history_values,
    kept_services,
    reach,
    write_changes,
    write_new,
)
from casework.services.directory_files import (
    ACCESS_WORDS,
    COLUMN_NAMES,
    COLUMN_OF_FIELD,
    COLUMNS,
    COST_WORDS,
    FORMULA_START,
    SHEET,
    day_text,
)
from casework.spreadsheets import (
    EMPTY_FILE,
    NO_ROWS,
    TOO_MANY_ROWS,
    UnreadableFile,
    clean_cell,
    read_matrix,
)

REQUIRED = ("ente", "nome", "tipologia", "accesso", "costo", "comuni")
MAX_ROWS = 10_000
_YES = {"sì", "si", "s", "yes", "y", "true", "vero", "1", "x"}
_NO = {"no", "n", "false", "falso", "0"}
_ACCESS = {word: access.value for access, word in ACCESS_WORDS.items()} | {
    access.value: access.value for access in ACCESS_WORDS}
_COST = {word: cost.value for cost, word in COST_WORDS.items()} | {cost.value: cost.value for cost in COST_WORDS}
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Planned:
    number: int
    action: str
    service: Service | None
    cleaned: Cleaned


def _comparable(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if character.isalnum()).casefold()


_HEADER_KEYS = {_comparable(name): name for name in COLUMN_NAMES}


def _header(matrix: list[tuple[int, list[Any]]]) -> dict[str, int]:
    if not matrix:
        raise UnreadableFile(EMPTY_FILE)
    positions: dict[str, int] = {}
    for index, cell in enumerate(matrix[0][1]):
        key = _HEADER_KEYS.get(_comparable(str(cell))) if cell is not None else None
        if key is not None and key not in positions:
            positions[key] = index
    return positions


def _value(cells: list[Any], index: int) -> Any:
    value = cells[index] if index < len(cells) else ""
    # A description keeps its lines (clean_cell would join them); other cells as every import reads them.
    value = value.replace("\r\n", "\n").strip() if isinstance(value, str) else clean_cell(value)
    if isinstance(value, str) and value.startswith("'") and value[1:2] in FORMULA_START:
        value = value[1:]  # the apostrophe an export puts before what looks like a formula
    return value


def _list(text: str) -> list[str]:
    return [part for part in text.replace(",", ";").replace(" ", ";").split(";") if part]


class _RowProblems(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


class _Reader:
    """Turns one row's cells into a ServiceInput, collecting what cannot be read."""

    def __init__(self, session: Session, actor: User, services: dict[int, Service]):
        self.within = reach(session, actor)
        self.organisations = {organisation.name: organisation for organisation in self.within.organisations.values()}
        self.types = {kind.code: kind.id for kind in session.scalars(select(ServiceType))}
        self.comuni = dict(session.execute(
            select(Territory.istat_code, Territory.id).where(Territory.kind == TerritoryKind.COMUNE)).tuples().all())
        self.services = services

    def read(self, number: int, values: dict[str, Any]) -> tuple[Service | None, ServiceInput]:
        problems: list[Problem] = []

        def problem(column: str, code: str, value: Any = "") -> None:
            problems.append(Problem(number, column, code, {"value": str(value)}))

        service = None
        raw_id = values.get("id", "")
        if raw_id not in ("", None):
            try:
                service = self.services.get(int(str(raw_id)))
            except ValueError:
                pass
            if service is None:
                problem("id", "unknown_service", raw_id)
        data: dict[str, Any] = _current(service) if service is not None else {}

        for column, name in COLUMNS:
            if not name or column not in values:
                continue
            value = values[column]
            text = value.isoformat() if isinstance(value, date) else str(value)
            if name == "organisation_id":
                organisation = self.organisations.get(text)
                data[name] = organisation.id if organisation else None
                if text and organisation is None:
                    problem(column, "unknown_organisation", text)
            elif name == "type_id":
                data[name] = self.types.get(text)
                if text and data[name] is None:
                    problem(column, "unknown_type", text)
            elif name in ("access", "cost"):
                words = _ACCESS if name == "access" else _COST
                data[name] = words.get(text.lower(), text)
            elif name in ("company_welfare_plan", "active"):
                if text:
                    if text.lower() not in _YES | _NO:
                        problem(column, "invalid_yes_no", text)
                    data[name] = text.lower() in _YES
            elif name == "languages":
                data[name] = [code.lower() for code in _list(text)]
            elif name == "comuni":
                codes = [code.zfill(6) if code.isdigit() else code for code in _list(text)]
                unknown = [code for code in codes if code not in self.comuni]
                if unknown:
                    problem(column, "unknown_comune", ", ".join(unknown))
                data[name] = [self.comuni[code] for code in codes if code in self.comuni]
            elif name == "last_checked_on":
                data[name] = _day(value, column, problem)
            else:
                data[name] = text
        if problems:
            raise _RowProblems(problems)
        return service, ServiceInput(**data)


def _day(value: Any, column: str, problem) -> date | None:
    if isinstance(value, date):
        return value
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%d/%m/%Y").date()
    except ValueError:
        problem(column, "invalid_date", value)
        return None


def _current(service: Service) -> dict[str, Any]:
    """The service as a ServiceInput would give it: what a column left out of the file keeps."""
    values = history_values(service)
    return {
        **{name: values[name] for name in ("name", "description", "target_group", "eligibility", "opening_notes",
                                           "address", "contact_name", "contact_email", "contact_phone", "website",
                                           "cost_notes", "company_welfare_plan", "capacity", "places_available",
                                           "waiting_list", "active", "last_checked_on")},
        "organisation_id": service.organisation_id, "type_id": service.type_id, "access": service.access.value,
        "cost": service.cost.value, "opening_hours": format_opening_hours(service.opening_hours or []),
        "languages": [link.language for link in service.languages],
        "comuni": [link.territory_id for link in service.comuni],
    }


def _table(filename: str, data: bytes) -> tuple[dict[str, int], list[tuple[int, dict[str, Any]]]]:
    matrix = read_matrix(filename, data, sheet=SHEET)
    positions = _header(matrix)
    rows = []
    for number, cells in matrix[1:]:
        values = {key: _value(cells, index) for key, index in positions.items()}
        if any(value not in ("", None) for value in values.values()):
            rows.append((number, values))
    if not rows:
        raise UnreadableFile(NO_ROWS)
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(TOO_MANY_ROWS, limit=MAX_ROWS)
    return positions, rows


def import_services(session: Session, actor: User, data: bytes, filename: str, *, now: datetime, zone: ZoneInfo,
                    dry_run: bool) -> ImportReport:
    """Check every row of the file and, unless `dry_run` or any problem, write them all.

    Raises UnreadableFile when the file is no table (not CSV/XLSX, not UTF-8, no rows).
    """
    check_allowed(actor)
    positions, rows = _table(filename, data)
    report = ImportReport(rows=len(rows))
    report.problems += [Problem(1, column, "missing_column") for column in REQUIRED if column not in positions]
    if report.problems:
        return report  # every row would repeat what the header lacks
    ids = set()
    for _, values in rows:
        try:
            ids.add(int(str(values.get("id") or "")))
        except ValueError:
            pass
    services = {service.id: service for service in session.scalars(
        kept_services(actor).where(Service.id.in_(ids))
        .options(joinedload(Service.organisation), joinedload(Service.service_type),
                 selectinload(Service.comuni).joinedload(ServiceComune.territory), selectinload(Service.languages)))
    } if ids else {}
    reader = _Reader(session, actor, services)
    planned: list[_Planned] = []
    seen: dict[int, int] = {}
    for number, values in rows:
        try:
            service, given = reader.read(number, values)
        except _RowProblems as problems:
            report.problems += problems.problems
            continue
        if service is not None:
            if service.id in seen:
                report.problems.append(Problem(number, "id", "duplicate_row", {"value": str(service.id),
                                                                                "row": seen[service.id]}))
                continue
            seen[service.id] = number
        try:
            cleaned = clean(session, actor, given, current=service, now=now, zone=zone, within=reader.within)
        except InvalidInput as error:
            report.problems += [Problem(number, COLUMN_OF_FIELD.get(name, name), code,
                                        {"value": _shown(values.get(COLUMN_OF_FIELD.get(name, name), ""))})
                                for name, code in error.errors.items()]
            continue
        if service is None:
            action = CREATE
        else:
            action = UNCHANGED if history_values(service) == cleaned_values(cleaned) else UPDATE
        planned.append(_Planned(number, action, service, cleaned))
    # Left to right, as the person reads their file.
    report.problems.sort(key=lambda problem: (problem.row, positions.get(problem.column, -1)))
    actions = [plan.action for plan in planned]
    report.created, report.updated, report.unchanged = (actions.count(CREATE), actions.count(UPDATE),
                                                        actions.count(UNCHANGED))
    if dry_run or report.problems:
        return report
    for plan in planned:
        if plan.action == CREATE:
            write_new(session, actor, plan.cleaned, now=now)
        elif plan.action == UPDATE:
            assert plan.service is not None
            write_changes(session, actor, plan.service, plan.cleaned, now=now, expected_version=None)
    session.flush()
    report.written = True
    return report


def _shown(value: Any) -> str:
    return day_text(value) if isinstance(value, date) else str(value or "")
