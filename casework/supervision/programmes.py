"""Programmes: the territorial manager (a supervisor) creates and edits them.

Like casework.people.beneficiaries, each operation takes the caller's session and never commits;
refusals are InvalidInput({field: code}) naming every wrong field at once, for the caller
to translate. Every change lands in the edit history (ChangeRecord, entity "programme"),
one record per changed field, and creating a programme records its first values there.

Programme has no version column, yet a concurrent edit is not overwritten: the editor
carries the fingerprint of the values they read, and `update_programme` first takes the
row's write lock, then compares that fingerprint with the values stored now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from sqlalchemy import func, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

# ProgrammeConflict stays importable from here, where callers of these operations look for it.
from casework.errors import CaseworkError, InvalidInput, ProgrammeConflict  # noqa: F401
from casework.i18n import gettext
from casework.models import (
    ChangeRecord,
    Pact,
    Programme,
    ProgrammeTarget,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.security import (
    changed_fields,
    pact_counting,
    record_admin_change,
    record_changes,
    territory_subtree,
    visible_programmes,
)
from casework.small_counts import shown_count
from casework.supervision.targets import TARGET_INDICATORS
from casework.versioning import check_fingerprint, fingerprint
from casework.workflow import WorkflowRegistry, label_in

ENTITY = "programme"
_CODE = re.compile(r"^[A-Z0-9_]+$")
_FREE_INDICATOR = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
_MAX_LENGTHS = {"code": 40, "name": 200, "funder": 200}
MAX_INDICATOR_LENGTH = 60
MAX_TARGET_DESCRIPTION = 300
# A threshold beyond a year would never alert anyone about a pact left without contact.
MAX_NO_CONTACT_DAYS = 365
MAX_RETENTION_MONTHS = 600  # fifty years: longer than any rule on keeping social-service records
# The column is Numeric(12, 4): eight digits before the point.
MAX_TARGET_VALUE = Decimal(99999999)
TARGET_PLACES = Decimal("0.0001")


class NotAllowed(CaseworkError):
    """Only an active supervisor (the territorial manager) creates and edits programmes."""


class ProgrammeNotFound(CaseworkError):
    """No such programme in the supervisor's territory subtree (the caller answers 404)."""

    def __init__(self, programme_id: int):
        self.programme_id = programme_id
        super().__init__(f"no programme {programme_id} in the user's territory")


class TargetInput(NamedTuple):
    """One target as typed: an indicator code, the number the funder expects, what it means."""

    indicator: str
    value: Decimal | int | float | str | None
    description: str = ""


@dataclass(frozen=True)
class ProgrammeInput:
    """A programme as typed (it is cleaned and checked here)."""

    code: str = ""
    name: str = ""
    funder: str = ""
    description: str = ""
    territory_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    workflow_name: str = ""
    restricted: bool = False
    no_contact_days: int | None = 30
    retention_months: int | None = None  # None: people are kept until erased on request
    targets: Sequence[TargetInput | tuple[str, Any, str]] = field(default_factory=tuple)


def target_field(index: int, part: str) -> str:
    """The InvalidInput key for a part ("indicator", "value", "description") of the index-th target."""
    return f"targets-{index}-{part}"


# --- reading ------------------------------------------------------------------------------

def get_programme(session: Session, user: User, programme_id: int) -> Programme | None:
    """The programme if `user` oversees it, else None (the caller answers 404, not 403)."""
    return session.scalars(
        visible_programmes(user).where(Programme.id == programme_id).options(selectinload(Programme.targets))
    ).one_or_none()


@dataclass(frozen=True)
class TerritoryChoice:
    id: int
    name: str
    kind: TerritoryKind
    depth: int  # 0 for the user's own territory, 1 for the ones directly below...


def territory_choices(session: Session, user: User) -> list[TerritoryChoice]:
    """The territories a supervisor may place a programme in, each after its parent."""
    territories = session.scalars(
        select(Territory).where(Territory.id.in_(territory_subtree(user))).order_by(Territory.name)
    ).all()
    children: dict[int | None, list[Territory]] = {}
    known = {territory.id for territory in territories}
    for territory in territories:
        children.setdefault(territory.parent_id if territory.parent_id in known else None, []).append(territory)
    ordered: list[TerritoryChoice] = []

    def visit(parent_id: int | None, depth: int) -> None:
        for territory in children.get(parent_id, []):
            ordered.append(TerritoryChoice(territory.id, territory.name, territory.kind, depth))
            visit(territory.id, depth + 1)

    visit(None, 0)
    return ordered


