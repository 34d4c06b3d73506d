"""Downloads for supervisors and evaluators: the pact list and the indicator tables, as CSV
or XLSX, each one recorded in the access log; and the export scope (programme, territory,
period) that the indicator and the pseudonymised dataset exports share.

How files are written: casework.reporting.export_files. The pseudonymised dataset:
casework.reporting.pseudonymised.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from casework.errors import InvalidInput
from casework.i18n import N_, Message, gettext
from casework.models import (
    Beneficiary,
    FollowUpContact,
    Pact,
    PactOutcome,
    Programme,
    Territory,
    User,
)
from casework.models.labels import PRIORITIES
from casework.reporting.export_files import (
    CSV_TYPE,
    About,
    ExportFile,
    check_format,
    csv_chunks,
    export_file,
    file_part,
    word,
)
from casework.reporting.indicators import compute, selectable_territories
from casework.reporting.period import IndicatorScope, period_problems
from casework.reporting.report_tables import Cell, Column, Table
from casework.security import (
    log_access,
    pact_visibility,
    territory_subtree,
    visible_case_managers,
    visible_programmes,
)
from casework.workflow import WorkflowDefinition, WorkflowRegistry

log = logging.getLogger(__name__)

PACT_STATUSES = ("open", "closed")
# What each export is called in the access log (the first word of the entry's detail).
KIND_PACTS = "pacts"
KIND_PSEUDONYMISED = "pseudonymised"
KIND_INDICATORS = "indicators"
KIND_INDICATOR = "indicator"


PACT_COLUMNS: tuple[tuple[str, Message, str], ...] = (
    ("pact_id", N_("Pact no."), "text"),
    ("beneficiary", N_("Beneficiary"), "text"),
    ("codice_fiscale", N_("Codice fiscale"), "text"),
    ("programme", N_("Programme"), "text"),
    ("stage", N_("Stage"), "text"),
    ("case_manager", N_("Case manager"), "text"),
    ("priority", N_("Priority"), "text"),
    ("opened_on", N_("Opened on"), "date"),
    ("closed_on", N_("Closed on"), "date"),
    ("next_deadline_on", N_("Next deadline"), "date"),
    ("last_contact_on", N_("Last contact"), "date"),
    ("outcome", N_("Outcome"), "text"),
)


# --- Shared pieces ---------------------------------------------------------------------


def local_date(value: datetime | None, zone: ZoneInfo) -> date | None:
    return value.astimezone(zone).date() if value is not None else None


def month_of(value: datetime | None, zone: ZoneInfo) -> str | None:
    return f"{value.astimezone(zone):%Y-%m}" if value is not None else None


def _day_text(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def record_export(session: Session, user: User, kind: str, fmt: str, rows: int, details: Iterable[tuple[str, object]],
            *, now: datetime, ip_address: str) -> None:
    words = [f"{kind}.{fmt}", f"rows={rows}"]
    words += [f"{name}={value if value is not None else 'all'}" for name, value in details]
    log_access(session, user, "export", "export", None, now=now, ip_address=ip_address, detail=" ".join(words))


# --- Pacts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PactFilters:
    programme_id: int | None = None
    # "workflow:state" as the export form offers it; a bare state name matches it in any workflow.
    stage: str | None = None
    case_manager_id: int | None = None
    status: str | None = None  # "open", "closed" or None for both


def _letters(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())


def programme_label(programme: Programme) -> str:
    """"CODE — Name", or the name alone when it already says the code (TILDE is named "TILDE",
    SISACT "Sis.Ac.T – ..."): a programme is named once."""
    if _letters(programme.code) in _letters(programme.name):
        return programme.name
    return f"{programme.code} — {programme.name}"


def stage_choices(registry: WorkflowRegistry, programmes: Sequence[Programme], locale: str) -> list[tuple[str, str]]:
    """The stages of the workflows the given programmes (those a supervisor oversees) follow: one
    choice per workflow and stage, valued "workflow:state", by label. A label that two workflows
    share (both have a "Segnalazione") names the programmes of each, so the two can be told apart."""
    codes: dict[str, list[str]] = {}
    for programme in programmes:
        codes.setdefault(programme.workflow_name, []).append(programme.code)
    stages: list[tuple[str, str, str]] = []
    for workflow in sorted(set(codes) & set(registry.names())):
        labels: dict[str, str] = {}
        # The latest version's words first; stages only older versions had still have pacts.
        versions = sorted((e.definition for e in registry.engines() if e.name == workflow), key=lambda d: -d.version)
        for definition in versions:
            for name in definition.states:
                labels.setdefault(name, definition.label_of("state", name, locale))
        stages.extend((workflow, name, label) for name, label in labels.items())
    shared = Counter(label.casefold() for _, _, label in stages)
    choices = [
        (f"{workflow}:{name}", f"{label} — {', '.join(codes[workflow])}" if shared[label.casefold()] > 1 else label)
        for workflow, name, label in stages
    ]
    return sorted(choices, key=lambda choice: (choice[1].casefold(), choice[0]))


@dataclass(frozen=True)
class ExportChoices:
    """What the export forms offer a supervisor."""

    programmes: list[Programme]  # those they oversee, by name
    territories: list[Territory]  # theirs and every one below it
    case_managers: list[tuple[int, str]]  # (id, full name)
    stages: list[tuple[str, str]]  # (state name, label)


def export_choices(session: Session, registry: WorkflowRegistry, user: User, locale: str) -> ExportChoices:
    managers = session.execute(
        visible_case_managers(user).with_only_columns(User.id, User.full_name).order_by(User.full_name)
    ).all()
    programmes = list(session.scalars(visible_programmes(user).order_by(Programme.name, Programme.id)))
    return ExportChoices(
        programmes=programmes,
        territories=selectable_territories(session, user),
        case_managers=[(id_, name) for id_, name in managers],
        stages=stage_choices(registry, programmes, locale),
    )


def _last_contact():
    return (
        select(func.max(FollowUpContact.contact_at)).where(FollowUpContact.pact_id == Pact.id)
        .correlate(Pact).scalar_subquery()
    )


def workflow_definition(registry: WorkflowRegistry, name: str, version: int) -> WorkflowDefinition:
    return registry.get(name, version).definition


def _pacts_query(user: User, filters: PactFilters) -> Select:
    if filters.status not in (None, *PACT_STATUSES):
        raise InvalidInput({"status": "unknown_status"})
    query = (
        select(
            Pact.id, Beneficiary.first_name, Beneficiary.last_name, Beneficiary.codice_fiscale, Programme.code,
            Pact.workflow_name, Pact.workflow_version, Pact.state, User.full_name, Pact.priority,
            Pact.opened_at, Pact.closed_at, Pact.next_deadline_at, _last_contact(), PactOutcome.outcome,
        )
        .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
        .join(Programme, Programme.id == Pact.programme_id)
        .join(User, User.id == Pact.case_manager_id)
        .outerjoin(PactOutcome, PactOutcome.pact_id == Pact.id)
        .where(pact_visibility(user))
        .order_by(Programme.code, Beneficiary.last_name, Beneficiary.first_name, Pact.id)
    )
    if filters.programme_id is not None:
        query = query.where(Pact.programme_id == filters.programme_id)
    if filters.stage:
        workflow, _, state = filters.stage.rpartition(":")
        query = query.where(Pact.state == state)
        if workflow:
            query = query.where(Pact.workflow_name == workflow)
    if filters.case_manager_id is not None:
        query = query.where(Pact.case_manager_id == filters.case_manager_id)
    if filters.status == "open":
        query = query.where(Pact.closed_at.is_(None))
    elif filters.status == "closed":
        query = query.where(Pact.closed_at.is_not(None))
    return query


def _pact_rows(session: Session, registry: WorkflowRegistry, query: Select, *, locale: str,
               zone: ZoneInfo) -> Iterator[tuple[Cell, ...]]:
    """The export's rows, read from the database a thousand at a time. Labels are looked up once
    per workflow version and value, not once per row."""
    labels: dict[tuple[str, int, str, str], str] = {}

    def label(workflow: str, version: int, kind: str, name: str) -> str:
        key = (workflow, version, kind, name)
        if key not in labels:
            labels[key] = workflow_definition(registry, workflow, version).label_of(kind, name, locale)
        return labels[key]

    priorities = {priority: gettext(locale, text) for priority, text in PRIORITIES.items()}
    for (pact_id, first_name, last_name, codice_fiscale, programme, workflow, version, state, manager, priority,
         opened_at, closed_at, deadline_at, last_contact_at, outcome) in session.execute(
            query.execution_options(yield_per=1000)):
        yield (
            pact_id, f"{first_name} {last_name}", codice_fiscale, programme,
            label(workflow, version, "state", state),
            manager,
            priorities[priority] if priority else None,
            local_date(opened_at, zone), local_date(closed_at, zone),
            local_date(deadline_at, zone),
            local_date(last_contact_at, zone),
            label(workflow, version, "outcome", outcome) if outcome else outcome,
        )


def _reported(chunks: Iterator[bytes], user_id: int) -> Iterator[bytes]:
    """`chunks`, logging a failure while they are sent. By then the status and headers are gone:
    the error goes on (the server drops the connection, so the download shows as failed rather
    than as a shorter file); nothing is written into the CSV, where a script would read it as a row."""
    sent = 0
    try:
        for chunk in chunks:
            yield chunk
            sent += len(chunk)
    except Exception:
        log.exception("pacts CSV export for user %s failed after %d bytes sent", user_id, sent)
        raise


def _pact_columns(locale: str) -> tuple[Column, ...]:
    return tuple(Column(key, gettext(locale, label), kind) for key, label, kind in PACT_COLUMNS)


def pacts_table(
    session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters, *, now: datetime,
    locale: str, zone: ZoneInfo,
) -> Table:
    """The pacts `user` may see that match `filters`, one row each, read in one query."""
    rows = tuple(_pact_rows(session, registry, _pacts_query(user, filters), locale=locale, zone=zone))
    return Table(
        key="pacts", title=word("pacts_title", locale), columns=_pact_columns(locale),
        rows=rows, note=word("pacts_note", locale, zone=zone.key),
    )


def _stage_text(stages: dict[str, str], stage: str) -> str:
    """The stage as the form offered it; a bare state name by the labels it has in any workflow."""
    if stage in stages:
        return stages[stage]
    labels = [label for value, label in stages.items() if value.rpartition(":")[2] == stage]
    return " / ".join(dict.fromkeys(labels)) or stage


def _pact_scope(session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters,
                locale: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The filters as the About sheet states them, and the programme part of the file name."""
    programme = session.get(Programme, filters.programme_id) if filters.programme_id is not None else None
    manager = session.get(User, filters.case_manager_id) if filters.case_manager_id is not None else None
    overseen = session.scalars(visible_programmes(user).order_by(Programme.name, Programme.id)).all()
    stages = dict(stage_choices(registry, overseen, locale))
    everything = word("all", locale)
    scope = (
        (word("programme", locale), programme_label(programme) if programme else everything),
        (word("stage", locale), _stage_text(stages, filters.stage) if filters.stage else everything),
        (word("case_manager", locale), manager.full_name if manager else everything),
        (word("status", locale), word(filters.status, locale) if filters.status else everything),
    )
    return scope, programme.code if programme else "all"


