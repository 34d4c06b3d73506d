"""Importing and exporting the directory: good, bad and mixed files in CSV and XLSX; all or nothing."""

from __future__ import annotations

import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from casework.models import ChangeRecord, Service
from casework.services import directory as core
from casework.services.directory_files import COLUMN_NAMES, services_csv, services_xlsx
from casework.services.directory_import import Problem, import_services
from casework.services.directory_listing import ServiceFilters, all_managed_services
from casework.spreadsheets import UnreadableFile
from tests.services.directory_world import NOW, TODAY, Directory, build_directory

ROME = ZoneInfo("Europe/Rome")
HEADER = ["id", "ente", "nome", "tipologia", "accesso", "costo", "comuni", "lingue", "orari", "capienza",
          "posti_disponibili", "welfare_aziendale", "attivo", "verificato_il", "email"]
GOOD_ROWS = [
    ["", "Cooperativa Il Ponte", "Doposcuola Arcobaleno", "doposcuola", "libero", "gratuito", "001265;001314",
     "it;ar", "lun 14:30-18:00; gio 14:30-18:00", "30", "4", "no", "sì", "15/01/2026", "doposcuola@example.org"],
    ["", "Cooperativa Il Ponte", "Sportello stranieri di Volpiano", "sportello_stranieri", "su_appuntamento",
     "agevolato", "1314", "it, fr, ar", "", "", "", "sì", "", "", ""],
]


@pytest.fixture
def directory(session) -> Directory:
    return build_directory(session)


def _csv(rows, header=HEADER, delimiter=";", bom=True) -> bytes:
    lines = [delimiter.join(header)] + [delimiter.join(f'"{cell}"' if delimiter in cell else cell for cell in row)
                                        for row in rows]
    return (("\ufeff" if bom else "") + "\r\n".join(lines) + "\r\n").encode("utf-8")


def _xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _run(session, directory, data, filename, *, dry_run=False, actor=None):
    report = import_services(session, actor or directory.supervisor, data, filename, now=NOW, zone=ROME,
                             dry_run=dry_run)
    session.commit()
    return report


def _count(session) -> int:
    return session.scalar(select(func.count(Service.id)))


@pytest.mark.parametrize(("filename", "data"), [
    ("servizi.csv", _csv(GOOD_ROWS)),
    ("servizi.csv", _csv(GOOD_ROWS, delimiter=",", bom=False)),
    ("servizi.xlsx", _xlsx(GOOD_ROWS)),
])
def test_a_good_file_creates_every_service(session, directory, filename, data):
    report = _run(session, directory, data, filename)
    assert (report.ok, report.rows, report.created, report.updated, report.unchanged) == (True, 2, 2, 0, 0)
    session.expire_all()
    first, second = session.scalars(select(Service).order_by(Service.id)).all()
    assert (first.name, first.service_type.code, first.capacity, first.places_available) == (
        "Doposcuola Arcobaleno", "doposcuola", 30, 4)
    assert sorted(link.territory.name for link in first.comuni) == ["Settimo Torinese", "Volpiano"]
    assert [link.language for link in first.languages] == ["ar", "it"]
    assert first.opening_hours == [{"day": 0, "opens": "14:30", "closes": "18:00"},
                                   {"day": 3, "opens": "14:30", "closes": "18:00"}]
    assert first.last_checked_on == date(2026, 1, 15) and first.contact_email == "doposcuola@example.org"
    # The ISTAT code a spreadsheet stored as the number 1314 is Volpiano's 001314.
    assert [link.territory.name for link in second.comuni] == ["Volpiano"]
    assert second.company_welfare_plan and second.active and second.last_checked_on == TODAY
    assert [link.language for link in second.languages] == ["ar", "fr", "it"]
    assert session.scalar(select(func.count(ChangeRecord.id)).where(
        ChangeRecord.entity == "service", ChangeRecord.actor_id == directory.supervisor.id)) > 0


