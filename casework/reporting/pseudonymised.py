"""The pseudonymised dataset for evaluators: one row per pact of the scope, with nothing that
names a person (see casework.reporting.dataset_fields and docs/pseudonymised-dataset.md).

Pseudonyms are keyed HMAC-SHA256: without the application's secret key they can neither be
reversed nor recomputed from a guessed id; with the same key they are the same in every
export, so evaluators can follow a person across files. Changing the key changes them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, not_, or_, select
from sqlalchemy.orm import Session, aliased

from casework.i18n import gettext
from casework.models import (
    Beneficiary,
    Pact,
    PactOutcome,
    PactRevision,
    Programme,
    Referral,
    Screening,
    Territory,
    TransitionRecord,
    User,
)
from casework.reporting.dataset_fields import DATASET_FIELDS, NEED_FIELD, dataset_fields_table
from casework.reporting.export_files import About, ExportFile, check_format, export_file, word
from casework.reporting.exports import (
    KIND_PSEUDONYMISED,
    check_scope,
    local_date,
    month_of,
    period_bounds,
    record_export,
    scope_details,
    scope_file_part,
    scope_lines,
    workflow_definition,
)
from casework.reporting.indicators import ACTIVATION, AGE_BANDS, milestone_reached
from casework.reporting.period import IndicatorScope
from casework.reporting.report_tables import Column, Table
from casework.security import pact_assignment, pact_counting, territory_and_below
from casework.small_counts import SMALLEST_SHOWN
from casework.workflow import WorkflowRegistry

# Changing this string changes every pseudonym, like changing the secret key does.
PSEUDONYM_PURPOSE = b"casework:pseudonymised-dataset:v1"
PSEUDONYM_LENGTH = 12  # base32 characters: 60 bits, no collision in any realistic caseload
AGE_UNKNOWN = "unknown"
# A restricted case the reader is not assigned to gets a pseudonym of its own, never the
# person's: joined to the same person's other pacts, it would borrow their comune.
RESTRICTED_PERSON = "restricted-beneficiary"


def pseudonym_key(secret: str) -> bytes:
    """The key pseudonyms are made with: derived from the app's secret for this purpose only."""
    if not secret:
        raise ValueError("pseudonyms need a secret key")
    return hmac.new(secret.encode("utf-8"), PSEUDONYM_PURPOSE, hashlib.sha256).digest()


def pseudonym(key: bytes, kind: str, record_id: int) -> str:
    digest = hmac.new(key, f"{kind}:{record_id}".encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:PSEUDONYM_LENGTH]


def age_band(birth_date: date | None, on: date) -> str:
    """The indicators' age band (same codes, same bounds) of someone born on `birth_date`, on `on`."""
    if birth_date is None:
        return AGE_UNKNOWN
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    reached = [code for code, lowest_age in AGE_BANDS if age >= lowest_age]
    return reached[-1] if reached else AGE_UNKNOWN


def _activation_at(registry: WorkflowRegistry):
    """When each pact first entered its workflow's activation milestone; NULL where none."""
    entered_milestone = milestone_reached(
        (engine.definition for engine in registry.engines()), ACTIVATION, Pact.workflow_name, Pact.workflow_version)
    if not entered_milestone:
        return literal(None, type_=TransitionRecord.at.type)
    return (
        select(func.min(TransitionRecord.at)).where(TransitionRecord.pact_id == Pact.id, or_(*entered_milestone))
        .correlate(Pact).scalar_subquery()
    )


def _need_areas(registry: WorkflowRegistry, workflows: Iterable[tuple[str, int]]) -> list[str]:
    areas: list[str] = []
    for name, version in workflows:
        questionnaire = workflow_definition(registry, name, version).questionnaire
        for area in questionnaire.need_areas if questionnaire else ():
            if area not in areas:
                areas.append(area)
    return areas


def _days_between(start: date, end: date | None) -> int | None:
    return (end - start).days if end is not None else None


def pseudonymised_table(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, now: datetime,
    secret: str, locale: str, zone: ZoneInfo,
) -> Table:
    """One row per pact of the scope open at some time in the period, with nothing that names
    a person: see DATASET_FIELDS and docs/pseudonymised-dataset.md.

    `now` is not needed: the dataset describes the period, and the stage is the current one.
    """
    programme, _ = check_scope(session, user, scope)
    return _dataset(session, registry, user, scope, programme, secret=secret, locale=locale, zone=zone)


