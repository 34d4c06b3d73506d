"""Checking a caseload file's rows: what each will create or match, and every problem.

Nothing is written here. People are matched by codice fiscale (among everyone: a person
followed by another team is still the same person); a pact is matched when the person already
has one open in the same programme. The supervisor's scope applies: programmes of their
territory and below, case managers of their territory and below (or themselves).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.administration.caseload_import_files import REQUIRED, SourceRow, SourceTable
from casework.clock import Clock
from casework.errors import CaseworkError
from casework.i18n import gettext
from casework.models import (
    Beneficiary,
    Gender,
    Pact,
    Priority,
    Programme,
    ReferralSource,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.models.labels import GENDERS, PRIORITIES, REFERRAL_SOURCES
from casework.people import PersonDetails, compact_codice_fiscale, person_problems
from casework.security import visible_case_managers, visible_programmes
from casework.workflow import WorkflowDefinition, WorkflowRegistry

CREATE = "create"
MATCH = "match"
_LOCALES = ("it", "en")
_PERSON_COLUMNS = {
    "first_name": "first_name", "last_name": "last_name", "gender": "gender", "codice_fiscale": "codice_fiscale",
    "birth_date": "birth_date", "comune_id": "comune", "phone": "phone", "email": "email",
}
_DATE_FORMATS = (
    (re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$"), (3, 2, 1)),  # dd/mm/yyyy, as typed in Italy
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$"), (1, 2, 3)),  # ISO, as some exports write
)


class ImportNotAllowed(CaseworkError):
    """Only an active supervisor brings in a caseload (in the scope of their territory)."""


@dataclass(frozen=True)
class Problem:
    row: int  # the spreadsheet's row number (1: the header)
    column: str  # the column's key
    value: str  # as read
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlannedRow:
    number: int
    codice_fiscale: str
    full_name: str
    programme: str
    stage: str  # the state's name in the workflow
    stage_label: str
    person: str = CREATE  # CREATE or MATCH
    pact: str = CREATE
    # Resolved values the import uses (None on a row with problems).
    details: PersonDetails | None = None
    beneficiary_id: int | None = None
    programme_id: int | None = None
    workflow_name: str = ""
    case_manager_id: int | None = None
    referred_on: date | None = None
    referral_source: ReferralSource | None = None
    opened_on: date | None = None
    entered_on: date | None = None
    last_contact_on: date | None = None
    priority: Priority | None = None
    notes: str = ""


@dataclass
class CaseloadPlan:
    rows: list[PlannedRow]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, part: str, what: str) -> int:
        if part == "person":
            return len({row.codice_fiscale for row in self.rows if row.person == what})
        return sum(1 for row in self.rows if row.pact == what)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "people_created": self.count("person", CREATE), "people_matched": self.count("person", MATCH),
            "pacts_created": self.count("pact", CREATE), "pacts_matched": self.count("pact", MATCH),
        }


def comparable(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if character.isalnum()).casefold()


def _words(codes: dict[Any, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every way a file may write a code: the code itself, its label in Italian and English."""
    words: dict[str, Any] = {}
    for member, message in codes.items():
        words[comparable(member.value)] = member
        for locale in _LOCALES:
            words[comparable(gettext(locale, message))] = member
    for word, member in (extra or {}).items():
        words[comparable(word)] = member
    return words


GENDER_WORDS = _words(GENDERS, {
    "f": Gender.FEMALE, "donna": Gender.FEMALE, "femminile": Gender.FEMALE,
    "m": Gender.MALE, "uomo": Gender.MALE, "maschile": Gender.MALE, "altro": Gender.OTHER,
})
PRIORITY_WORDS = _words(PRIORITIES)
SOURCE_WORDS = _words(REFERRAL_SOURCES)


