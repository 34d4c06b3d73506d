"""Reading a caseload file: CSV (UTF-8 with or without BOM, `;` or `,`) or XLSX, into rows of text.

The columns are found by their header, in Italian as the template writes them or by their
stable key; a value comes out as text, except dates, which come out as `date` when the
spreadsheet stored a real date. XLSX formulas give the value the spreadsheet last computed;
a merged cell gives its value to every cell it covers.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from casework.i18n import N_, Message

# (key, header in the template, required). The key is what the code and the problems use.
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("codice_fiscale", "Codice fiscale", True),
    ("first_name", "Nome", True),
    ("last_name", "Cognome", True),
    ("birth_date", "Data di nascita", False),
    ("gender", "Genere", True),
    ("comune", "Comune", False),
    ("phone", "Telefono", False),
    ("email", "E-mail", False),
    ("programme", "Programma", True),
    ("stage", "Fase", True),
    ("case_manager", "Case manager", True),
    ("referred_on", "Data segnalazione", True),
    ("referral_source", "Fonte segnalazione", True),
    ("opened_on", "Data apertura", False),  # required past the workflow's first stage
    ("last_contact_on", "Ultimo contatto", False),
    ("priority", "Priorità", False),
    ("notes", "Note", False),
)
HEADERS = {key: header for key, header, _ in COLUMNS}
REQUIRED = tuple(key for key, _, required in COLUMNS if required)
DATE_COLUMNS = ("birth_date", "referred_on", "opened_on", "last_contact_on")
MAX_ROWS = 20_000
DATA_SHEET = "Casi"

XLSX = "xlsx"
CSV = "csv"


class UnreadableFile(Exception):
    """The file cannot be read as a caseload: `message` says why, to translate."""

    def __init__(self, message: Message, **params: object):
        self.message = message
        self.params = params
        super().__init__(message.id)


NOT_CSV_OR_XLSX = N_("The file is neither a CSV nor an Excel (.xlsx) file.")
NOT_UTF8 = N_("The CSV file is not in UTF-8: save it again choosing \"CSV UTF-8\".")
EMPTY_FILE = N_("The file has no header row.")
NO_ROWS = N_("The file has no rows below the header.")
TOO_MANY_ROWS = N_("The file has more than {limit} rows: split it into smaller files.")
DAMAGED_XLSX = N_("The Excel file cannot be opened: it may be damaged or protected by a password.")


@dataclass(frozen=True)
class SourceRow:
    number: int  # the row number the spreadsheet shows (the header is row 1)
    values: dict[str, Any]  # column key -> text (stripped), or a date


@dataclass(frozen=True)
class SourceTable:
    columns: tuple[str, ...]  # the keys found in the header
    rows: list[SourceRow]


def _comparable(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(character for character in decomposed if character.isalnum()).casefold()


_HEADER_KEYS = {_comparable(header): key for key, header, _ in COLUMNS} | {
    _comparable(key): key for key, _, _ in COLUMNS
}


def file_kind(filename: str, data: bytes) -> str:
    """XLSX or CSV, by content (an XLSX is a zip) and name; UnreadableFile otherwise."""
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        return XLSX
    if name.endswith((".csv", ".txt")) and b"\x00" not in data[:4096]:
        return CSV
    raise UnreadableFile(NOT_CSV_OR_XLSX)


def read_table(filename: str, data: bytes) -> SourceTable:
    if file_kind(filename, data) == XLSX:
        matrix = _xlsx_matrix(data)
    else:
        matrix = _csv_matrix(data)
    return _table(matrix)


def _table(matrix: list[tuple[int, list[Any]]]) -> SourceTable:
    if not matrix:
        raise UnreadableFile(EMPTY_FILE)
    _, header = matrix[0]
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _HEADER_KEYS.get(_comparable(str(cell))) if cell is not None else None
        if key is not None and key not in positions:
            positions[key] = index
    rows = []
    for number, cells in matrix[1:]:
        values = {key: _clean(cells[index]) if index < len(cells) else "" for key, index in positions.items()}
        if all(value in ("", None) for value in values.values()):
            continue  # an empty row, or one with values only in columns we do not read
        rows.append(SourceRow(number, values))
    if not rows:
        raise UnreadableFile(NO_ROWS)
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(TOO_MANY_ROWS, limit=MAX_ROWS)
    return SourceTable(tuple(positions), rows)


def _clean(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number or an ISTAT code the spreadsheet stored as a number
    return " ".join(str(value).split())


# --- CSV -----------------------------------------------------------------------------------

def _csv_matrix(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(NOT_UTF8) from None
    first_line = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=";,").delimiter
    except csv.Error:
        delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # The spreadsheet's row numbers: a quoted value over two lines is still one row.
    return [(reader.line_num, cells) for cells in reader]


# --- XLSX ----------------------------------------------------------------------------------

def _xlsx_matrix(data: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # a few hundred milliseconds: only when an XLSX comes

    try:
        # Not read-only: a read-only sheet does not know its merged cells. data_only: a formula
        # gives the value the spreadsheet computed and saved, not its text.
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableFile(DAMAGED_XLSX) from None
    try:
        sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        fill: dict[int, list[tuple[int, Any]]] = {}  # row -> (column, value) the merged cells give
        for merged in sheet.merged_cells.ranges:
            value = sheet.cell(merged.min_row, merged.min_col).value
            for row in range(merged.min_row, merged.max_row + 1):
                fill.setdefault(row, []).extend(
                    (column, value) for column in range(merged.min_col, merged.max_col + 1))
        matrix = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = list(cells)
            for column, value in fill.get(number, ()):
                if column <= len(values):
                    values[column - 1] = value
            matrix.append((number, values))
        return matrix
    finally:
        workbook.close()