def _dataset(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, programme: Programme | None,
    *, secret: str, locale: str, zone: ZoneInfo,
) -> Table:
    key = pseudonym_key(secret)
    start, end = period_bounds(scope, zone)
    comune = aliased(Territory)
    latest_screening_id = (
        select(func.max(Screening.id)).where(Screening.pact_id == Pact.id).correlate(Pact).scalar_subquery()
    )
    first_screening_at = (
        select(func.min(Screening.completed_at)).where(Screening.pact_id == Pact.id).correlate(Pact).scalar_subquery()
    )
    first_signed_on = (
        select(func.min(PactRevision.signed_on)).where(PactRevision.pact_id == Pact.id)
        .correlate(Pact).scalar_subquery()
    )
    reason = (
        select(TransitionRecord.reason)
        .where(TransitionRecord.pact_id == Pact.id, TransitionRecord.reason.is_not(None),
               TransitionRecord.to_state == Pact.state)
        .order_by(TransitionRecord.id.desc()).limit(1).correlate(Pact).scalar_subquery()
    )
    query = (
        select(
            Pact.id, Pact.beneficiary_id, Programme.code, Pact.workflow_name, Pact.workflow_version,
            # A restricted case (violence, court orders) in a small comune is findable from its comune.
            case((Programme.restricted.is_(True), None), else_=comune.istat_code), Beneficiary.gender, Beneficiary.birth_date, Beneficiary.migrant_background,
            Pact.priority, Screening.need_profile, Pact.state, Pact.opened_at, Referral.referred_on,
            first_screening_at, first_signed_on, _activation_at(registry), Pact.closed_at,
            PactOutcome.outcome, PactOutcome.goals_achieved, reason,
            and_(Programme.restricted.is_(True), not_(pact_assignment(user))),
        )
        .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
        .join(Programme, Programme.id == Pact.programme_id)
        .outerjoin(comune, comune.id == Beneficiary.comune_id)
        .outerjoin(Screening, Screening.id == latest_screening_id)
        .outerjoin(Referral, Referral.pact_id == Pact.id)
        .outerjoin(PactOutcome, PactOutcome.pact_id == Pact.id)
        .where(pact_counting(user), Pact.opened_at < end, or_(Pact.closed_at.is_(None), Pact.closed_at >= start))
    )
    if scope.programme_id is not None:
        query = query.where(Pact.programme_id == scope.programme_id)
    if scope.territory_id is not None:
        query = query.where(Beneficiary.comune_id.in_(territory_and_below(scope.territory_id, name="scope_tree")))
    found, withheld = _small_restricted_cells_withheld(session.execute(query).all())

    # The programme's workflow even without rows, so an empty file still has its columns.
    workflows = {(row.workflow_name, row.workflow_version) for row in found}
    if programme is not None:
        latest = registry.latest(programme.workflow_name)
        workflows.add((latest.name, latest.version))
    areas = _need_areas(registry, sorted(workflows))
    rows = []
    for (pact_id, beneficiary_id, programme_code, workflow, _version, istat_code, gender, birth_date, migrant,
         priority, need_profile, state, opened_at, referred_on, screened_at, signed_on, activated_at, closed_at,
         outcome, goals_achieved, reason_code, anonymous) in found:
        referral_day = referred_on or local_date(opened_at, zone)
        needs = need_profile or {}  # no screening yet: every need column empty
        rows.append((
            pseudonym(key, RESTRICTED_PERSON if anonymous else "beneficiary", beneficiary_id),
            pseudonym(key, "pact", pact_id), programme_code,
            workflow, istat_code, gender.value, age_band(birth_date, scope.end), "yes" if migrant else "no",
            priority.value if priority else None,
            *(needs.get(area) for area in areas),
            state, month_of(opened_at, zone),
            _days_between(referral_day, local_date(screened_at, zone)),
            _days_between(referral_day, signed_on),
            _days_between(referral_day, local_date(activated_at, zone)),
            month_of(closed_at, zone), outcome, goals_achieved.value if goals_achieved else None, reason_code,
        ))
    # By pseudonym, not by record number: the order of the rows must not tell who came first.
    rows.sort(key=lambda row: (row[2], row[1]))
    return Table(
        key="pseudonymised", title=word("dataset_title", locale),
        columns=_dataset_columns(areas, registry, sorted(workflows), locale),
        rows=tuple(rows), note=_note(withheld, locale),
    )


def _small_restricted_cells_withheld(found: list) -> tuple[list, list[str]]:
    """The rows without the restricted cases the reader is not assigned to of any programme
    with fewer than SMALLEST_SHOWN of them in the file (a handful of victims of violence could
    be told apart), and the codes of those programmes."""
    unassigned_restricted: dict[str, int] = {}
    for row in found:
        if row[-1]:
            unassigned_restricted[row.code] = unassigned_restricted.get(row.code, 0) + 1
    small = sorted(code for code, count in unassigned_restricted.items() if count < SMALLEST_SHOWN)
    return [row for row in found if not (row[-1] and row.code in small)], small


def _note(withheld: list[str], locale: str) -> str:
    note = word("dataset_note", locale)
    if withheld:
        note += " " + word("dataset_withheld", locale, programmes=", ".join(withheld), smallest=SMALLEST_SHOWN)
    return note


def _dataset_columns(areas: list[str], registry: WorkflowRegistry, workflows: list[tuple[str, int]],
                     locale: str) -> tuple[Column, ...]:
    area_labels: dict[str, str] = {}
    for name, version in workflows:
        definition = workflow_definition(registry, name, version)
        for area in (definition.questionnaire.need_areas if definition.questionnaire else ()):
            area_labels.setdefault(area, definition.label_of("need_area", area, locale))
    columns: list[Column] = []
    for field in DATASET_FIELDS:
        if field.key == NEED_FIELD:
            columns += [Column(f"need_{area}", f"{gettext(locale, field.label)}: {area_labels[area]}", field.kind)
                        for area in areas]
        else:
            columns.append(Column(field.key, gettext(locale, field.label), field.kind))
    return tuple(columns)


def export_pseudonymised(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, fmt: str, now: datetime,
    secret: str, locale: str, zone: ZoneInfo, ip_address: str = "", log_session: Session | None = None,
) -> ExportFile:
    """The pseudonymised dataset as a file, recorded in the access log (the caller commits);
    `log_session` as for `export_pacts`."""
    check_format(fmt)
    programme, territory = check_scope(session, user, scope)
    table = _dataset(session, registry, user, scope, programme, secret=secret, locale=locale, zone=zone)
    about = About(table.title, scope_lines(programme, territory, scope, locale), now, user.full_name, locale, zone)
    name = f"casework-pseudonymised-{scope_file_part(programme, scope)}"
    exported = export_file(fmt, name, len(table.rows), csv_table=table,
                     xlsx_tables=[table, dataset_fields_table(locale)], about=about)
    record_export(log_session or session, user, KIND_PSEUDONYMISED, fmt, exported.rows, scope_details(programme, scope),
            now=now, ip_address=ip_address)
    return exported
