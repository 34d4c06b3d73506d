"""Exports: CSV and XLSX writers, the pact list, the indicator tables and the pseudonymised dataset.

One hand-built caseload (times in UTC; Rome is UTC+1 until 29 March 2026) on both databases:

- A: Maria Rossi (b. 03/04/1985), TILDE, referred 10/01, opened 12/01, screened 15/01,
  signed 20/01, activated 22/01, contact 10/02 23:30 UTC (11/02 in Rome), closed 20/03.
- B: Giuseppe Verdi (b. 01/05/2010, migrant background), TILDE, opened 05/02, withdrew 20/02
  (moved away), no referral recorded.
- C: Anna Neri (no birth date, no comune), CHANCE, opened 28/12/2025 23:30 UTC (29/12 in Rome).
- D: Maria Rossi again, CHANCE, opened 01/02.
- E: Anna Neri, TILDE, opened 01/06/2025 and withdrawn 01/07/2025: before the period.
- F: Giuseppe Verdi, CHANCE, opened 05/04/2026: after the period.
- R: Lucia Zanardelli in a restricted programme, and L: Paolo Lontano in Lodi: never visible to Elena.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import (
    AccessLogEntry,
    ActionStatus,
    Beneficiary,
    ContactChannel,
    Gender,
    GoalsAchieved,
    Pact,
    Performer,
    Programme,
    ReferralSource,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.reporting import dataset_fields, export_files, exports, pseudonymised
from casework.reporting.export_files import About
from casework.reporting.exports import PactFilters
from casework.reporting.indicators import compute
from casework.reporting.period import IndicatorScope
from casework.reporting.report_tables import Column, Table
from tests.conftest import ZONE
from tests.support import valid_answers

SECRET = "s" * 48
PERIOD = IndicatorScope(programme_id=None, territory_id=None, start=date(2026, 1, 1), end=date(2026, 3, 31))
NOW = datetime(2026, 4, 10, 8, 0, tzinfo=UTC)
PRIVATE_NOTE = "telefonata con la sorella di Maria"


def at(day: str, hour: int = 9, minute: int = 0) -> Clock:
    return Clock(datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC), ZONE)


@dataclass
class Caseload:
    world: object
    maria: Beneficiary
    giuseppe: Beneficiary
    anna: Beneficiary
    secret_person: Beneficiary
    far_person: Beneficiary
    a: Pact
    b: Pact
    c: Pact
    d: Pact
    e: Pact
    f: Pact
    restricted: Pact
    far: Pact


def _move(session, registry, pact, event_name, actor, clock, **kwargs):
    ops.transition_pact(session, registry, pact, event_name, actor=actor, clock=clock, **kwargs)


@pytest.fixture
def caseload(session, registry, world) -> Caseload:
    manager, colleague = world.manager, world.colleague
    maria = world.beneficiary
    maria.codice_fiscale, maria.birth_date = "RSSMRA85D43L219K", date(1985, 4, 3)
    giuseppe = Beneficiary(first_name="Giuseppe", last_name="Verdi", gender=Gender.MALE, comune=world.comune,
                           codice_fiscale="VRDGPP10E01L219Q", birth_date=date(2010, 5, 1), migrant_background=True)
    anna = Beneficiary(first_name="Annalisa", last_name="Neri", gender=Gender.FEMALE)
    secret_person = Beneficiary(first_name="Lucia", last_name="Zanardelli", gender=Gender.FEMALE,
                                codice_fiscale="ZNRLCU80A41L219Y", comune=world.comune)
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="—", territory=world.comune.parent,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True)
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    lodi_comune = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi)
    lodi_manager = User(username="lodi", full_name="Lodi Manager", email="l@example.org", password_hash="!",
                        role=Role.CASE_MANAGER, territory=lodi)
    lodi_programme = Programme(code="LODI", name="Lodi", funder="—", territory=lodi, starts_on=date(2025, 1, 1),
                               workflow_name="patto_personalizzato")
    far_person = Beneficiary(first_name="Paolo", last_name="Lontano", gender=Gender.MALE, comune=lodi_comune,
                             codice_fiscale="LNTPLA70A01E648Z")
    session.add_all([giuseppe, anna, secret_person, restricted, lodi, lodi_comune, lodi_manager, lodi_programme,
                     far_person])
    session.flush()

    def open_pact(person, programme, case_manager, clock):
        return ops.open_pact(session, registry, beneficiary=person, programme=programme, case_manager=case_manager,
                             actor=case_manager, clock=clock)

    tilde, chance = world.programme, world.chance
    a = open_pact(maria, tilde, manager, at("2026-01-12"))
    ops.record_referral(session, a, source=ReferralSource.SCHOOL, reason="assenze ripetute di Maria",
                        referred_on=date(2026, 1, 10), actor=manager, clock=at("2026-01-12"))
    _move(session, registry, a, "start_screening", manager, at("2026-01-13"))
    definition = registry.engine_for(a).definition
    ops.record_screening(session, registry, a, valid_answers(definition.questionnaire, worst=True),
                         actor=manager, clock=at("2026-01-15", 10))
    _move(session, registry, a, "start_co_design", manager, at("2026-01-15", 11))
    ops.add_goal(session, a, description="trovare lavoro", need_area="lavoro", clock=at("2026-01-16"))
    ops.add_action(session, a, description="iscrizione al centro per l'impiego", performer=Performer.BENEFICIARY,
                   clock=at("2026-01-16"))
    ops.sign_pact(session, a, signed_on=date(2026, 1, 20), signed_by="Maria Rossi", consent_given=True,
                  actor=manager, clock=at("2026-01-20"))
    _move(session, registry, a, "activate", manager, at("2026-01-22", 10))
    ops.set_action_status(session, a.actions[0], ActionStatus.IN_PROGRESS, clock=at("2026-01-23"))
    _move(session, registry, a, "start_follow_up", manager, at("2026-01-23"))
    ops.log_contact(session, registry, a, contact_at=at("2026-02-10", 23, 30).now, channel=ContactChannel.PHONE,
                    notes=PRIVATE_NOTE, actor=manager, clock=at("2026-02-11"))
    ops.record_outcome(session, registry, a, outcome="work_entered", goals_achieved=GoalsAchieved.FULLY,
                       notes="assunta da Rossi Srl", actor=manager, clock=at("2026-03-20"))
    _move(session, registry, a, "close", manager, at("2026-03-20", 10))

    b = open_pact(giuseppe, tilde, colleague, at("2026-02-05", 8))
    _move(session, registry, b, "withdraw", colleague, at("2026-02-20"), reason="moved_away",
          comment="si trasferisce dallo zio a Genova")
    c = open_pact(anna, chance, manager, at("2025-12-28", 23, 30))
    d = open_pact(maria, chance, manager, at("2026-02-01"))
    e = open_pact(anna, tilde, manager, at("2025-06-01"))
    _move(session, registry, e, "withdraw", manager, at("2025-07-01"), reason="other")
    f = open_pact(giuseppe, chance, manager, at("2026-04-05"))
    secret = open_pact(secret_person, restricted, manager, at("2026-01-20"))
    far = open_pact(far_person, lodi_programme, lodi_manager, at("2026-01-20"))
    session.commit()
    return Caseload(world, maria, giuseppe, anna, secret_person, far_person, a, b, c, d, e, f, secret, far)


def parse_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "a BOM, so that Excel reads UTF-8"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def sheet_keys(sheet) -> list[str]:
    return [cell.comment.text for cell in sheet[1]]


def sheet_rows(sheet) -> list[tuple]:
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2)]


def all_text_of_xlsx(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


def about(locale: str = "it") -> About:
    return About("Prova", (("Progetto", "TILDE"),), NOW, "Elena", locale, ZONE)


# --- Writers ---------------------------------------------------------------------------

SAMPLE = Table(
    key="sample", title="Persone raggiunte per genere e per fascia d'età nel periodo",
    columns=(Column("group", "Gruppo"), Column("count", "Persone", "count"), Column("share", "Quota", "share"),
             Column("days", "Giorni (mediana)", "days"), Column("since", "Dal", "date")),
    rows=(("donne", 3, 0.75, 12.5, date(2026, 1, 2)), ("=SUM(A1:A9)", 1, Decimal("0.25"), 4, None),
          ("uomini", 0, None, None, None)),
)


def test_csv_has_a_bom_key_headers_iso_dates_and_defused_formulas():
    rows = parse_csv(export_files.table_to_csv(SAMPLE))
    assert list(rows[0]) == ["group", "count", "share", "days", "since"]
    assert rows[0] == {"group": "donne", "count": "3", "share": "0.75", "days": "12.5", "since": "2026-01-02"}
    # A spreadsheet must not run a cell as a formula: the text is kept after an apostrophe.
    assert rows[1]["group"] == "'=SUM(A1:A9)"
    assert rows[1]["share"] == "0.25"
    assert rows[2] == {"group": "uomini", "count": "0", "share": "", "days": "", "since": ""}


def test_xlsx_starts_with_about_then_one_typed_sheet_per_table():
    second = Table(key="again", title=SAMPLE.title, columns=SAMPLE.columns[:2], rows=(("x", 1),))
    book = workbook(export_files.tables_to_xlsx([SAMPLE, second], about=about()))
    assert book.sheetnames[0] == "Informazioni"
    names = book.sheetnames[1:]
    assert len(names) == 2 and len(set(names)) == 2 and all(len(name) <= 31 for name in names)
    info = [tuple(cell for cell in row if cell is not None) for row in book["Informazioni"].iter_rows(values_only=True)]
    assert ("Prodotto il", "10/04/2026 10:00 (Europe/Rome)") in info  # 08:00 UTC is 10:00 in April
    assert ("Prodotto da", "Elena") in info and ("Progetto", "TILDE") in info
    assert (names[0], "count", "count") not in info and (names[0], "Persone", "count") in info

    sheet = book[names[0]]
    assert [cell.value for cell in sheet[1]] == ["Gruppo", "Persone", "Quota", "Giorni (mediana)", "Dal"]
    assert sheet_keys(sheet) == ["group", "count", "share", "days", "since"]
    first, formula, empty = sheet_rows(sheet)
    assert first == ("donne", 3, 0.75, 12.5, datetime(2026, 1, 2))
    assert sheet["B2"].data_type == "n" and sheet["C2"].number_format == "0.0%" and sheet["D2"].number_format == "0.0"
    assert sheet["E2"].is_date
    assert formula[0] == "=SUM(A1:A9)" and sheet["A3"].data_type == "s"
    assert formula[2] == 0.25 and sheet["D3"].value == 4
    assert empty == ("uomini", 0, None, None, None)


def test_sheet_names_drop_characters_excel_refuses():
    table = Table(key="k", title="Esiti: lavoro/scuola [2026]?", columns=(Column("a", "A"),), rows=())
    book = workbook(export_files.tables_to_xlsx([table], about=about("en")))
    assert book.sheetnames == ["About", "Esiti lavoro-scuola 2026"]


def test_sheet_names_are_cut_at_a_word_and_kept_unique():
    def table(title: str, sheet: str = "") -> Table:
        return Table(key="k", title=title, sheet=sheet, columns=(Column("a", "A"),), rows=())

    long = "Persone raggiunte per comune di residenza"  # 41 characters
    book = workbook(export_files.tables_to_xlsx([
        table(long), table(long), table(long, sheet="Per comune di residenza"), table("x", sheet="'Informazioni'"),
        table("Informazioni"), table("Unaparolasolamentemoltolungasenzaspazi"),
    ], about=about()))
    assert book.sheetnames == [
        "Informazioni", "Persone raggiunte per comune…", "Persone raggiunte per… (2)",
        "Per comune di residenza", "Informazioni (2)", "Informazioni (3)", "Unaparolasolamentemoltolungase…",
    ]
    assert all(len(name) <= 31 for name in book.sheetnames)


# --- Pacts -----------------------------------------------------------------------------


def test_a_supervisor_exports_the_pacts_they_may_see_with_local_dates(session, registry, caseload):
    table = exports.pacts_table(session, registry, caseload.world.supervisor, PactFilters(), now=NOW, locale="it", zone=ZONE)
    rows = {row[0]: dict(zip([c.key for c in table.columns], row)) for row in table.rows}
    assert set(rows) == {caseload.a.id, caseload.b.id, caseload.c.id, caseload.d.id, caseload.e.id, caseload.f.id}
    a = rows[caseload.a.id]
    assert a == {
        "pact_id": caseload.a.id, "beneficiary": "Maria Rossi", "codice_fiscale": "RSSMRA85D43L219K",
        "programme": "TILDE", "stage": "Chiuso", "case_manager": "Giulia", "priority": "Alta",
        "opened_on": date(2026, 1, 12), "closed_on": date(2026, 3, 20), "next_deadline_on": None,
        # 10/02 23:30 UTC is already 11/02 in Rome.
        "last_contact_on": date(2026, 2, 11), "outcome": "Inserimento lavorativo",
    }
    # 28/12/2025 23:30 UTC is 29/12 in Rome.
    assert rows[caseload.c.id]["opened_on"] == date(2025, 12, 29)
    assert rows[caseload.c.id]["next_deadline_on"] is not None
    assert rows[caseload.b.id]["stage"] == "Rinuncia" and rows[caseload.b.id]["priority"] is None


def test_pact_filters(session, registry, caseload):
    supervisor = caseload.world.supervisor

    def ids(**filters) -> set[int]:
        table = exports.pacts_table(session, registry, supervisor, PactFilters(**filters), now=NOW, locale="en", zone=ZONE)
        return {row[0] for row in table.rows}

    assert ids(programme_id=caseload.world.chance.id) == {caseload.c.id, caseload.d.id, caseload.f.id}
    assert ids(stage="withdrawn") == {caseload.b.id, caseload.e.id}
    assert ids(case_manager_id=caseload.world.colleague.id) == {caseload.b.id}
    assert ids(status="open") == {caseload.c.id, caseload.d.id, caseload.f.id}
    assert ids(status="closed", programme_id=caseload.world.programme.id) == {caseload.a.id, caseload.b.id, caseload.e.id}
    with pytest.raises(InvalidInput) as refused:
        ids(status="archived")
    assert refused.value.errors == {"status": "unknown_status"}


def test_a_case_manager_exports_only_their_own_pacts(session, registry, caseload):
    table = exports.pacts_table(session, registry, caseload.world.colleague, PactFilters(), now=NOW, locale="en", zone=ZONE)
    assert [row[0] for row in table.rows] == [caseload.b.id]
    assert table.rows[0][4] == "Withdrawn"


@pytest.mark.parametrize("table", ["pacts", "pseudonymised"])
def test_each_list_is_read_in_one_query_however_many_pacts(session, registry, caseload, engine, table):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    session.expunge_all()
    supervisor = session.get(User, caseload.world.supervisor.id)
    build = {
        "pacts": lambda: exports.pacts_table(session, registry, supervisor, PactFilters(), now=NOW, locale="it", zone=ZONE),
        "pseudonymised": lambda: pseudonymised.pseudonymised_table(session, registry, supervisor, PERIOD, now=NOW,
                                                             secret=SECRET, locale="it", zone=ZONE),
    }[table]
    event.listen(engine, "before_cursor_execute", count)
    try:
        rows = build().rows
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) >= 4
    assert len(statements) == 1


def test_a_programme_is_named_once():
    def programme(code: str, name: str) -> Programme:
        return Programme(code=code, name=name)

    assert exports.programme_label(programme("TILDE", "TILDE")) == "TILDE"
    assert exports.programme_label(programme("SISACT", "Sis.Ac.T – Sistema di Accoglienza Territoriale")) == (
        "Sis.Ac.T – Sistema di Accoglienza Territoriale")
    assert exports.programme_label(programme("RDM", "Ricomincio da me")) == "RDM — Ricomincio da me"


def test_the_stage_filter_offers_the_stages_of_the_programmes_overseen(session, registry, world):
    tilde, chance = world.programme, world.chance
    only_tilde = exports.stage_choices(registry, [tilde], "it")
    # TILDE follows the personalised pact alone: its stages by label, none of CHANCE's, no programme names.
    assert [label for _, label in only_tilde] == [
        "Attivazione", "Chiuso", "Co-progettazione", "Monitoraggio", "Non idoneo", "Rinuncia", "Screening",
        "Segnalazione", "Sospeso",
    ]
    assert all(value.startswith("patto_personalizzato:") for value, _ in only_tilde)
    # With CHANCE too, the labels both workflows have name the programme of each.
    both = dict(exports.stage_choices(registry, [chance, tilde], "it"))
    assert both["patto_personalizzato:referral"] == "Segnalazione — TILDE"
    assert both["chance_dispersione:referral"] == "Segnalazione — CHANCE"
    assert both["chance_dispersione:engagement"] == "Aggancio e rimotivazione"
    assert both["patto_personalizzato:screening"] == "Screening"
    # The supervisor's own choices: the programmes of their territory (TILDE, CHANCE and the restricted one).
    offered = exports.export_choices(session, registry, world.supervisor, "it").stages
    assert dict(offered)["patto_personalizzato:referral"] == "Segnalazione — TILDE"


def test_a_stage_filter_holds_its_workflow(session, registry, caseload):
    supervisor = caseload.world.supervisor

    def ids(stage: str) -> set[int]:
        table = exports.pacts_table(session, registry, supervisor, PactFilters(stage=stage), now=NOW, locale="en",
                                    zone=ZONE)
        return {row[0] for row in table.rows}

    # The CHANCE pacts wait at their referral; TILDE's pacts b and e were withdrawn, a closed.
    assert ids("chance_dispersione:referral") == {caseload.c.id, caseload.d.id, caseload.f.id}
    assert ids("patto_personalizzato:referral") == set()
    assert ids("patto_personalizzato:withdrawn") == {caseload.b.id, caseload.e.id}
    assert ids("referral") == {caseload.c.id, caseload.d.id, caseload.f.id}  # a bare stage: any workflow


def test_the_indicator_sheets_have_short_readable_names(session, registry, caseload):
    scope = IndicatorScope(programme_id=caseload.world.programme.id, territory_id=None,
                           start=PERIOD.start, end=PERIOD.end)
    exported = exports.export_indicators(session, registry, caseload.world.supervisor, scope, fmt="xlsx", now=NOW,
                                         locale="it", zone=ZONE)
    assert workbook(exported.body()).sheetnames == [
        "Informazioni", "Obiettivi e risultati", "Persone e patti", "Per genere", "Per fascia d'età",
        "Per background migratorio", "Per comune di residenza", "Fasi raggiunte", "Tempi dalla segnalazione",
        "Scadenze rispettate", "Esiti dei patti chiusi", "Obiettivi raggiunti", "Motivi di rinuncia e uscita",
        "Andamento mensile",
    ]
    # The programme named once on the About sheet: TILDE's name is its code.
    about_rows = [tuple(c for c in row if c is not None)
                  for row in workbook(exported.body())["Informazioni"].iter_rows(values_only=True)]
    assert ("Progetto", "TILDE") in about_rows


def test_exporting_pacts_writes_one_access_log_entry(session, registry, caseload):
    supervisor = caseload.world.supervisor
    exported = exports.export_pacts(
        session, registry, supervisor, PactFilters(programme_id=caseload.world.programme.id, status="closed"),
        fmt="csv", now=NOW, locale="it", ip_address="10.0.0.7", zone=ZONE,
    )
    session.commit()
    assert exported.filename == "casework-pacts-TILDE-2026-04-10.csv"
    assert exported.content_type == "text/csv; charset=utf-8"
    assert [row["beneficiary"] for row in parse_csv(exported.body())] == ["Annalisa Neri", "Maria Rossi", "Giuseppe Verdi"]
    entries = session.scalars(select(AccessLogEntry)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.user_id, entry.action, entry.subject_type, entry.ip_address) == (supervisor.id, "export", "export", "10.0.0.7")
    assert entry.detail == "pacts.csv rows=3 programme=TILDE stage=all case_manager=all status=closed"


def test_the_pacts_csv_is_written_while_it_is_read_the_same_as_in_one_piece(session, registry, caseload, engine,
                                                                           monkeypatch):
    monkeypatch.setattr(export_files, "CSV_CHUNK", 1)  # a chunk for each line after the first
    supervisor, a = caseload.world.supervisor, caseload.a
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        exported = exports.export_pacts(session, registry, supervisor, PactFilters(), fmt="csv", now=NOW, locale="it",
                                        zone=ZONE)
        # The access-log entry, counted with a COUNT, is there before a row is read.
        (entry,) = session.scalars(select(AccessLogEntry)).all()
        read_before = len(statements)
        chunks = list(exported.chunks)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert exported.rows == 6
    assert entry.detail == "pacts.csv rows=6 programme=all stage=all case_manager=all status=all"
    assert len(statements) - read_before == 1  # every row in one query, read as it is sent
    assert [chunk.count(b"\r\n") for chunk in chunks] == [2, 1, 1, 1, 1, 1]  # the header with the first row
    whole = b"".join(chunks)
    table = exports.pacts_table(session, registry, supervisor, PactFilters(), now=NOW, locale="it", zone=ZONE)
    assert whole == export_files.table_to_csv(table)
    assert whole.startswith(b"\xef\xbb\xbfpact_id,beneficiary,codice_fiscale,programme,stage,case_manager,priority,"
                            b"opened_on,closed_on,next_deadline_on,last_contact_on,outcome\r\n")
    assert (f"\r\n{a.id},Maria Rossi,RSSMRA85D43L219K,TILDE,Chiuso,Giulia,Alta,2026-01-12,2026-03-20,,2026-02-11,"
            f"Inserimento lavorativo\r\n").encode() in whole


def test_a_pacts_csv_that_fails_while_sent_is_logged_and_not_finished(session, registry, caseload, monkeypatch, caplog):
    monkeypatch.setattr(export_files, "CSV_CHUNK", 1)

    def broken(*args):
        raise RuntimeError("the zone database went away")

    exported = exports.export_pacts(session, registry, caseload.world.supervisor, PactFilters(), fmt="csv", now=NOW,
                                    locale="it", zone=ZONE)
    first = next(exported.chunks)
    assert first.startswith(b"\xef\xbb\xbfpact_id,")
    monkeypatch.setattr(exports, "local_date", broken)  # the second pact's dates
    with pytest.raises(RuntimeError, match="went away"):
        list(exported.chunks)
    assert f"pacts CSV export for user {caseload.world.supervisor.id} failed after {len(first)} bytes" in caplog.text


def test_pacts_xlsx_has_the_scope_on_its_about_sheet(session, registry, caseload):
    exported = exports.export_pacts(session, registry, caseload.world.supervisor,
                                    PactFilters(stage="patto_personalizzato:withdrawn"), fmt="xlsx", now=NOW, locale="en", zone=ZONE)
    book = workbook(exported.body())
    assert book.sheetnames == ["About", "Pacts"]
    info = [tuple(cell for cell in row if cell is not None) for row in book["About"].iter_rows(values_only=True)]
    assert ("Stage", "Withdrawn — RDM, TILDE") in info and ("Programme", "All") in info
    rows = sheet_rows(book["Pacts"])
    assert sorted(row[1] for row in rows) == ["Annalisa Neri", "Giuseppe Verdi"]
    assert book["Pacts"]["H2"].is_date


# --- Pseudonymised dataset -------------------------------------------------------------


def dataset(session, registry, user, scope=PERIOD, secret=SECRET) -> list[dict]:
    table = pseudonymised.pseudonymised_table(session, registry, user, scope, now=NOW, secret=secret, locale="it", zone=ZONE)
    return [dict(zip([c.key for c in table.columns], row)) for row in table.rows]


def by_pact(rows: list[dict], secret: str, pact: Pact) -> dict:
    wanted = pseudonymised.pseudonym(pseudonymised.pseudonym_key(secret), "pact", pact.id)
    (row,) = [row for row in rows if row["pact"] == wanted]
    return row


def test_the_dataset_holds_the_pacts_open_in_the_period_and_nothing_that_names_anyone(session, registry, caseload):
    rows = dataset(session, registry, caseload.world.supervisor)
    key = pseudonymised.pseudonym_key(SECRET)
    assert {row["pact"] for row in rows} == {
        pseudonymised.pseudonym(key, "pact", pact.id) for pact in (caseload.a, caseload.b, caseload.c, caseload.d)
    }
    a = by_pact(rows, SECRET, caseload.a)
    # Worst answers: lavoro = unemployed, never worked (4) + income does not cover (3) = 7.
    assert a["need_lavoro"] == 7
    assert a == {
        **a,
        "person": pseudonymised.pseudonym(key, "beneficiary", caseload.maria.id), "programme": "TILDE",
        "workflow": "patto_personalizzato", "comune_istat": "001265", "gender": "female",
        "age_band": "35_49",  # 40 on 31/03/2026
        "migrant_background": "no", "priority": "high", "stage": "closed", "opened_month": "2026-01",
        "days_to_screening": 5,  # referred 10/01, screened 15/01
        "days_to_signature": 10,  # signed 20/01
        "days_to_activation": 12,  # activated 22/01
        "closed_month": "2026-03", "outcome": "work_entered", "goals_achieved": "fully", "withdrawal_reason": None,
    }
    b = by_pact(rows, SECRET, caseload.b)
    assert (b["age_band"], b["migrant_background"], b["stage"], b["withdrawal_reason"]) == ("under_18", "yes", "withdrawn", "moved_away")
    assert (b["days_to_screening"], b["need_lavoro"], b["closed_month"]) == (None, None, "2026-02")
    c = by_pact(rows, SECRET, caseload.c)
    assert (c["age_band"], c["comune_istat"], c["opened_month"], c["workflow"]) == ("unknown", None, "2025-12", "chance_dispersione")


def test_need_columns_follow_the_questionnaires_of_the_workflows_exported(session, registry, caseload):
    table = pseudonymised.pseudonymised_table(session, registry, caseload.world.supervisor, PERIOD, now=NOW, secret=SECRET,
                                        locale="it", zone=ZONE)
    keys = [column.key for column in table.columns]
    # Workflows in name order (chance_dispersione, patto_personalizzato), areas in file order, once each.
    chance_areas = registry.engine_for(caseload.c).definition.questionnaire.need_areas
    tilde_areas = registry.engine_for(caseload.a).definition.questionnaire.need_areas
    expected = [f"need_{area}" for area in dict.fromkeys([*chance_areas, *tilde_areas])]
    assert [key for key in keys if key.startswith("need_")] == expected
    assert len(expected) == 9  # CHANCE's four areas are among the nine of the personalised pact
    documented = {field.key for field in dataset_fields.DATASET_FIELDS}
    assert {key for key in keys if not key.startswith("need_")} | {dataset_fields.NEED_FIELD} == documented


def test_every_field_is_documented_in_the_docs_file():
    from casework import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "pseudonymised-dataset.md").read_text(encoding="utf-8")
    for field in dataset_fields.DATASET_FIELDS:
        assert f"`{field.key}`" in text, field.key
    for band in ("under_18", "18_24", "25_34", "35_49", "50_64", "65_over", "unknown"):
        assert band in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_no_name_codice_fiscale_free_text_or_exact_date_in_the_dataset_file(session, registry, caseload, fmt):
    exported = pseudonymised.export_pseudonymised(session, registry, caseload.world.supervisor, PERIOD, fmt=fmt,
                                                  now=NOW, secret=SECRET, locale="it", zone=ZONE)
    text = exported.body().decode("utf-8-sig") if fmt == "csv" else all_text_of_xlsx(exported.body())
    people = session.scalars(select(Beneficiary)).all()
    forbidden = [word for person in people for word in (person.first_name, person.last_name, person.codice_fiscale)
                 if word]
    forbidden += [PRIVATE_NOTE, "zio a Genova", "assunta da Rossi", "assenze ripetute", "annotazione", "Maria Rossi"]
    for word in forbidden:
        assert not re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE), word
    dataset_text = text if fmt == "csv" else "".join(
        str(value) for row in workbook(exported.body()).worksheets[1].iter_rows(values_only=True) for value in row
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}/\d{2}/\d{4}", dataset_text), "months only, never a day"
    if fmt == "csv":
        rows = parse_csv(exported.body())
        assert {row["opened_month"] for row in rows} == {"2026-01", "2026-02", "2025-12"}


def test_pseudonyms_are_stable_distinct_and_depend_on_the_key(session, registry, caseload):
    supervisor = caseload.world.supervisor
    first, again = dataset(session, registry, supervisor), dataset(session, registry, supervisor)
    assert first == again
    a, d, b = (by_pact(first, SECRET, pact) for pact in (caseload.a, caseload.d, caseload.b))
    assert a["person"] == d["person"], "one person, two pacts, one pseudonym"
    assert a["person"] != b["person"] and a["pact"] != d["pact"]
    assert re.fullmatch(r"[A-Z2-7]{12}", a["person"])
    assert str(caseload.maria.id) != a["person"]
    other_key = dataset(session, registry, supervisor, secret="another secret key of sufficient length!")
    assert {row["person"] for row in other_key}.isdisjoint({row["person"] for row in first})


@pytest.mark.parametrize(("birth", "band"), [
    (date(2008, 4, 1), "18_24"), (date(2008, 4, 2), "under_18"), (date(1991, 4, 1), "35_49"),
    (date(1991, 4, 2), "25_34"), (date(1961, 4, 1), "65_over"), (date(1961, 4, 2), "50_64"), (None, "unknown"),
])
def test_age_bands_on_the_last_day_of_the_period(birth, band):
    assert pseudonymised.age_band(birth, date(2026, 4, 1)) == band


def test_the_dataset_scope_narrows_by_programme_territory_and_period(session, registry, caseload):
    supervisor = caseload.world.supervisor

    def pacts(**changes) -> set[str]:
        scope = IndicatorScope(**{**PERIOD.__dict__, **changes})
        return {row["pact"] for row in dataset(session, registry, supervisor, scope)}

    key = pseudonymised.pseudonym_key(SECRET)
    name = {pseudonymised.pseudonym(key, "pact", p.id): p for p in (caseload.a, caseload.b, caseload.c, caseload.d, caseload.f)}
    assert {name[p] for p in pacts(programme_id=caseload.world.chance.id)} == {caseload.c, caseload.d}
    # Anna has no comune: a territory leaves her out.
    assert {name[p] for p in pacts(territory_id=caseload.world.comune.id)} == {caseload.a, caseload.b, caseload.d}
    assert {name[p] for p in pacts(start=date(2026, 3, 1), end=date(2026, 4, 30))} == {caseload.a, caseload.c, caseload.d, caseload.f}


def test_a_scope_outside_the_supervisor_territory_is_refused(session, registry, caseload):
    lodi = session.scalars(select(Programme).where(Programme.code == "LODI")).one()
    lodi_territory = session.scalars(select(Territory).where(Territory.name == "Lodi")).one()
    supervisor = caseload.world.supervisor
    scope = IndicatorScope(programme_id=lodi.id, territory_id=lodi_territory.id, start=date(2026, 3, 1), end=date(2026, 2, 1))
    with pytest.raises(InvalidInput) as refused:
        dataset(session, registry, supervisor, scope)
    assert refused.value.errors == {"programme": "not_an_option", "territory": "not_an_option", "end": "before_start"}


def test_exporting_the_dataset_writes_one_access_log_entry(session, registry, caseload):
    scope = IndicatorScope(programme_id=caseload.world.programme.id, territory_id=None,
                           start=PERIOD.start, end=PERIOD.end)
    exported = pseudonymised.export_pseudonymised(session, registry, caseload.world.supervisor, scope, fmt="xlsx",
                                                  now=NOW, secret=SECRET, locale="en", zone=ZONE)
    session.commit()
    assert exported.filename == "casework-pseudonymised-TILDE-2026-01-01-2026-03-31.xlsx"
    book = workbook(exported.body())
    assert book.sheetnames == ["About", "Pseudonymised dataset", "Dataset fields"]
    assert len(sheet_rows(book["Pseudonymised dataset"])) == exported.rows == 2
    (entry,) = session.scalars(select(AccessLogEntry)).all()
    assert entry.detail == "pseudonymised.xlsx rows=2 programme=TILDE territory=all period=2026-01-01/2026-03-31"


# --- Indicators ------------------------------------------------------------------------


def excel_value(value):
    """What openpyxl reads back for a value the export wrote."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    return value


