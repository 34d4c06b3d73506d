"""Caseload files as an office would write them, for the import tests."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from codicefiscale import codicefiscale

from casework.administration.caseload_import_files import COLUMNS

HEADERS = [header for _, header, _ in COLUMNS]
FIRST_NAMES = ["Anna", "Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide", "Chiara", "Matteo"]
LAST_NAMES = ["Rossi", "Bianchi", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno"]


def person(index: int) -> dict[str, str]:
    first = FIRST_NAMES[index % 10] + ("" if index < 10 else chr(65 + (index // 10) % 26) + "a")
    last = LAST_NAMES[(index // 10) % 10] + ("" if index < 100 else LAST_NAMES[(index // 100) % 10].lower())
    female = index % 2 == 0
    born = date(1960, 1, 1) + timedelta(days=(index * 37) % 15000)
    code = codicefiscale.encode(lastname=last, firstname=first, gender="F" if female else "M",
                                birthdate=born.strftime("%d/%m/%Y"), birthplace="L219")
    return {"Codice fiscale": code, "Nome": first, "Cognome": last, "Data di nascita": born.strftime("%d/%m/%Y"),
            "Genere": "F" if female else "M"}


def row(index: int, **values: str) -> dict[str, str]:
    """A good row: a person in TILDE's co-design, managed by giulia."""
    found = {header: "" for header in HEADERS}
    found.update(person(index))
    found.update({
        "Comune": "001265", "Telefono": "011 1234567", "E-mail": f"persona{index}@example.org", "Programma": "TILDE",
        "Fase": "Co-progettazione", "Case manager": "giulia", "Data segnalazione": "10/01/2026",
        "Fonte segnalazione": "Servizi sociali", "Data apertura": "15/01/2026", "Ultimo contatto": "",
        "Priorità": "media", "Note": f"Caso {index}",
    })
    found.update(values)
    return found


def csv_bytes(rows: list[dict[str, str]], *, delimiter: str = ";", bom: bool = True) -> bytes:
    output = io.StringIO(newline="")
    writer = csv.DictWriter(output, fieldnames=HEADERS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + output.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[dict[str, str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Casi"
    sheet.append(HEADERS)
    for values in rows:
        sheet.append([values[header] for header in HEADERS])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def spreadsheet_with_formulas_and_merged_cells(rows: list[dict[str, str]]) -> bytes:
    """As a spreadsheet program saves it: surnames computed by a formula (with the value it computed
    saved beside it), the programme in one cell merged over every row, the referral date a real
    date, the opening date typed as text."""
    import re
    import zipfile
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Casi"
    sheet.append(HEADERS)
    surname = get_column_letter(HEADERS.index("Cognome") + 1)
    programme = get_column_letter(HEADERS.index("Programma") + 1)
    cached: dict[str, str] = {}
    for number, values in enumerate(rows, start=2):
        cells = []
        for header in HEADERS:
            value = values[header]
            if header == "Cognome":
                value = f'=UPPER("{value}")'
                cached[f"{surname}{number}"] = values[header].upper()
            elif header == "Data segnalazione":
                value = datetime.strptime(value, "%d/%m/%Y")
            elif header == "Programma" and number > 2:
                value = None
            cells.append(value)
        sheet.append(cells)
        sheet.cell(number, HEADERS.index("Data apertura") + 1).number_format = "@"
    sheet.merge_cells(f"{programme}2:{programme}{len(rows) + 1}")
    output = io.BytesIO()
    workbook.save(output)

    # openpyxl saves formulas without their values; a spreadsheet program saves both.
    def with_value(match: re.Match) -> str:
        return f'<c r="{match[1]}" t="str"><f>{match[2]}</f><v>{cached[match[1]]}</v></c>'

    patched = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(output.getvalue())) as source, zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(r'<c r="([A-Z]+\d+)"><f>(.*?)</f><v ?/></c>', with_value, content.decode()).encode()
            target.writestr(item, content)
    return patched.getvalue()