def workflow_choices(registry: WorkflowRegistry, locale: str) -> list[tuple[str, str]]:
    """(name, label) of every workflow a programme may run, labels in `locale`."""
    return [(name, label_in(registry.latest(name).definition.label, locale)) for name in registry.names()]


def workflow_label(registry: WorkflowRegistry, name: str, locale: str) -> str:
    if name not in registry.names():
        return name  # a workflow file since removed: its name is all there is to show
    return label_in(registry.latest(name).definition.label, locale)


@dataclass(frozen=True)
class TargetLine:
    indicator: str
    label: str  # the measured indicator's name in the user's language; the code when not measured
    value: Decimal
    kind: str | None  # "count" or "share" when Casework measures it, None when it does not
    description: str

    @property
    def measured(self) -> bool:
        return self.kind is not None


@dataclass(frozen=True)
class ProgrammeRow:
    programme: Programme
    territory: str
    workflow: str
    # Every open pact of the programme; a restricted programme's small count is withheld ("<5").
    open_pacts: int | str
    targets: list[TargetLine]


def target_lines(programme: Programme, locale: str) -> list[TargetLine]:
    lines = []
    for target in programme.targets:
        measured = TARGET_INDICATORS.get(target.indicator)
        lines.append(TargetLine(
            indicator=target.indicator,
            label=gettext(locale, measured.label) if measured else target.indicator,
            value=target.value, kind=measured.kind if measured else None, description=target.description,
        ))
    return lines


def programme_overview(session: Session, registry: WorkflowRegistry, user: User, *, locale: str) -> list[ProgrammeRow]:
    """The programmes a supervisor oversees, by name, with their open pacts and targets."""
    programmes = session.scalars(
        visible_programmes(user)
        .options(joinedload(Programme.territory), selectinload(Programme.targets))
        .order_by(Programme.name, Programme.id)
    ).all()
    if not programmes:
        return []
    # A second statement, not a join: both access conditions hold a CTE of the same name.
    open_counts = dict(session.execute(
        select(Pact.programme_id, func.count())
        .where(pact_counting(user), Pact.closed_at.is_(None),
               Pact.programme_id.in_([programme.id for programme in programmes]))
        .group_by(Pact.programme_id)
    ).tuples().all())
    return [
        ProgrammeRow(
            programme=programme, territory=programme.territory.name,
            workflow=workflow_label(registry, programme.workflow_name, locale),
            open_pacts=shown_count(open_counts.get(programme.id, 0)) if programme.restricted
            else open_counts.get(programme.id, 0), targets=target_lines(programme, locale),
        )
        for programme in programmes
    ]


def _plain_number(value: Decimal) -> str:
    """300.0000 -> "300", 0.8000 -> "0.8": the same text whatever the database gives back."""
    return format(value.quantize(TARGET_PLACES).normalize(), "f")


def programme_fingerprint(programme: Programme) -> str:
    """A digest of every value the edit form shows: it changes whenever anyone saves a change."""
    values = {
        "code": programme.code, "name": programme.name, "funder": programme.funder,
        "description": programme.description, "territory_id": programme.territory_id,
        "starts_on": programme.starts_on.isoformat(),
        "ends_on": programme.ends_on.isoformat() if programme.ends_on else None,
        "workflow_name": programme.workflow_name, "restricted": bool(programme.restricted),
        "no_contact_days": programme.no_contact_days, "retention_months": programme.retention_months,
        "targets": sorted(
            [target.indicator, _plain_number(target.value), target.description] for target in programme.targets
        ),
    }
    return fingerprint(values)


def has_pacts(session: Session, programme_id: int) -> bool:
    """Whether any pact, open or closed, runs in the programme.

    Deliberately not scoped by `pact_visibility`: a restricted case the supervisor cannot
    see still runs on the programme's workflow. Only the yes/no leaves this function.
    """
    return session.scalar(select(true()).where(Pact.programme_id == programme_id).limit(1)) is not None