def test_the_indicators_xlsx_holds_exactly_the_tables_compute_gives(session, registry, caseload):
    supervisor = caseload.world.supervisor
    scope = IndicatorScope(programme_id=caseload.world.programme.id, territory_id=None,
                           start=PERIOD.start, end=PERIOD.end)
    report = compute(session, registry, supervisor, scope, now=NOW, locale="it", zone=ZONE)
    exported = exports.export_indicators(session, registry, supervisor, scope, fmt="xlsx", now=NOW, locale="it", zone=ZONE)
    session.commit()
    book = workbook(exported.body())
    assert len(book.sheetnames) == len(report.tables) + 1
    for table, name in zip(report.tables, book.sheetnames[1:]):
        sheet = book[name]
        assert sheet_keys(sheet) == [column.key for column in table.columns], table.key
        assert [cell.value for cell in sheet[1]] == [column.label for column in table.columns]
        read = sheet_rows(sheet)
        assert len(read) == len(table.rows), table.key
        for written, back in zip(table.rows, read):
            assert tuple(back) == pytest.approx(tuple(excel_value(value) for value in written)), table.key
        for index, column in enumerate(table.columns, start=1):
            for row in range(2, len(read) + 2):
                cell = sheet.cell(row=row, column=index)
                if column.kind == "share" and cell.value is not None:
                    assert cell.number_format == "0.0%" and cell.data_type == "n"
                if column.kind == "count" and cell.value is not None:
                    assert isinstance(cell.value, int)
    reached = report.table("reached")
    assert reached.rows  # the scope has people in it: the comparison above compared numbers
    (entry,) = session.scalars(select(AccessLogEntry)).all()
    total = sum(len(table.rows) for table in report.tables)
    assert entry.detail == f"indicators.xlsx rows={total} programme=TILDE territory=all period=2026-01-01/2026-03-31"
    assert exported.filename == "casework-indicators-TILDE-2026-01-01-2026-03-31.xlsx"


