"""Downloads for supervisors and evaluators: the pact list, the indicator tables and the
pseudonymised dataset, as CSV or XLSX, each one recorded in the access log.

File conventions (the same for every export):

- CSV: UTF-8 with a byte-order mark (so Excel recognises the encoding), comma separated,
  one header row of the columns' stable ASCII keys (labels change with the language, keys
  do not, and scripts read keys). Dates ISO 8601 (YYYY-MM-DD), numbers with a dot, shares as
  fractions 0..1, an empty field for "no value". Text that a spreadsheet would run as a
  formula (starting with = + - @) is written after an apostrophe.
- XLSX: a first sheet "About" (what the file holds, the scope, when and by whom it was
  produced, and every sheet's columns with their keys), then one sheet per table with a
  header row of labels in the reader's language; each header cell carries the column's key
  as a comment. Numbers are numbers, dates are dates (dd/mm/yyyy), shares are numbers with
  a percentage format, days have one decimal when they have a fraction.

Pseudonyms are keyed HMAC-SHA256: without the application's secret key they can neither be
reversed nor recomputed from a guessed id; with the same key they are the same in every
export, so evaluators can follow a person across files. Changing the key changes them all.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from casework.security.access import (
    pact_visibility,
    territory_and_below,
    territory_subtree,
    visible_case_managers,
    visible_programmes,
)
from casework.security.audit import log_access
from casework.errors import InvalidInput
from casework.reporting.indicators import (
    ACTIVATION,
    AGE_BANDS,
    IndicatorScope,
    compute,
    milestone_reached,
    period_problems,
    selectable_territories,
)
from casework.models import (
    Beneficiary,
    FollowUpContact,
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
from casework.reporting.report_tables import Cell, Column, Table
from casework.workflow.definition import Labels, WorkflowDefinition, label_in
from casework.workflow.engine import WorkflowRegistry

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PACT_STATUSES = ("open", "closed")
# What each export is called in the access log (the first word of the entry's detail).
KIND_PACTS = "pacts"
KIND_PSEUDONYMISED = "pseudonymised"
KIND_INDICATORS = "indicators"
KIND_INDICATOR = "indicator"
# Changing this string changes every pseudonym, like changing the secret key does.
PSEUDONYM_PURPOSE = b"casework:pseudonymised-dataset:v1"
PSEUDONYM_LENGTH = 12  # base32 characters: 60 bits, no collision in any realistic caseload
SHEET_NAME_LIMIT = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

WORDS: dict[str, Labels] = {
    "about": {"it": "Informazioni", "en": "About"},
    "produced_at": {"it": "Prodotto il", "en": "Produced on"},
    "produced_by": {"it": "Prodotto da", "en": "Produced by"},
    "sheet": {"it": "Foglio", "en": "Sheet"},
    "contents": {"it": "Contenuto", "en": "Contents"},
    "notes": {"it": "Note", "en": "Notes"},
    "column": {"it": "Colonna", "en": "Column"},
    "key": {"it": "Chiave (intestazione CSV)", "en": "Key (CSV header)"},
    "columns_help": {
        "it": "Le intestazioni dei fogli sono nella lingua di chi ha prodotto il file; ogni intestazione "
              "ha un commento con la chiave stabile, la stessa usata come intestazione nei file CSV.",
        "en": "Sheet headers are in the producer's language; each header has a comment with the stable "
              "key, the same one used as the header of the CSV files.",
    },
    "all": {"it": "Tutti", "en": "All"},
    "all_programmes": {"it": "Tutti i progetti visibili", "en": "All programmes you can see"},
    "all_territories": {"it": "Tutto il territorio", "en": "The whole territory"},
    "programme": {"it": "Progetto", "en": "Programme"},
    "territory": {"it": "Territorio", "en": "Territory"},
    "period": {"it": "Periodo", "en": "Period"},
    "stage": {"it": "Fase", "en": "Stage"},
    "case_manager": {"it": "Welfare manager di caso", "en": "Case manager"},
    "status": {"it": "Stato", "en": "Status"},
    "open": {"it": "Aperti", "en": "Open"},
    "closed": {"it": "Chiusi", "en": "Closed"},
    "pacts_title": {"it": "Patti", "en": "Pacts"},
    "pacts_note": {
        "it": "Patti che chi ha prodotto il file può vedere. Date nel fuso Europe/Rome.",
        "en": "Pacts the producer of the file may see. Dates in the Europe/Rome zone.",
    },
    "indicators_title": {"it": "Indicatori", "en": "Indicators"},
    "dataset_title": {"it": "Dataset pseudonimizzato", "en": "Pseudonymised dataset"},
    "dataset_note": {
        "it": "Una riga per patto aperto in qualche momento del periodo. Nessun nome, codice fiscale, "
              "testo libero o data esatta; pseudonimi stabili finché non cambia la chiave segreta "
              "dell'applicazione. Campi descritti nel foglio dei campi e in docs/pseudonymised-dataset.md.",
        "en": "One row per pact open at some time in the period. No names, codice fiscale, free text or "
              "exact dates; pseudonyms stay the same while the application's secret key does. Fields "
              "described in the fields sheet and in docs/pseudonymised-dataset.md.",
    },
    "fields_title": {"it": "Campi del dataset", "en": "Dataset fields"},
    "field_type": {"it": "Tipo", "en": "Type"},
    "field_meaning": {"it": "Significato", "en": "Meaning"},
    "field_values": {"it": "Valori possibili", "en": "Possible values"},
}

PRIORITY_LABELS: dict[str, Labels] = {
    "low": {"it": "Bassa", "en": "Low"},
    "medium": {"it": "Media", "en": "Medium"},
    "high": {"it": "Alta", "en": "High"},
}

PACT_COLUMNS: tuple[tuple[str, Labels, str], ...] = (
    ("pact_id", {"it": "Patto n.", "en": "Pact no."}, "text"),
    ("beneficiary", {"it": "Beneficiario/a", "en": "Beneficiary"}, "text"),
    ("codice_fiscale", {"it": "Codice fiscale", "en": "Codice fiscale"}, "text"),
    ("programme", {"it": "Progetto", "en": "Programme"}, "text"),
    ("stage", {"it": "Fase", "en": "Stage"}, "text"),
    ("case_manager", {"it": "Welfare manager di caso", "en": "Case manager"}, "text"),
    ("priority", {"it": "Priorità", "en": "Priority"}, "text"),
    ("opened_on", {"it": "Aperto il", "en": "Opened on"}, "date"),
    ("closed_on", {"it": "Chiuso il", "en": "Closed on"}, "date"),
    ("next_deadline_on", {"it": "Prossima scadenza", "en": "Next deadline"}, "date"),
    ("last_contact_on", {"it": "Ultimo contatto", "en": "Last contact"}, "date"),
    ("outcome", {"it": "Esito", "en": "Outcome"}, "text"),
)

AGE_UNKNOWN = "unknown"
NEED_FIELD = "need_<area>"  # documents the one column per need area of the questionnaire


@dataclass(frozen=True)
class FieldDoc:
    """One field of the pseudonymised dataset, as the fields sheet and the export page show it."""

    key: str
    kind: str  # the Column kind
    type: str  # "code" or "integer"
    label: Labels  # the XLSX header
    meaning: Labels
    values: Labels


FIELD_TYPES: dict[str, Labels] = {
    "code": {"it": "codice (testo)", "en": "code (text)"},
    "integer": {"it": "numero intero", "en": "whole number"},
}
_YES_NO = {"it": "yes, no", "en": "yes, no"}
DATASET_FIELDS: tuple[FieldDoc, ...] = (
    FieldDoc("person", "text", "code",
             {"it": "Persona", "en": "Person"},
             {"it": "Pseudonimo della persona: lo stesso in ogni patto e in ogni esportazione con la stessa chiave",
              "en": "Pseudonym of the person: the same in every pact and every export made with the same key"},
             {"it": "12 caratteri A-Z, 2-7", "en": "12 characters A-Z, 2-7"}),
    FieldDoc("pact", "text", "code",
             {"it": "Patto", "en": "Pact"},
             {"it": "Pseudonimo del patto", "en": "Pseudonym of the pact"},
             {"it": "12 caratteri A-Z, 2-7", "en": "12 characters A-Z, 2-7"}),
    FieldDoc("programme", "text", "code",
             {"it": "Progetto", "en": "Programme"},
             {"it": "Codice del progetto", "en": "Programme code"},
             {"it": "per esempio TILDE, CHANCE", "en": "e.g. TILDE, CHANCE"}),
    FieldDoc("workflow", "text", "code",
             {"it": "Percorso", "en": "Workflow"},
             {"it": "Percorso (workflow) del patto: dà il significato dei codici di fase ed esito",
              "en": "The pact's workflow: gives the meaning of the stage and outcome codes"},
             {"it": "per esempio patto_personalizzato", "en": "e.g. patto_personalizzato"}),
    FieldDoc("comune_istat", "text", "code",
             {"it": "Comune (ISTAT)", "en": "Comune (ISTAT)"},
             {"it": "Codice ISTAT del comune di residenza", "en": "ISTAT code of the comune of residence"},
             {"it": "6 cifre; vuoto se non registrato e per i progetti riservati (violenza, provvedimenti "
                    "giudiziari), dove il comune basterebbe a riconoscere la persona",
              "en": "6 digits; empty when not recorded, and for restricted programmes (violence, court orders), "
                    "where the comune alone could point to the person"}),
    FieldDoc("gender", "text", "code",
             {"it": "Genere", "en": "Gender"},
             {"it": "Genere registrato nella scheda della persona", "en": "Gender as recorded in the person's record"},
             {"it": "female, male, other", "en": "female, male, other"}),
    FieldDoc("age_band", "text", "code",
             {"it": "Fascia d'età", "en": "Age band"},
             {"it": "Fascia d'età all'ultimo giorno del periodo", "en": "Age band on the last day of the period"},
             {"it": "under_18, 18_24, 25_34, 35_49, 50_64, 65_over, unknown",
              "en": "under_18, 18_24, 25_34, 35_49, 50_64, 65_over, unknown"}),
    FieldDoc("migrant_background", "text", "code",
             {"it": "Background migratorio", "en": "Migrant background"},
             {"it": "La persona ha un background migratorio (come registrato)",
              "en": "Whether the person has a migrant background (as recorded)"}, _YES_NO),
    FieldDoc("priority", "text", "code",
             {"it": "Priorità", "en": "Priority"},
             {"it": "Priorità data dallo screening", "en": "Priority from the screening"},
             {"it": "low, medium, high; vuoto prima dello screening",
              "en": "low, medium, high; empty before the screening"}),
    FieldDoc("need_<area>", "count", "integer",
             {"it": "Bisogno", "en": "Need"},
             {"it": "Punteggio di bisogno dell'area (ultimo screening); una colonna per area del questionario",
              "en": "Need score of the area (latest screening); one column per area of the questionnaire"},
             {"it": "intero ≥ 0; vuoto senza screening", "en": "whole number ≥ 0; empty without a screening"}),
    FieldDoc("stage", "text", "code",
             {"it": "Fase", "en": "Stage"},
             {"it": "Fase del patto alla data dell'esportazione (codice dello stato nel workflow)",
              "en": "Stage of the pact when exported (the workflow's state code)"},
             {"it": "per esempio referral, follow_up, closed, withdrawn",
              "en": "e.g. referral, follow_up, closed, withdrawn"}),
    FieldDoc("opened_month", "text", "code",
             {"it": "Mese di apertura", "en": "Month opened"},
             {"it": "Mese di apertura del patto", "en": "Month the pact was opened"},
             {"it": "AAAA-MM", "en": "YYYY-MM"}),
    FieldDoc("days_to_screening", "days", "integer",
             {"it": "Giorni allo screening", "en": "Days to screening"},
             {"it": "Giorni di calendario dalla segnalazione al primo screening completato",
              "en": "Calendar days from the referral to the first completed screening"},
             {"it": "intero; vuoto se non avvenuto", "en": "whole number; empty if it has not happened"}),
    FieldDoc("days_to_signature", "days", "integer",
             {"it": "Giorni alla firma", "en": "Days to signature"},
             {"it": "Giorni di calendario dalla segnalazione alla prima firma del patto",
              "en": "Calendar days from the referral to the first signature of the pact"},
             {"it": "intero; vuoto se non avvenuto", "en": "whole number; empty if it has not happened"}),
    FieldDoc("days_to_activation", "days", "integer",
             {"it": "Giorni all'attivazione", "en": "Days to activation"},
             {"it": "Giorni di calendario dalla segnalazione al primo ingresso nella fase di attivazione",
              "en": "Calendar days from the referral to first entering the activation stage"},
             {"it": "intero; vuoto se non avvenuto o se il workflow non ha una fase di attivazione",
              "en": "whole number; empty if it has not happened or the workflow has no activation stage"}),
    FieldDoc("closed_month", "text", "code",
             {"it": "Mese di chiusura", "en": "Month closed"},
             {"it": "Mese di chiusura del patto", "en": "Month the pact was closed"},
             {"it": "AAAA-MM; vuoto se aperto", "en": "YYYY-MM; empty while open"}),
    FieldDoc("outcome", "text", "code",
             {"it": "Esito", "en": "Outcome"},
             {"it": "Codice dell'esito registrato alla chiusura", "en": "Code of the outcome recorded at closure"},
             {"it": "codici del workflow, per esempio work_entered, school_reenrolled",
              "en": "the workflow's codes, e.g. work_entered, school_reenrolled"}),
    FieldDoc("goals_achieved", "text", "code",
             {"it": "Obiettivi raggiunti", "en": "Goals achieved"},
             {"it": "Quanto sono stati raggiunti gli obiettivi del patto, registrato con l'esito",
              "en": "How far the pact's goals were achieved, recorded with the outcome"},
             {"it": "fully, partly, not; vuoto senza esito", "en": "fully, partly, not; empty without an outcome"}),
    FieldDoc("withdrawal_reason", "text", "code",
             {"it": "Motivo della rinuncia", "en": "Withdrawal reason"},
             {"it": "Motivo scelto nel passaggio alla fase attuale (per esempio della rinuncia)",
              "en": "Reason chosen on the move into the current stage (e.g. of the withdrawal)"},
             {"it": "codici dei motivi del workflow; vuoto se nessuno",
              "en": "the workflow's reason codes; empty if none"}),
)


def _word(key: str, locale: str) -> str:
    return label_in(WORDS[key], locale)


# --- Writers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class About:
    """What the first sheet of an XLSX says: the title, the scope, when and by whom."""

    title: str
    scope: tuple[tuple[str, str], ...]  # (label, value) pairs in the reader's language
    produced_at: datetime  # aware
    producer: str
    locale: str
    zone: ZoneInfo


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def table_to_csv(table: Table) -> bytes:
    """The table as CSV: a BOM, a header row of column keys, then the rows (see the module doc)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([column.key for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _sheet_names(tables: Sequence[Table], reserved: str) -> list[str]:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique ignoring case."""
    taken = {reserved.lower()}
    names = []
    for table in tables:
        base = _SHEET_FORBIDDEN.sub(" ", table.title or table.key).strip() or table.key
        name, number = base[:SHEET_NAME_LIMIT], 1
        while name.lower() in taken:
            number += 1
            suffix = f" ({number})"
            name = base[:SHEET_NAME_LIMIT - len(suffix)] + suffix
        taken.add(name.lower())
        names.append(name)
    return names


def _xlsx_cell(sheet, value: Cell, kind: str) -> WriteOnlyCell:
    if isinstance(value, Decimal):
        value = float(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif isinstance(value, (date, datetime)):
        cell.number_format = "DD/MM/YYYY"
    elif isinstance(value, (int, float)):
        if kind == "share":
            cell.number_format = "0.0%"
        elif kind == "days" and isinstance(value, float):
            cell.number_format = "0.0"
    return cell


def _header_cell(sheet, column: Column) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=column.label)
    cell.data_type = "s"
    cell.font = Font(bold=True)
    cell.comment = Comment(column.key, "Casework")
    return cell


def _bold(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    cell.font = Font(bold=True)
    return cell


def _plain(sheet, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    cell.alignment = Alignment(wrap_text=True, vertical="top")
    return cell


def _write_about(workbook: Workbook, name: str, about: About, tables: Sequence[Table], names: list[str]) -> None:
    sheet = workbook.create_sheet(name)
    for letter, width in (("A", 28), ("B", 40), ("C", 70)):
        sheet.column_dimensions[letter].width = width
    locale = about.locale
    produced = about.produced_at.astimezone(about.zone)
    sheet.append([_bold(sheet, about.title)])
    sheet.append([])
    sheet.append([_bold(sheet, _word("produced_at", locale)),
                  _plain(sheet, f"{produced:%d/%m/%Y %H:%M} ({about.zone.key})")])
    sheet.append([_bold(sheet, _word("produced_by", locale)), _plain(sheet, about.producer)])
    for label, value in about.scope:
        sheet.append([_bold(sheet, label), _plain(sheet, value)])
    sheet.append([])
    sheet.append([_bold(sheet, _word(key, locale)) for key in ("sheet", "contents", "notes")])
    for table, sheet_name in zip(tables, names):
        sheet.append([_plain(sheet, sheet_name), _plain(sheet, table.title), _plain(sheet, table.note)])
    sheet.append([])
    sheet.append([_plain(sheet, _word("columns_help", locale))])
    sheet.append([_bold(sheet, _word(key, locale)) for key in ("sheet", "column", "key")])
    for table, sheet_name in zip(tables, names):
        for column in table.columns:
            sheet.append([_plain(sheet, sheet_name), _plain(sheet, column.label), _plain(sheet, column.key)])


def tables_to_xlsx(tables: Sequence[Table], *, about: About) -> bytes:
    """A workbook: the About sheet, then one sheet per table (see the module doc)."""
    workbook = Workbook(write_only=True)
    about_name = _word("about", about.locale)
    names = _sheet_names(tables, about_name)
    _write_about(workbook, about_name, about, tables, names)
    for table, name in zip(tables, names):
        sheet = workbook.create_sheet(name)
        sheet.freeze_panes = "A2"
        for index, column in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(max(len(column.label) + 4, 12), 50)
        sheet.append([_header_cell(sheet, column) for column in table.columns])
        kinds = [column.kind for column in table.columns]
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, value, kind) for value, kind in zip(row, kinds)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- Shared pieces ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    rows: int


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput({"format": "unknown_format"})


def _file_part(text: str) -> str:
    return _FILE_NAME_UNSAFE.sub("-", text).strip("-") or "all"


def _local_date(value: datetime | None, zone: ZoneInfo) -> date | None:
    return value.astimezone(zone).date() if value is not None else None


def _month(value: datetime | None, zone: ZoneInfo) -> str | None:
    return f"{value.astimezone(zone):%Y-%m}" if value is not None else None


def _day_text(value: date) -> str:
    return f"{value:%d/%m/%Y}"


def _record(session: Session, user: User, kind: str, fmt: str, rows: int, details: Iterable[tuple[str, object]],
            *, now: datetime, ip_address: str) -> None:
    words = [f"{kind}.{fmt}", f"rows={rows}"]
    words += [f"{name}={value if value is not None else 'all'}" for name, value in details]
    log_access(session, user, "export", "export", None, now=now, ip_address=ip_address, detail=" ".join(words))


def _file(
    fmt: str, name: str, rows: int, *, csv_table: Table, xlsx_tables: Sequence[Table], about: About,
) -> ExportFile:
    if fmt == "csv":
        return ExportFile(f"{name}.csv", CSV_TYPE, table_to_csv(csv_table), rows)
    return ExportFile(f"{name}.xlsx", XLSX_TYPE, tables_to_xlsx(xlsx_tables, about=about), rows)


# --- Pacts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PactFilters:
    programme_id: int | None = None
    stage: str | None = None  # a state name, in whichever workflow has it
    case_manager_id: int | None = None
    status: str | None = None  # "open", "closed" or None for both


def stage_choices(registry: WorkflowRegistry, locale: str) -> list[tuple[str, str]]:
    """Every state of the loaded workflows, once per name; differing labels are joined."""
    labels: dict[str, list[str]] = {}
    for engine in registry.engines():
        for name, state in engine.definition.states.items():
            label = label_in(state.label, locale)
            if label not in labels.setdefault(name, []):
                labels[name].append(label)
    return sorted(((name, " / ".join(found)) for name, found in labels.items()), key=lambda choice: choice[1].lower())


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
    return ExportChoices(
        programmes=list(session.scalars(visible_programmes(user).order_by(Programme.name, Programme.id))),
        territories=selectable_territories(session, user),
        case_managers=[(id_, name) for id_, name in managers],
        stages=stage_choices(registry, locale),
    )


def _last_contact():
    return (
        select(func.max(FollowUpContact.contact_at)).where(FollowUpContact.pact_id == Pact.id)
        .correlate(Pact).scalar_subquery()
    )


def _definition(registry: WorkflowRegistry, name: str, version: int) -> WorkflowDefinition:
    return registry.get(name, version).definition


def pacts_table(
    session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters, *, now: datetime,
    locale: str, zone: ZoneInfo,
) -> Table:
    """The pacts `user` may see that match `filters`, one row each, read in one query."""
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
        query = query.where(Pact.state == filters.stage)
    if filters.case_manager_id is not None:
        query = query.where(Pact.case_manager_id == filters.case_manager_id)
    if filters.status == "open":
        query = query.where(Pact.closed_at.is_(None))
    elif filters.status == "closed":
        query = query.where(Pact.closed_at.is_not(None))

    rows = []
    for (pact_id, first_name, last_name, codice_fiscale, programme, workflow, version, state, manager, priority,
         opened_at, closed_at, deadline_at, last_contact_at, outcome) in session.execute(query):
        definition = _definition(registry, workflow, version)
        state_def = definition.states.get(state)
        outcome_labels = definition.outcomes.get(outcome) if outcome else None
        rows.append((
            pact_id, f"{first_name} {last_name}", codice_fiscale, programme,
            label_in(state_def.label, locale) if state_def else state,
            manager,
            label_in(PRIORITY_LABELS[priority.value], locale) if priority else None,
            _local_date(opened_at, zone), _local_date(closed_at, zone),
            _local_date(deadline_at, zone),
            _local_date(last_contact_at, zone),
            label_in(outcome_labels, locale) if outcome_labels else outcome,
        ))
    return Table(
        key="pacts", title=_word("pacts_title", locale),
        columns=tuple(Column(key, label_in(labels, locale), kind) for key, labels, kind in PACT_COLUMNS),
        rows=tuple(rows), note=_word("pacts_note", locale),
    )


def _pact_scope(session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters,
                locale: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The filters as the About sheet states them, and the programme part of the file name."""
    programme = session.get(Programme, filters.programme_id) if filters.programme_id is not None else None
    manager = session.get(User, filters.case_manager_id) if filters.case_manager_id is not None else None
    stages = dict(stage_choices(registry, locale))
    everything = _word("all", locale)
    scope = (
        (_word("programme", locale), f"{programme.code} — {programme.name}" if programme else everything),
        (_word("stage", locale), stages.get(filters.stage, filters.stage) if filters.stage else everything),
        (_word("case_manager", locale), manager.full_name if manager else everything),
        (_word("status", locale), _word(filters.status, locale) if filters.status else everything),
    )
    return scope, programme.code if programme else "all"


def export_pacts(
    session: Session, registry: WorkflowRegistry, user: User, filters: PactFilters, *, fmt: str, now: datetime,
    locale: str, zone: ZoneInfo, ip_address: str = "",
) -> ExportFile:
    """The pact list as a file, recorded in the access log (the caller commits)."""
    _check_format(fmt)
    table = pacts_table(session, registry, user, filters, now=now, locale=locale, zone=zone)
    scope, programme_code = _pact_scope(session, registry, user, filters, locale)
    about = About(table.title, scope, now, user.full_name, locale, zone)
    name = f"casework-pacts-{_file_part(programme_code)}-{now.astimezone(zone):%Y-%m-%d}"
    exported = _file(fmt, name, len(table.rows), csv_table=table, xlsx_tables=[table], about=about)
    _record(session, user, KIND_PACTS, fmt, exported.rows, (
        ("programme", programme_code if filters.programme_id is not None else None), ("stage", filters.stage),
        ("case_manager", filters.case_manager_id), ("status", filters.status),
    ), now=now, ip_address=ip_address)
    return exported


# --- Scope of the indicators and of the dataset ----------------------------------------


def _period_bounds(scope: IndicatorScope, zone: ZoneInfo) -> tuple[datetime, datetime]:
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


def _scope_lines(programme: Programme | None, territory: Territory | None, scope: IndicatorScope,
                 locale: str) -> tuple[tuple[str, str], ...]:
    return (
        (_word("programme", locale),
         f"{programme.code} — {programme.name}" if programme else _word("all_programmes", locale)),
        (_word("territory", locale), territory.name if territory else _word("all_territories", locale)),
        (_word("period", locale), f"{_day_text(scope.start)} – {_day_text(scope.end)}"),
    )


def _scope_file_part(programme: Programme | None, scope: IndicatorScope) -> str:
    return f"{_file_part(programme.code) if programme else 'all'}-{scope.start:%Y-%m-%d}-{scope.end:%Y-%m-%d}"


def _scope_details(programme: Programme | None, scope: IndicatorScope) -> tuple[tuple[str, object], ...]:
    return (
        ("programme", programme.code if programme else None), ("territory", scope.territory_id),
        ("period", f"{scope.start:%Y-%m-%d}/{scope.end:%Y-%m-%d}"),
    )


# --- Indicators ------------------------------------------------------------------------


def export_indicators(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, fmt: str,
    table_key: str | None = None, now: datetime, locale: str, zone: ZoneInfo, ip_address: str = "",
) -> ExportFile:
    """Every indicator table as one XLSX, or one table (`table_key`) as CSV, recorded in the access log.

    The tables are those of `casework.reporting.indicators.compute` for the same scope: the file
    always holds the numbers the indicators page shows.
    """
    _check_format(fmt)
    report = compute(session, registry, user, scope, now=now, locale=locale, zone=zone)
    programme, territory, tables = report.programme, report.territory, list(report.tables)
    if table_key is not None:
        tables = [table for table in tables if table.key == table_key]
        if not tables:
            raise InvalidInput({"table": "unknown_table"})
    elif fmt == "csv":
        raise InvalidInput({"table": "required_for_csv"})
    title = _word("indicators_title", locale)
    about = About(title, _scope_lines(programme, territory, scope, locale), now, user.full_name, locale, zone)
    if table_key is None:
        name, kind = f"casework-indicators-{_scope_file_part(programme, scope)}", KIND_INDICATORS
    else:
        name = f"casework-indicator-{_file_part(table_key)}-{_scope_file_part(programme, scope)}"
        kind = f"{KIND_INDICATOR}:{table_key}"
    rows = sum(len(table.rows) for table in tables)
    exported = _file(fmt, name, rows, csv_table=tables[0], xlsx_tables=tables, about=about)
    _record(session, user, kind, fmt, rows, _scope_details(programme, scope), now=now, ip_address=ip_address)
    return exported


# --- Pseudonymised dataset -------------------------------------------------------------


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
        questionnaire = _definition(registry, name, version).questionnaire
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
    start, end = _period_bounds(scope, zone)
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
        )
        .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
        .join(Programme, Programme.id == Pact.programme_id)
        .outerjoin(comune, comune.id == Beneficiary.comune_id)
        .outerjoin(Screening, Screening.id == latest_screening_id)
        .outerjoin(Referral, Referral.pact_id == Pact.id)
        .outerjoin(PactOutcome, PactOutcome.pact_id == Pact.id)
        .where(pact_visibility(user), Pact.opened_at < end, or_(Pact.closed_at.is_(None), Pact.closed_at >= start))
    )
    if scope.programme_id is not None:
        query = query.where(Pact.programme_id == scope.programme_id)
    if scope.territory_id is not None:
        query = query.where(Beneficiary.comune_id.in_(territory_and_below(scope.territory_id, name="scope_tree")))
    found = session.execute(query).all()

    # The programme's workflow even without rows, so an empty file still has its columns.
    workflows = {(row.workflow_name, row.workflow_version) for row in found}
    if programme is not None:
        latest = registry.latest(programme.workflow_name)
        workflows.add((latest.name, latest.version))
    areas = _need_areas(registry, sorted(workflows))
    rows = []
    for (pact_id, beneficiary_id, programme_code, workflow, _version, istat_code, gender, birth_date, migrant,
         priority, need_profile, state, opened_at, referred_on, screened_at, signed_on, activated_at, closed_at,
         outcome, goals_achieved, reason_code) in found:
        referral_day = referred_on or _local_date(opened_at, zone)
        needs = need_profile or {}  # no screening yet: every need column empty
        rows.append((
            pseudonym(key, "beneficiary", beneficiary_id), pseudonym(key, "pact", pact_id), programme_code,
            workflow, istat_code, gender.value, age_band(birth_date, scope.end), "yes" if migrant else "no",
            priority.value if priority else None,
            *(needs.get(area) for area in areas),
            state, _month(opened_at, zone),
            _days_between(referral_day, _local_date(screened_at, zone)),
            _days_between(referral_day, signed_on),
            _days_between(referral_day, _local_date(activated_at, zone)),
            _month(closed_at, zone), outcome, goals_achieved.value if goals_achieved else None, reason_code,
        ))
    # By pseudonym, not by record number: the order of the rows must not tell who came first.
    rows.sort(key=lambda row: (row[2], row[1]))
    return Table(
        key="pseudonymised", title=_word("dataset_title", locale),
        columns=_dataset_columns(areas, registry, sorted(workflows), locale),
        rows=tuple(rows), note=_word("dataset_note", locale),
    )


