"""The directory as a file: the columns every export writes and every import reads, and the export.

One header row of stable column names (Italian, lower case, the same in every language), one
row per service. What an export writes an import reads back unchanged:

- choices as words: accesso "libero"/"su_appuntamento", costo "gratuito"/"agevolato"/"a_pagamento",
  welfare_aziendale and attivo "sì"/"no";
- orari as "lun 09:00-12:30; mer 14:00-18:00", lingue as ISO 639-1 codes "it;en;ar", comuni as
  ISTAT codes "001265;001314" (text, so the leading zeros stay), verificato_il as GG/MM/AAAA;
- CSV: UTF-8 with a byte-order mark (Excel then reads the accents), separated by ";" as an
  Italian Excel expects; text a spreadsheet would run as a formula (= + - @ first) is written
  after an apostrophe, which the import takes off again;
- XLSX: one sheet "Servizi", every text cell stored as text, never a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from casework.models import Service, ServiceAccess, ServiceCost
from casework.services.directory import format_opening_hours

# (column, the ServiceInput field its problems name; "" for the id)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", ""),
    ("ente", "organisation_id"),
    ("nome", "name"),
    ("tipologia", "type_id"),
    ("descrizione", "description"),
    ("destinatari", "target_group"),
    ("requisiti", "eligibility"),
    ("accesso", "access"),
    ("orari", "opening_hours"),
    ("note_orari", "opening_notes"),
    ("indirizzo", "address"),
    ("referente", "contact_name"),
    ("email", "contact_email"),
    ("telefono", "contact_phone"),
    ("sito", "website"),
    ("costo", "cost"),
    ("note_costo", "cost_notes"),
    ("welfare_aziendale", "company_welfare_plan"),
    ("lingue", "languages"),
    ("comuni", "comuni"),
    ("capienza", "capacity"),
    ("posti_disponibili", "places_available"),
    ("lista_attesa", "waiting_list"),
    ("attivo", "active"),
    ("verificato_il", "last_checked_on"),
)
COLUMN_NAMES = tuple(column for column, _ in COLUMNS)
COLUMN_OF_FIELD = {field: column for column, field in COLUMNS if field}
SHEET = "Servizi"
ACCESS_WORDS = {ServiceAccess.FREE_ACCESS: "libero", ServiceAccess.BY_APPOINTMENT: "su_appuntamento"}
COST_WORDS = {ServiceCost.FREE: "gratuito", ServiceCost.DISCOUNTED: "agevolato", ServiceCost.PAID: "a_pagamento"}
YES, NO = "sì", "no"
LIST_SEPARATOR = ";"
FORMULA_START = ("=", "+", "-", "@")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def day_text(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def service_row(service: Service) -> list[Any]:
    """One service as the file's row, in COLUMNS' order (numbers as numbers, None when not known)."""
    return [
        service.id, service.organisation.name, service.name, service.service_type.code, service.description,
        service.target_group, service.eligibility, ACCESS_WORDS[service.access],
        format_opening_hours(service.opening_hours or []), service.opening_notes, service.address,
        service.contact_name, service.contact_email, service.contact_phone, service.website,
        COST_WORDS[service.cost], service.cost_notes, YES if service.company_welfare_plan else NO,
        LIST_SEPARATOR.join(sorted(link.language for link in service.languages)),
        LIST_SEPARATOR.join(sorted(link.territory.istat_code or "" for link in service.comuni)),
        service.capacity, service.places_available, service.waiting_list, YES if service.active else NO,
        day_text(service.last_checked_on),
    ]


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def services_csv(services: Iterable[Service]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for service in services:
        writer.writerow([_csv_cell(value) for value in service_row(service)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def services_xlsx(services: Sequence[Service]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(SHEET)
    sheet.freeze_panes = "A2"

    def cell(value: Any, *, bold: bool = False) -> WriteOnlyCell:
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            written.data_type = "s"  # never a formula, and "001265" keeps its zeros
        if bold:
            written.font = Font(bold=True)
        return written

    sheet.append([cell(name, bold=True) for name in COLUMN_NAMES])
    for service in services:
        sheet.append([cell(value) for value in service_row(service)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
