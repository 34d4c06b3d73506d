"""Reading an uploaded table: CSV (UTF-8 with or without BOM, `;` or `,`) or XLSX, into rows of cells.

Every import of the office (the caseload, the services directory) reads its file here and
keeps its own columns and checks. XLSX formulas give the value the spreadsheet last computed;
a merged cell gives its value to every cell it covers.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from typing import Any

from casework.i18n import N_, Message

XLSX = "xlsx"
CSV = "csv"


class UnreadableFile(Exception):
    """The file cannot be read as a table: `message` says why, to translate."""

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

# (row number as the spreadsheet shows it, the row's cells)
Matrix = list[tuple[int, list[Any]]]


def file_kind(filename: str, data: bytes) -> str:
    """XLSX or CSV, by content (an XLSX is a zip) and name; UnreadableFile otherwise."""
    name = filename.lower()
    if data[:4] == b"PK\x03\x04":
        return XLSX
    if name.endswith((".csv", ".txt")) and b"\x00" not in data[:4096]:
        return CSV
    raise UnreadableFile(NOT_CSV_OR_XLSX)


def read_matrix(filename: str, data: bytes, *, sheet: str = "") -> Matrix:
    """Every row of the file; of an XLSX, the sheet named `sheet` if it has one, else the first."""
    if file_kind(filename, data) == XLSX:
        return xlsx_matrix(data, sheet=sheet)
    return csv_matrix(data)


def clean_cell(value: Any) -> Any:
    """A cell as text with its spaces collapsed ("" for none), or a `date` for a stored date."""
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


def csv_matrix(data: bytes) -> Matrix:
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


def xlsx_matrix(data: bytes, *, sheet: str = "") -> Matrix:
    from openpyxl import load_workbook  # a few hundred milliseconds: only when an XLSX comes

    try:
        # Not read-only: a read-only sheet does not know its merged cells. data_only: a formula
        # gives the value the spreadsheet computed and saved, not its text.
        workbook = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableFile(DAMAGED_XLSX) from None
    try:
        found = workbook[sheet] if sheet and sheet in workbook.sheetnames else workbook.worksheets[0]
        fill: dict[int, list[tuple[int, Any]]] = {}  # row -> (column, value) the merged cells give
        for merged in found.merged_cells.ranges:
            value = found.cell(merged.min_row, merged.min_col).value
            for row in range(merged.min_row, merged.max_row + 1):
                fill.setdefault(row, []).extend(
                    (column, value) for column in range(merged.min_col, merged.max_col + 1))
        matrix = []
        for number, cells in enumerate(found.iter_rows(values_only=True), start=1):
            values = list(cells)
            for column, value in fill.get(number, ()):
                if column <= len(values):
                    values[column - 1] = value
            matrix.append((number, values))
        return matrix
    finally:
        workbook.close()