def parse_date(value: Any) -> date | None:
    """A date from a real spreadsheet date or from text (dd/mm/yyyy or yyyy-mm-dd); None if neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern, (year, month, day) in _DATE_FORMATS:
        match = pattern.match(value)
        if match:
            try:
                return date(int(match.group(year)), int(match.group(month)), int(match.group(day)))
            except ValueError:
                return None
    return None


def local_today(clock: Clock) -> date:
    return clock.now.astimezone(clock.zone).date()


def require_supervisor(user: User) -> None:
    if not (user.active and user.role == Role.SUPERVISOR):
        raise ImportNotAllowed(f"{user.role.value} may not import a caseload")


class _Lookups:
    """What the rows refer to, read once for the whole file."""

    def __init__(self, session: Session, registry: WorkflowRegistry, user: User, codes: set[str]):
        self.registry = registry
        self.user = user  # whose territory's comuni the people may live in
        self.programmes = {p.code.casefold(): p for p in session.scalars(select(Programme))}
        self.overseen = set(session.scalars(visible_programmes(user).with_only_columns(Programme.id)))
        self.users: dict[str, User] = {}
        for account in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
            self.users.setdefault(account.username.casefold(), account)
            self.users.setdefault(account.email.casefold(), account)
        self.managers = set(session.scalars(visible_case_managers(user).with_only_columns(User.id))) | {user.id}
        self.comuni_by_code: dict[str, int] = {}
        self.comuni_by_name: dict[str, list[int]] = {}
        for territory_id, name, code in session.execute(
            select(Territory.id, Territory.name, Territory.istat_code).where(Territory.kind == TerritoryKind.COMUNE)
        ):
            self.comuni_by_code[code] = territory_id
            self.comuni_by_name.setdefault(comparable(name), []).append(territory_id)
        self.people: dict[str, int] = {}
        self.open_pacts: set[tuple[int, int]] = set()
        wanted = sorted(codes)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            self.people.update(session.execute(
                select(Beneficiary.codice_fiscale, Beneficiary.id).where(Beneficiary.codice_fiscale.in_(chunk))
            ).tuples().all())
        ids = sorted(self.people.values())
        for start in range(0, len(ids), 500):
            self.open_pacts.update(session.execute(
                select(Pact.beneficiary_id, Pact.programme_id)
                .where(Pact.beneficiary_id.in_(ids[start:start + 500]), Pact.closed_at.is_(None))
            ).tuples().all())
        self.definitions: dict[str, WorkflowDefinition] = {}
        self.stage_words: dict[str, dict[str, str]] = {}

    def definition(self, workflow_name: str) -> WorkflowDefinition:
        if workflow_name not in self.definitions:
            definition = self.registry.latest(workflow_name).definition
            words: dict[str, str] = {}
            for name, state in definition.states.items():
                words[comparable(name)] = name
                for label in state.label.values():
                    words.setdefault(comparable(label), name)
            self.definitions[workflow_name] = definition
            self.stage_words[workflow_name] = words
        return self.definitions[workflow_name]


def plan_caseload(
    session: Session, registry: WorkflowRegistry, user: User, table: SourceTable, *, clock: Clock, locale: str = "it",
) -> CaseloadPlan:
    """What importing `table` would do, row by row, and every problem found (nothing written)."""
    require_supervisor(user)
    problems = [Problem(1, key, "", "missing_column") for key in REQUIRED if key not in table.columns]
    codes = {compact_codice_fiscale(str(row.values.get("codice_fiscale", ""))) for row in table.rows}
    lookups = _Lookups(session, registry, user, codes - {""})
    today = local_today(clock)
    seen: dict[tuple[str, str], int] = {}  # (codice fiscale, programme) -> first row
    created_in_file: set[str] = set()
    rows = []
    for source in table.rows:
        planned, found = _plan_row(session, lookups, source, today, locale)
        key = (planned.codice_fiscale, planned.programme.casefold())
        if planned.codice_fiscale and planned.programme:
            if key in seen:
                found.append(Problem(source.number, "codice_fiscale", planned.codice_fiscale, "duplicate_row",
                                     {"row": seen[key]}))
            else:
                seen[key] = source.number
        if planned.person == CREATE and planned.codice_fiscale in created_in_file:
            planned.person = MATCH  # the same person on an earlier row, in another programme
        created_in_file.add(planned.codice_fiscale)
        problems.extend(found)
        rows.append(planned)
    problems.sort(key=lambda problem: problem.row)
    return CaseloadPlan(rows, problems)


def _plan_row(
    session: Session, lookups: _Lookups, source: SourceRow, today: date, locale: str,
) -> tuple[PlannedRow, list[Problem]]:
    values = source.values
    problems: list[Problem] = []

    def text(key: str) -> str:
        value = values.get(key, "")
        return value.strftime("%d/%m/%Y") if isinstance(value, date) else str(value)

    def problem(key: str, code: str, **params: Any) -> None:
        problems.append(Problem(source.number, key, text(key), code, params))

    def reported(key: str) -> bool:
        return any(found.column == key for found in problems)

    for key in REQUIRED:
        if key in values and not text(key):
            problem(key, "required")

    def a_date(key: str) -> date | None:
        if not text(key):
            return None
        day = parse_date(values[key])
        if day is None:
            problem(key, "invalid_date")
        elif day > today:
            problem(key, "in_future")
            return None
        return day

    code = compact_codice_fiscale(text("codice_fiscale"))
    gender = GENDER_WORDS.get(comparable(text("gender"))) if text("gender") else None
    if text("gender") and gender is None:
        problem("gender", "unknown_gender")
    comune_id = _comune(lookups, text("comune"), problem)
    birth_date = a_date("birth_date")
    planned = PlannedRow(
        number=source.number, codice_fiscale=code, full_name=f"{text('first_name')} {text('last_name')}".strip(),
        programme=text("programme"), stage=text("stage"), stage_label=text("stage"), notes=text("notes"),
    )
    details = PersonDetails(
        first_name=text("first_name"), last_name=text("last_name"), gender=gender,  # type: ignore[arg-type]
        codice_fiscale=code, birth_date=birth_date, comune_id=comune_id, phone=text("phone"), email=text("email"),
    )
    for name, error in person_problems(session, details, today=today, user=lookups.user).items():
        column = _PERSON_COLUMNS.get(name, name)
        if not reported(column) and column in values:
            problem(column, error)
    planned.details = details
    planned.beneficiary_id = lookups.people.get(code) if code else None
    planned.person = MATCH if planned.beneficiary_id is not None else CREATE

    programme = lookups.programmes.get(text("programme").casefold()) if text("programme") else None
    if text("programme") and programme is None:
        problem("programme", "unknown_programme")
    elif programme is not None and programme.id not in lookups.overseen:
        problem("programme", "programme_not_overseen")
        programme = None
    definition = lookups.definition(programme.workflow_name) if programme is not None else None
    if definition is not None and text("stage"):
        stage = lookups.stage_words[programme.workflow_name].get(comparable(text("stage")))
        if stage is None:
            problem("stage", "unknown_stage")
        elif stage in definition.final_states:
            problem("stage", "final_stage")
        else:
            planned.stage = stage
            planned.stage_label = definition.label_of("state", stage, locale)

    manager = lookups.users.get(text("case_manager").casefold()) if text("case_manager") else None
    if text("case_manager") and manager is None:
        problem("case_manager", "unknown_case_manager")
    elif manager is not None and manager.id not in lookups.managers:
        problem("case_manager", "case_manager_not_overseen")

    source_value = SOURCE_WORDS.get(comparable(text("referral_source"))) if text("referral_source") else None
    if text("referral_source") and source_value is None:
        problem("referral_source", "unknown_referral_source")
    priority = PRIORITY_WORDS.get(comparable(text("priority"))) if text("priority") else None
    if text("priority") and priority is None:
        problem("priority", "unknown_priority")

    referred_on = a_date("referred_on")
    opened_on = a_date("opened_on")
    last_contact_on = a_date("last_contact_on")
    first_stage = definition is not None and planned.stage == definition.initial
    if definition is not None and not first_stage and "opened_on" in values and not text("opened_on"):
        problem("opened_on", "required_past_first_stage")
    if referred_on and opened_on and opened_on < referred_on:
        problem("opened_on", "opened_before_referral")
    # The first stage (the referral) is entered on the referral date: its deadline (the screening)
    # counts from the referral. A later stage is entered on the opening date: the day the office
    # took the case in is the latest day the file tells for certain.
    entered_on = referred_on if first_stage else opened_on
    if last_contact_on and entered_on and last_contact_on < entered_on and not reported("opened_on"):
        problem("last_contact_on", "contact_before_opening")

    if programme is not None and planned.beneficiary_id is not None and (
        (planned.beneficiary_id, programme.id) in lookups.open_pacts
    ):
        planned.pact = MATCH
    if programme is not None:
        planned.programme_id = programme.id
        planned.workflow_name = programme.workflow_name
    planned.case_manager_id = manager.id if manager is not None else None
    planned.referred_on, planned.referral_source = referred_on, source_value
    planned.opened_on, planned.entered_on = entered_on, entered_on
    planned.last_contact_on, planned.priority = last_contact_on, priority
    return planned, problems


def _comune(lookups: _Lookups, value: str, problem) -> int | None:
    if not value:
        return None
    if value.isdigit() and len(value) <= 6:
        found = lookups.comuni_by_code.get(value.zfill(6))
        if found is None:
            problem("comune", "unknown_comune")
        return found
    candidates = lookups.comuni_by_name.get(comparable(value), [])
    if len(candidates) == 1:
        return candidates[0]
    problem("comune", "ambiguous_comune" if candidates else "unknown_comune")
    return None