# --- checks -------------------------------------------------------------------------------

def _require_supervisor(user: User) -> None:
    if not user.active or user.role != Role.SUPERVISOR:
        raise NotAllowed(f"{user.role.value} may not create or change programmes")


def _in_subtree(session: Session, user: User, territory_id: int) -> bool:
    query = select(Territory.id).where(Territory.id == territory_id, Territory.id.in_(territory_subtree(user)))
    return session.scalar(query) is not None


def _as_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return Decimal("NaN")
    return number


def _value_problem(value: Decimal | None, kind: str | None) -> str | None:
    if value is None:
        return "required"
    if not value.is_finite():
        return "not_a_number"
    if value < 0:
        return "negative"
    if kind == "share" and value > 1:
        return "share_out_of_range"
    if value > MAX_TARGET_VALUE:
        return "too_large"
    if kind == "count" and value != value.to_integral_value():
        return "not_whole"
    return None


def _cleaned_targets(targets: Sequence[Any], errors: dict[str, str]) -> list[tuple[str, Decimal, str]]:
    cleaned: list[tuple[str, Decimal, str]] = []
    seen: set[str] = set()
    for index, target in enumerate(targets):
        raw_indicator, raw_value, raw_description = TargetInput(*target)
        indicator = (raw_indicator or "").strip()
        description = (raw_description or "").strip()
        value = _as_decimal(raw_value)
        measured = TARGET_INDICATORS.get(indicator)
        if not indicator:
            errors[target_field(index, "indicator")] = "required"
        elif len(indicator) > MAX_INDICATOR_LENGTH:
            errors[target_field(index, "indicator")] = "too_long"
        elif measured is None and not _FREE_INDICATOR.match(indicator):
            errors[target_field(index, "indicator")] = "invalid_indicator"
        elif indicator in seen:
            errors[target_field(index, "indicator")] = "duplicate_indicator"
        seen.add(indicator)
        problem = _value_problem(value, measured.kind if measured else None)
        if problem:
            errors[target_field(index, "value")] = problem
        if len(description) > MAX_TARGET_DESCRIPTION:
            errors[target_field(index, "description")] = "too_long"
        elif measured is None and indicator and not description:
            # Casework cannot compute it: the words are all a reader will have.
            errors[target_field(index, "description")] = "describe_unmeasured"
        if value is not None and not problem:
            cleaned.append((indicator, value.quantize(TARGET_PLACES), description))
    return cleaned


def _cleaned(
    session: Session, registry: WorkflowRegistry, user: User, data: ProgrammeInput, current: Programme | None,
) -> tuple[dict[str, Any], list[tuple[str, Decimal, str]]]:
    """The values to store, or InvalidInput naming every field that is wrong at once."""
    values: dict[str, Any] = {
        "code": (data.code or "").strip(), "name": (data.name or "").strip(), "funder": (data.funder or "").strip(),
        "description": (data.description or "").strip(), "territory_id": data.territory_id,
        "starts_on": data.starts_on, "ends_on": data.ends_on, "workflow_name": (data.workflow_name or "").strip(),
        "restricted": bool(data.restricted), "no_contact_days": data.no_contact_days,
        "retention_months": data.retention_months,
    }
    errors: dict[str, str] = {}
    for name, limit in _MAX_LENGTHS.items():
        if not values[name]:
            errors[name] = "required"
        elif len(values[name]) > limit:
            errors[name] = "too_long"
    if "code" not in errors:
        if not _CODE.match(values["code"]):
            errors["code"] = "invalid_code"
        elif _code_taken(session, values["code"], current):
            errors["code"] = "already_used"
    if values["territory_id"] is None:
        errors["territory_id"] = "required"
    elif not _in_subtree(session, user, values["territory_id"]):
        errors["territory_id"] = "outside_territory"
    if values["starts_on"] is None:
        errors["starts_on"] = "required"
    elif values["ends_on"] is not None and values["ends_on"] < values["starts_on"]:
        errors["ends_on"] = "ends_before_starts"
    if not values["workflow_name"]:
        errors["workflow_name"] = "required"
    elif values["workflow_name"] not in registry.names():
        errors["workflow_name"] = "unknown_workflow"
    elif current is not None and values["workflow_name"] != current.workflow_name and has_pacts(session, current.id):
        # Running pacts keep the workflow they opened with; the programme would then hold two.
        errors["workflow_name"] = "workflow_in_use"
    if current is not None and current.restricted and not values["restricted"] and has_pacts(session, current.id):
        # Lifting the restriction would show victims' and offenders' records to every supervisor.
        errors["restricted"] = "restriction_in_use"
    days = values["no_contact_days"]
    if days is None:
        errors["no_contact_days"] = "required"
    elif days < 1:
        errors["no_contact_days"] = "at_least_one"
    elif days > MAX_NO_CONTACT_DAYS:
        errors["no_contact_days"] = "too_many_days"
    months = values["retention_months"]
    if months is not None and not 1 <= months <= MAX_RETENTION_MONTHS:
        errors["retention_months"] = "retention_out_of_range"
    targets = _cleaned_targets(data.targets, errors)
    if errors:
        raise InvalidInput(errors)
    return values, targets