def test_one_indicator_table_as_csv(session, registry, caseload):
    supervisor = caseload.world.supervisor
    report = compute(session, registry, supervisor, PERIOD, now=NOW, locale="en", zone=ZONE)
    gender = report.table("gender")
    exported = exports.export_indicators(session, registry, supervisor, PERIOD, fmt="csv", table_key="gender",
                                         now=NOW, locale="en", zone=ZONE)
    session.commit()
    rows = parse_csv(exported.body())
    assert [list(row) for row in rows][:1] == [[column.key for column in gender.columns]]
    assert [tuple(row.values()) for row in rows] == [
        tuple("" if value is None else str(value) for value in written) for written in gender.rows
    ]
    assert exported.filename == "casework-indicator-gender-all-2026-01-01-2026-03-31.csv"
    (entry,) = session.scalars(select(AccessLogEntry)).all()
    assert entry.detail.startswith("indicator:gender.csv rows=")
    with pytest.raises(InvalidInput):
        exports.export_indicators(session, registry, supervisor, PERIOD, fmt="csv", table_key="nope",
                                  now=NOW, locale="en", zone=ZONE)


def test_a_restricted_case_is_exported_without_its_comune(session, registry, caseload):
    # The manager assigned to the restricted case sees it; its comune would point to the person.
    rows = dataset(session, registry, caseload.world.manager)
    secret = by_pact(rows, SECRET, caseload.restricted)
    assert (secret["programme"], secret["comune_istat"], secret["gender"]) == ("RDM", None, "female")
    assert by_pact(rows, SECRET, caseload.a)["comune_istat"] == "001265"