def _dataset_columns(areas: list[str], registry: WorkflowRegistry, workflows: list[tuple[str, int]],
                     locale: str) -> tuple[Column, ...]:
    area_labels: dict[str, str] = {}
    for name, version in workflows:
        questionnaire = _definition(registry, name, version).questionnaire
        for area, labels in (questionnaire.need_areas.items() if questionnaire else ()):
            area_labels.setdefault(area, label_in(labels, locale))
    columns: list[Column] = []
    for field in DATASET_FIELDS:
        if field.key == NEED_FIELD:
            columns += [Column(f"need_{area}", f"{label_in(field.label, locale)}: {area_labels[area]}", field.kind)
                        for area in areas]
        else:
            columns.append(Column(field.key, label_in(field.label, locale), field.kind))
    return tuple(columns)


def dataset_fields_table(locale: str) -> Table:
    """The field documentation as a table: the XLSX's fields sheet and the export page show it."""
    return Table(
        key="fields", title=_word("fields_title", locale),
        columns=(
            Column("key", _word("key", locale)), Column("type", _word("field_type", locale)),
            Column("meaning", _word("field_meaning", locale)), Column("values", _word("field_values", locale)),
        ),
        rows=tuple((field.key, label_in(FIELD_TYPES[field.type], locale), label_in(field.meaning, locale),
                    label_in(field.values, locale)) for field in DATASET_FIELDS),
    )


def export_pseudonymised(
    session: Session, registry: WorkflowRegistry, user: User, scope: IndicatorScope, *, fmt: str, now: datetime,
    secret: str, locale: str, zone: ZoneInfo, ip_address: str = "",
) -> ExportFile:
    """The pseudonymised dataset as a file, recorded in the access log (the caller commits)."""
    _check_format(fmt)
    programme, territory = check_scope(session, user, scope)
    table = _dataset(session, registry, user, scope, programme, secret=secret, locale=locale, zone=zone)
    about = About(table.title, _scope_lines(programme, territory, scope, locale), now, user.full_name, locale, zone)
    name = f"casework-pseudonymised-{_scope_file_part(programme, scope)}"
    exported = _file(fmt, name, len(table.rows), csv_table=table,
                     xlsx_tables=[table, dataset_fields_table(locale)], about=about)
    _record(session, user, KIND_PSEUDONYMISED, fmt, exported.rows, _scope_details(programme, scope),
            now=now, ip_address=ip_address)
    return exported