def _code_taken(session: Session, code: str, current: Programme | None) -> bool:
    # Among every programme, not only the supervisor's: the code is unique across Casework.
    query = select(Programme.id).where(Programme.code == code)
    if current is not None:
        query = query.where(Programme.id != current.id)
    return session.scalar(query.limit(1)) is not None


# --- history ------------------------------------------------------------------------------

HISTORY_FIELDS = (
    "code", "name", "funder", "description", "territory", "starts_on", "ends_on", "workflow_name", "restricted",
    "no_contact_days", "retention_months",
)


def target_text(indicator: str, value: Decimal, description: str) -> str:
    """A target as the edit history keeps it."""
    text = f"{indicator}: {_plain_number(value)}"
    return f"{text} ({description})" if description else text


def _history_values(session: Session, programme: Programme) -> dict[str, Any]:
    """The fields as the edit history shows them: the territory by name, not by id."""
    territory = session.scalar(select(Territory.name).where(Territory.id == programme.territory_id)) or ""
    values = {name: getattr(programme, name) for name in HISTORY_FIELDS if name != "territory"}
    values["territory"] = territory
    return values


def _record_target_changes(
    session: Session, programme_id: int, before: dict[str, str], after: dict[str, str], *, actor: User, now: datetime,
) -> list[ChangeRecord]:
    records: list[ChangeRecord] = []
    for indicator in sorted(before.keys() | after.keys()):
        records += record_changes(
            session, ENTITY, programme_id, {"target": before.get(indicator, "")},
            {"target": after.get(indicator, "")}, actor=actor, now=now,
        )
    return records


def _targets_text(programme: Programme) -> dict[str, str]:
    return {
        target.indicator: target_text(target.indicator, target.value, target.description)
        for target in programme.targets
    }


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another programme took the code between the check and now. The session must be
        # rolled back by the caller, as after any failed flush.
        raise InvalidInput({"code": "already_used"}) from None


# --- writing ------------------------------------------------------------------------------

def _log_admin_change(session: Session, supervisor: User, action: str, programme: Programme,
                      before: dict[str, Any], targets_before: dict[str, str], *, now: datetime,
                      ip_address: str) -> None:
    after = {**_history_values(session, programme),
             **{f"target:{key}": value for key, value in _targets_text(programme).items()}}
    before = {**before, **{f"target:{key}": value for key, value in targets_before.items()}}
    changes = changed_fields(before, after)
    if not changes and action == "update":
        return  # an edit that changed nothing is no administrative change
    record_admin_change(session, actor=supervisor, action=action, subject_type="programme",
                        subject_id=programme.id, subject_label=programme.code,
                        changes=changes, now=now, ip_address=ip_address)


