"""Export files: CSV and XLSX written from `casework.reporting.report_tables.Table`s, and
the words every export file uses.

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
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from casework.errors import InvalidInput
from casework.i18n import N_, Message, gettext
from casework.reporting.report_tables import Cell, Column, Table

FORMATS = ("csv", "xlsx")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_LIMIT = 31
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_SLASHES = re.compile(r"\s*[/\\]\s*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FILE_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

WORDS: dict[str, Message] = {
    "about": N_("About"),
    "produced_at": N_("Produced on"),
    "produced_by": N_("Produced by"),
    "sheet": N_("Sheet"),
    "contents": N_("Contents"),
    "notes": N_("Notes"),
    "column": N_("Column"),
    "key": N_("Key (CSV header)"),
    "columns_help": N_("Sheet headers are in the producer's language; each header has a comment with the stable "
                       "key, the same one used as the header of the CSV files."),
    "all": N_("All"),
    "all_programmes": N_("All programmes you can see"),
    "all_territories": N_("The whole territory"),
    "programme": N_("Programme"),
    "territory": N_("Territory"),
    "period": N_("Period"),
    "stage": N_("Stage"),
    "case_manager": N_("Case manager"),
    "status": N_("Status"),
    "open": N_("Open"),
    "closed": N_("Closed"),
    "pacts_title": N_("Pacts"),
    "pacts_note": N_("Pacts the producer of the file may see. Dates in the {zone} zone."),
    "indicators_title": N_("Indicators"),
    "dataset_title": N_("Pseudonymised dataset"),
    "dataset_note": N_("One row per pact open at some time in the period. No names, codice fiscale, free text or "
                       "exact dates; pseudonyms stay the same while the application's secret key does. Fields "
                       "described in the fields sheet and in docs/pseudonymised-dataset.md."),
    "dataset_withheld": N_("Restricted programmes with fewer than {smallest} cases in this file that you are not "
                           "assigned to are left out, so that no one can be told apart: {programmes}."),
    "fields_title": N_("Dataset fields"),
    "field_type": N_("Type"),
    "field_meaning": N_("Meaning"),
    "field_values": N_("Possible values"),
}


def word(key: str, locale: str, **params: object) -> str:
    return gettext(locale, WORDS[key], **params)


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
    # Text first: most cells are, and a long list calls this a million times.
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def table_to_csv(table: Table) -> bytes:
    """The table as CSV: a BOM, a header row of column keys, then the rows (see the module doc)."""
    return b"".join(csv_chunks(table.columns, table.rows))


CSV_CHUNK = 64 * 1024


def csv_chunks(columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The CSV of `table_to_csv`, a piece of about 64 KiB at a time, reading `rows` as it goes:
    a file of any length is sent without being held in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([column.key for column in columns])
    for row in rows:
        writer.writerow([_csv_text(value) for value in row])
        if buffer.tell() >= CSV_CHUNK:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():  # an empty chunk would end a chunked response early on some servers
        yield buffer.getvalue().encode("utf-8")


def _within(text: str, limit: int) -> str:
    """`text` in at most `limit` characters: whole words and an ellipsis when it is longer."""
    if len(text) <= limit:
        return text
    kept = ""
    for word_ in text.split(" "):
        candidate = f"{kept} {word_}" if kept else word_
        if len(candidate) > limit - 1:
            break
        kept = candidate
    # A first word longer than the limit is cut inside; trailing punctuation would read badly before "…".
    return (kept or text[:limit - 1]).rstrip(" ,.;:-–—(") + "…"


def _sheet_names(tables: Sequence[Table], reserved: str) -> list[str]:
    """Readable names under Excel's rules: at most 31 characters, none of []:*?/\\, not starting or
    ending with an apostrophe, unique ignoring case. Each table's short sheet name (else its title),
    cut at a word, numbered when two would be the same."""
    taken = {reserved.lower()}
    names = []
    for table in tables:
        text = _SHEET_SLASHES.sub("-", table.sheet or table.title or table.key)
        base = " ".join(_SHEET_FORBIDDEN.sub(" ", text).split()).strip("'").strip() or table.key
        name, number = _within(base, SHEET_NAME_LIMIT), 1
        while name.lower() in taken:
            number += 1
            suffix = f" ({number})"
            name = _within(base, SHEET_NAME_LIMIT - len(suffix)) + suffix
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
    sheet.append([_bold(sheet, word("produced_at", locale)),
                  _plain(sheet, f"{produced:%d/%m/%Y %H:%M} ({about.zone.key})")])
    sheet.append([_bold(sheet, word("produced_by", locale)), _plain(sheet, about.producer)])
    for label, value in about.scope:
        sheet.append([_bold(sheet, label), _plain(sheet, value)])
    sheet.append([])
    sheet.append([_bold(sheet, word(key, locale)) for key in ("sheet", "contents", "notes")])
    for table, sheet_name in zip(tables, names):
        sheet.append([_plain(sheet, sheet_name), _plain(sheet, table.title), _plain(sheet, table.note)])
    sheet.append([])
    sheet.append([_plain(sheet, word("columns_help", locale))])
    sheet.append([_bold(sheet, word(key, locale)) for key in ("sheet", "column", "key")])
    for table, sheet_name in zip(tables, names):
        for column in table.columns:
            sheet.append([_plain(sheet, sheet_name), _plain(sheet, column.label), _plain(sheet, column.key)])


def tables_to_xlsx(tables: Sequence[Table], *, about: About) -> bytes:
    """A workbook: the About sheet, then one sheet per table (see the module doc)."""
    workbook = Workbook(write_only=True)
    about_name = word("about", about.locale)
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


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    rows: int
    # A file sent as it is read (`content` is then empty): iterate it once, in the transaction
    # after the export's access-log entry was committed.
    chunks: Iterator[bytes] | None = None

    def body(self) -> bytes:
        """The whole file (reading a streamed one, which can then not be sent)."""
        return b"".join(self.chunks) if self.chunks is not None else self.content


def check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InvalidInput({"format": "unknown_format"})


def file_part(text: str) -> str:
    return _FILE_NAME_UNSAFE.sub("-", text).strip("-") or "all"


def export_file(
    fmt: str, name: str, rows: int, *, csv_table: Table, xlsx_tables: Sequence[Table], about: About,
) -> ExportFile:
    if fmt == "csv":
        return ExportFile(f"{name}.csv", CSV_TYPE, table_to_csv(csv_table), rows)
    return ExportFile(f"{name}.xlsx", XLSX_TYPE, tables_to_xlsx(xlsx_tables, about=about), rows)