BAD_ROWS = [
    ["", "Cooperativa Lodigiana", "Fuori territorio", "doposcuola", "libero", "gratuito", "001265", "", "", "", "",
     "", "", "", ""],
    ["", "Cooperativa Il Ponte", "", "non_esiste", "a volte", "gratuito", "999999", "it;xx", "lun 18:00-09:00",
     "3", "5", "forse", "", "31/02/2026", "posta@"],
]


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_bad_file_reports_each_wrong_value_at_its_row_and_column_and_writes_nothing(session, directory, kind):
    data = _csv(BAD_ROWS) if kind == "csv" else _xlsx(BAD_ROWS)
    report = _run(session, directory, data, f"servizi.{kind}")
    assert not report.ok and report.created == 0 and not report.written
    assert [(problem.row, problem.column, problem.code) for problem in report.problems] == [
        (2, "ente", "unknown_organisation"),
        (3, "tipologia", "unknown_type"),
        (3, "comuni", "unknown_comune"),
        (3, "welfare_aziendale", "invalid_yes_no"),
        (3, "verificato_il", "invalid_date"),
    ]
    assert report.problems[0].params == {"value": "Cooperativa Lodigiana"}  # not among the supervisor's
    assert _count(session) == 0


def test_the_core_rules_are_reported_by_column_once_the_cells_are_read(session, directory):
    row = ["", "Cooperativa Il Ponte", "", "doposcuola", "a volte", "gratuito", "001265", "it;xx",
           "lun 18:00-09:00", "3", "5", "no", "sì", "", "posta@"]
    report = _run(session, directory, _csv([row]), "servizi.csv")
    assert [(problem.row, problem.column, problem.code) for problem in report.problems] == [
        (2, "nome", "required"), (2, "accesso", "invalid_choice"), (2, "lingue", "unknown_language"),
        (2, "orari", "closes_before_opens"), (2, "posti_disponibili", "over_capacity"),
        (2, "email", "invalid_email"),
    ]
    assert report.problems[1].params == {"value": "a volte"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_mixed_file_is_not_half_imported(session, directory, kind):
    rows = [GOOD_ROWS[0], BAD_ROWS[0], GOOD_ROWS[1]]
    data = _csv(rows) if kind == "csv" else _xlsx(rows)
    report = _run(session, directory, data, f"servizi.{kind}")
    assert [(problem.row, problem.column) for problem in report.problems] == [(3, "ente")]
    assert report.created == 2 and not report.written  # what would have been created, had all been right
    assert _count(session) == 0
    assert session.scalar(select(func.count(ChangeRecord.id))) == 0


def test_a_dry_run_reports_the_same_and_writes_nothing(session, directory):
    service = core.create_service(session, directory.supervisor, directory.service_input(session), now=NOW, zone=ROME)
    session.commit()
    rows = [GOOD_ROWS[0], [str(service.id), "Cooperativa Il Ponte", "Ludoteca rinominata", "ludoteca", "libero",
                           "gratuito", "001265", "it;ar", "lun 09:00-12:30; mer 14:00-18:00", "20", "5", "no", "sì",
                           "", "ludoteca@coop.example.org"]]
    report = _run(session, directory, _csv(rows), "servizi.csv", dry_run=True)
    assert (report.ok, report.created, report.updated, report.unchanged, report.written) == (True, 1, 1, 0, False)
    session.expire_all()
    assert _count(session) == 1 and session.get(Service, service.id).name == "Ludoteca Il Girasole"
    # The same file for real: the named service changes (only its name), the other is created.
    report = _run(session, directory, _csv(rows), "servizi.csv")
    assert (report.created, report.updated, report.written) == (1, 1, True)
    session.expire_all()
    stored = session.get(Service, service.id)
    assert (stored.name, stored.version, stored.capacity, stored.last_checked_on) == (
        "Ludoteca rinominata", 2, 20, TODAY)
    changed = session.scalars(select(ChangeRecord.field).where(
        ChangeRecord.entity_id == service.id, ChangeRecord.old_value != "")).all()
    assert changed == ["name"]


def test_an_id_the_supervisor_does_not_keep_is_refused(session, directory):
    theirs = core.create_service(session, directory.admin, directory.service_input(
        session, organisation_id=directory.lodi_coop.id, comuni=(directory.lodi.id,)), now=NOW, zone=ROME)
    session.commit()
    row = [str(theirs.id), "Cooperativa Il Ponte", "Presa", "ludoteca", "libero", "gratuito", "001265",
           "", "", "", "", "", "", "", ""]
    twice = [GOOD_ROWS[0][:], GOOD_ROWS[0][:]]
    report = _run(session, directory, _csv([row, ["abc", *row[1:]]]), "servizi.csv")
    assert [(problem.row, problem.column, problem.code) for problem in report.problems] == [
        (2, "id", "unknown_service"), (3, "id", "unknown_service")]
    mine = core.create_service(session, directory.supervisor, directory.service_input(session), now=NOW, zone=ROME)
    session.commit()
    twice[0][0] = twice[1][0] = str(mine.id)
    report = _run(session, directory, _csv(twice), "servizi.csv")
    assert report.problems == [Problem(3, "id", "duplicate_row", {"value": str(mine.id), "row": 2})]


def test_a_file_without_a_required_column_says_which(session, directory):
    header = [column for column in HEADER if column not in ("tipologia", "comuni")]
    rows = [[cell for column, cell in zip(HEADER, GOOD_ROWS[0]) if column in header]]
    report = _run(session, directory, _csv(rows, header=header), "servizi.csv")
    assert [(problem.row, problem.column, problem.code) for problem in report.problems] == [
        (1, "tipologia", "missing_column"), (1, "comuni", "missing_column")]


@pytest.mark.parametrize(("filename", "data"), [
    ("servizi.pdf", b"%PDF-1.4"),
    ("servizi.csv", "nome;ente\nCaffè;Coop\n".encode("latin-1")),
    ("servizi.csv", b""),
    ("servizi.csv", _csv([])),
    ("servizi.xlsx", b"PK\x03\x04broken"),
])
def test_a_file_that_is_no_table_is_unreadable(session, directory, filename, data):
    with pytest.raises(UnreadableFile):
        import_services(session, directory.supervisor, data, filename, now=NOW, zone=ROME, dry_run=True)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_what_is_exported_imports_back_unchanged(session, directory, kind):
    tricky = directory.service_input(session, name="=SOMMA(A1) «Caffè» ; sospeso", description="Riga 1\nRiga 2",
                                     capacity="", places_available="", company_welfare_plan=True,
                                     comuni=(directory.settimo.id, directory.volpiano.id), cost="discounted",
                                     access="by_appointment", last_checked_on=date(2025, 1, 31))
    first = core.create_service(session, directory.supervisor, tricky, now=NOW, zone=ROME)
    core.create_service(session, directory.supervisor, directory.service_input(session, name="Seconda"), now=NOW,
                        zone=ROME)
    core.deactivate_service(session, directory.supervisor, first.id, now=NOW)
    session.commit()
    services = all_managed_services(session, directory.supervisor, ServiceFilters(), now=NOW, zone=ROME)
    data = services_csv(services) if kind == "csv" else services_xlsx(services)
    if kind == "csv":
        text = data.decode("utf-8-sig")
        assert text.splitlines()[0] == ";".join(COLUMN_NAMES)
        assert "'=SOMMA(A1)" in text  # no spreadsheet runs it as a formula
    else:
        sheet = load_workbook(io.BytesIO(data)).active
        assert [cell.value for cell in sheet[1]] == list(COLUMN_NAMES)
        assert sheet.cell(2, COLUMN_NAMES.index("comuni") + 1).value == "001265;001314"
    before = session.scalar(select(func.count(ChangeRecord.id)))
    report = _run(session, directory, data, f"servizi.{kind}")
    assert (report.ok, report.rows, report.created, report.updated, report.unchanged) == (True, 2, 0, 0, 2)
    assert session.scalar(select(func.count(ChangeRecord.id))) == before
    session.expire_all()
    stored = session.get(Service, first.id)
    assert stored.name == "=SOMMA(A1) «Caffè» ; sospeso" and not stored.active and stored.version == 2