def create_programme(
    session: Session, registry: WorkflowRegistry, supervisor: User, data: ProgrammeInput, *, now: datetime,
    ip_address: str = "",
) -> Programme:
    """Create a programme in the supervisor's territory subtree; its first values go to the history."""
    _require_supervisor(supervisor)
    values, targets = _cleaned(session, registry, supervisor, data, current=None)
    programme = Programme(**values, targets=[
        ProgrammeTarget(indicator=indicator, value=value, description=description)
        for indicator, value, description in targets
    ])
    session.add(programme)
    _flush(session)
    record_changes(session, ENTITY, programme.id, {}, _history_values(session, programme), actor=supervisor, now=now)
    _record_target_changes(session, programme.id, {}, _targets_text(programme), actor=supervisor, now=now)
    _log_admin_change(session, supervisor, "create", programme, {}, {}, now=now, ip_address=ip_address)
    return programme


def _lock_for_edit(session: Session, user: User, programme_id: int) -> Programme:
    """The programme as stored now, with its row write-locked until the transaction ends.

    The no-op UPDATE is the lock on both databases: PostgreSQL holds the row; SQLite, whose
    transaction begins with this write (if no earlier one did), holds the database's write lock. A second editor
    waits here, then reads what the first one saved. The UPDATE names the row by id alone:
    prefixed with the subtree's WITH clause, SQLite's driver would not see a write and would
    run it outside any transaction; the read that follows is the access check.
    """
    locked = session.execute(
        update(Programme).where(Programme.id == programme_id).values(code=Programme.code)
        .execution_options(synchronize_session=False)
    )
    programme = session.scalars(
        visible_programmes(user).where(Programme.id == programme_id)
        .options(selectinload(Programme.targets))
        .execution_options(populate_existing=True)
    ).one_or_none() if locked.rowcount == 1 else None
    if programme is None:
        raise ProgrammeNotFound(programme_id)
    return programme


def _apply_targets(programme: Programme, targets: list[tuple[str, Decimal, str]]) -> None:
    # Matched by indicator: deleting and re-adding one would trip the (programme, indicator)
    # unique constraint within one flush.
    wanted = {indicator: (value, description) for indicator, value, description in targets}
    for target in list(programme.targets):
        if target.indicator not in wanted:
            programme.targets.remove(target)
            continue
        value, description = wanted.pop(target.indicator)
        if target.value != value:
            target.value = value
        if target.description != description:
            target.description = description
    for indicator, (value, description) in wanted.items():
        programme.targets.append(ProgrammeTarget(indicator=indicator, value=value, description=description))


def update_programme(
    session: Session, registry: WorkflowRegistry, supervisor: User, programme_id: int, data: ProgrammeInput, *,
    now: datetime, read_fingerprint: str | None = None, ip_address: str = "",
) -> Programme:
    """Change a programme the supervisor oversees, keeping one ChangeRecord per changed field.

    `read_fingerprint` is `programme_fingerprint` of the programme as the editor read it;
    if the stored programme differs, ProgrammeConflict is raised and nothing is written.
    None skips the check (a caller that read and writes in this same transaction).
    """
    _require_supervisor(supervisor)
    programme = _lock_for_edit(session, supervisor, programme_id)
    check_fingerprint(programme, read_fingerprint, programme_fingerprint(programme))
    values, targets = _cleaned(session, registry, supervisor, data, current=programme)
    before, targets_before = _history_values(session, programme), _targets_text(programme)
    for name, value in values.items():
        if getattr(programme, name) != value:
            setattr(programme, name, value)
    _apply_targets(programme, targets)
    _flush(session)
    record_changes(session, ENTITY, programme.id, before, _history_values(session, programme),
                   actor=supervisor, now=now)
    _record_target_changes(session, programme.id, targets_before, _targets_text(programme), actor=supervisor, now=now)
    _log_admin_change(session, supervisor, "update", programme, before, targets_before, now=now, ip_address=ip_address)
    return programme


@dataclass(frozen=True)
class ProgrammeHistory:
    programme: Programme
    changes: list[ChangeRecord]  # oldest first


def programme_history(session: Session, user: User, programme_id: int) -> ProgrammeHistory | None:
    """The edit history of a programme the user oversees; None if they do not (404)."""
    programme = get_programme(session, user, programme_id)
    if programme is None:
        return None
    changes = session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == ENTITY, ChangeRecord.entity_id == programme_id)
        .options(joinedload(ChangeRecord.actor)).order_by(ChangeRecord.at, ChangeRecord.id)
    ).all()
    return ProgrammeHistory(programme, list(changes))
