"""Reading a caseload file: CSV (UTF-8 with or without BOM, `;` or `,`) or XLSX, into rows of text.

The columns are found by their header, in Italian as the template writes them or by their
stable key; a value comes out as text, except dates, which come out as `date` when the
spreadsheet stored a real date. The file itself is read by casework.spreadsheets.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from casework.spreadsheets import EMPTY_FILE, NO_ROWS, TOO_MANY_ROWS, UnreadableFile, read_matrix
from casework.spreadsheets import clean_cell as _clean

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


def read_table(filename: str, data: bytes) -> SourceTable:
    return _table(read_matrix(filename, data, sheet=DATA_SHEET))


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