def test_restricted_cases_count_in_the_supervisor_dataset_anonymously_from_five(session, registry, caseload):
    supervisor, manager = caseload.world.supervisor, caseload.world.manager
    key = pseudonymised.pseudonym_key(SECRET)
    # One restricted case the supervisor is not assigned to: too few to tell no one apart.
    table = pseudonymised.pseudonymised_table(session, registry, supervisor, PERIOD, now=NOW, secret=SECRET,
                                              locale="en", zone=ZONE)
    assert pseudonymised.pseudonym(key, "pact", caseload.restricted.id) not in {row[1] for row in table.rows}
    assert "fewer than 5 cases" in table.note and "RDM" in table.note

    programme = caseload.restricted.programme
    others = [Beneficiary(first_name=f"Persona{n}", last_name="Riservata", gender=Gender.FEMALE,
                          comune=caseload.world.comune) for n in range(4)]
    session.add_all(others)
    session.flush()
    for person in others:
        ops.open_pact(session, registry, beneficiary=person, programme=programme, case_manager=manager,
                      actor=manager, clock=at("2026-02-02"))
    # Lucia also has an ordinary pact: her restricted row must not be joinable to it.
    ordinary = ops.open_pact(session, registry, beneficiary=caseload.secret_person, programme=caseload.world.programme,
                             case_manager=manager, actor=manager, clock=at("2026-02-03"))
    session.commit()

    table = pseudonymised.pseudonymised_table(session, registry, supervisor, PERIOD, now=NOW, secret=SECRET,
                                              locale="en", zone=ZONE)
    rows = [dict(zip([c.key for c in table.columns], row)) for row in table.rows]
    restricted_rows = [row for row in rows if row["programme"] == "RDM"]
    assert len(restricted_rows) == 5 and "fewer than 5" not in table.note
    assert all(row["comune_istat"] is None for row in restricted_rows)
    lucia_restricted = by_pact(rows, SECRET, caseload.restricted)
    lucia_ordinary = by_pact(rows, SECRET, ordinary)
    assert lucia_ordinary["person"] == pseudonymised.pseudonym(key, "beneficiary", caseload.secret_person.id)
    assert lucia_ordinary["comune_istat"] == "001265"
    assert lucia_restricted["person"] not in {row["person"] for row in rows if row["programme"] != "RDM"}

    # The case manager assigned to them keeps her one person, one pseudonym.
    mine = dataset(session, registry, manager)
    assert by_pact(mine, SECRET, caseload.restricted)["person"] == lucia_ordinary["person"]