def export_pacts(
    session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters, *, fmt: str, now: datetime,
    locale: str, zone: ZoneInfo, ip_address: str = "", log_session: Session | None = None,
) -> ExportFile:
    """The pact list as a file, recorded in the access log (the caller commits).

    `log_session`: where the access-log entry is written when `session` reads a replica
    (which refuses writes); by default `session` itself. The same for every export below."""
    check_format(fmt)
    scope, programme_code = _pact_scope(session, registry, user, filters, locale)
    name = f"casework-pacts-{file_part(programme_code)}-{now.astimezone(zone):%Y-%m-%d}"
    if fmt == "csv":
        # Streamed (an office's every pact is a long file): counted first for the access log,
        # then read as it is sent.
        query = _pacts_query(user, filters)
        count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
        rows = _pact_rows(session, registry, query, locale=locale, zone=zone)
        exported = ExportFile(f"{name}.csv", CSV_TYPE, b"", count,
                              chunks=_reported(csv_chunks(_pact_columns(locale), rows), user.id))
    else:
        table = pacts_table(session, registry, user, filters, now=now, locale=locale, zone=zone)
        about = About(table.title, scope, now, user.full_name, locale, zone)
        exported = export_file(fmt, name, len(table.rows), csv_table=table, xlsx_tables=[table], about=about)
    record_export(log_session or session, user, KIND_PACTS, fmt, exported.rows, (
        ("programme", programme_code if filters.programme_id is not None else None), ("stage", filters.stage),
        ("case_manager", filters.case_manager_id), ("status", filters.status),
    ), now=now, ip_address=ip_address)
    return exported


# --- Scope of the indicators and of the dataset ----------------------------------------


def period_bounds(scope: IndicatorScope, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of the first local midnight of the period and of the one after it."""
    start = datetime.combine(scope.start, time(), zone)
    end = datetime.combine(scope.end + timedelta(days=1), time(), zone)
    return start, end


def check_scope(session: Session, user: User, scope: IndicatorScope) -> tuple[Programme | None, Territory | None]:
    """The scope's programme and territory, if the user oversees them; else InvalidInput
    (the same rules and codes as casework.reporting.indicators.compute)."""
    errors = period_problems(scope)
    programme = territory = None
    if scope.programme_id is not None:
        programme = session.scalars(visible_programmes(user).where(Programme.id == scope.programme_id)).first()
        if programme is None:
            errors["programme"] = "not_an_option"
    if scope.territory_id is not None:
        territory = session.scalars(
            select(Territory).where(Territory.id == scope.territory_id, Territory.id.in_(territory_subtree(user)))
        ).first()
        if territory is None:
            errors["territory"] = "not_an_option"
    if errors:
        raise InvalidInput(errors)
    return programme, territory


def scope_lines(programme: Programme | None, territory: Territory | None, scope: IndicatorScope,
                 locale: str) -> tuple[tuple[str, str], ...]:
    return (
        (word("programme", locale), programme_label(programme) if programme else word("all_programmes", locale)),
        (word("territory", locale), territory.name if territory else word("all_territories", locale)),
        (word("period", locale), f"{_day_text(scope.start)} – {_day_text(scope.end)}"),
    )


def scope_file_part(programme: Programme | None, scope: IndicatorScope) -> str:
    return f"{file_part(programme.code) if programme else 'all'}-{scope.start:%Y-%m-%d}-{scope.end:%Y-%m-%d}"


def scope_details(programme: Programme | None, scope: IndicatorScope) -> tuple[tuple[str, object], ...]:
    return (
        ("programme", programme.code if programme else None), ("territory", scope.territory_id),
        ("period", f"{scope.start:%Y-%m-%d}/{scope.end:%Y-%m-%d}"),
    )


# --- Indicators ------------------------------------------------------------------------


def chosen_tables(tables, table_key: str | None, fmt: str) -> list:
    """The one table asked for (`table_key`), or all of them for an XLSX; a CSV holds one table."""
    if table_key is not None:
        chosen = [table for table in tables if table.key == table_key]
        if not chosen:
            raise InvalidInput({"table": "unknown_table"})
        return chosen
    if fmt == "csv":
        raise InvalidInput({"table": "required_for_csv"})
    return list(tables)


def export_indicators(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, fmt: str,
    table_key: str | None = None, now: datetime, locale: str, zone: ZoneInfo, ip_address: str = "",
    log_session: Session | None = None,
) -> ExportFile:
    """Every indicator table as one XLSX, or one table (`table_key`) as CSV, recorded in the access log.

    The tables are those of `casework.reporting.indicators.compute` for the same scope: the file
    always holds the numbers the indicators page shows.
    """
    check_format(fmt)
    report = compute(session, registry, user, scope, now=now, locale=locale, zone=zone)
    programme, territory = report.programme, report.territory
    tables = chosen_tables(report.tables, table_key, fmt)
    title = word("indicators_title", locale)
    about = About(title, scope_lines(programme, territory, scope, locale), now, user.full_name, locale, zone)
    if table_key is None:
        name, kind = f"casework-indicators-{scope_file_part(programme, scope)}", KIND_INDICATORS
    else:
        name = f"casework-indicator-{file_part(table_key)}-{scope_file_part(programme, scope)}"
        kind = f"{KIND_INDICATOR}:{table_key}"
    rows = sum(len(table.rows) for table in tables)
    exported = export_file(fmt, name, rows, csv_table=tables[0], xlsx_tables=tables, about=about)
    record_export(log_session or session, user, kind, fmt, rows, scope_details(programme, scope), now=now,
                  ip_address=ip_address)
    return exported
