"""Bringing in an existing caseload: good files, bad rows, the same file twice, deadlines from the dates given."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casework.administration import caseload_import as caseload
from casework.clock import Clock
from casework.models import (
    AdministrativeLogEntry,
    Beneficiary,
    DeadlineAnchorMove,
    Pact,
    PactDeadline,
    Priority,
    Referral,
    ReferralSource,
    Role,
    Territory,
    TerritoryKind,
    TransitionRecord,
    User,
)
from casework.reminders.deadline_rows import ReminderPolicy, refresh_queued
from tests.administration.caseload_files import csv_bytes, row, xlsx_bytes
from tests.conftest import ZONE

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 2 March 2026, 09:00 in Rome


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW, ZONE)


def counts(session: Session) -> tuple[int, int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model)) for model in  # type: ignore[return-value]
                 (Beneficiary, Pact, Referral, TransitionRecord))


def dry(session, registry, world, data: bytes, clock, name: str = "casi.csv"):
    return caseload.dry_run(session, registry, world.supervisor, caseload.read_table(name, data), clock=clock)


def run(session, registry, world, data: bytes, clock, name: str = "casi.csv"):
    result = caseload.import_caseload(session, registry, world.supervisor, caseload.read_table(name, data),
                                      clock=clock, filename=name)
    session.commit()
    return result


GOOD = [
    row(0),
    row(1, **{"Fase": "Segnalazione", "Data apertura": "", "Data segnalazione": "16/02/2026"}),
    row(2, **{"Fase": "follow_up", "Data segnalazione": "02/01/2026", "Data apertura": "05/01/2026", "Ultimo contatto": "20/02/2026",
              "Programma": "tilde", "Case manager": "marco@example.org", "Priorità": "Alta"}),
    row(3, Programma="CHANCE", Fase="Aggancio e rimotivazione", Comune="Settimo Torinese"),
]


@pytest.mark.parametrize("kind", ["csv-semicolon-bom", "csv-comma", "xlsx"])
def test_a_good_file_creates_people_and_pacts_in_their_stages(session, registry, world, clock, kind) -> None:
    data, name = {
        "csv-semicolon-bom": (csv_bytes(GOOD), "casi.csv"),
        "csv-comma": (csv_bytes(GOOD, delimiter=",", bom=False), "casi.csv"),
        "xlsx": (xlsx_bytes(GOOD), "casi.xlsx"),
    }[kind]
    before = counts(session)
    plan = dry(session, registry, world, data, clock, name)
    assert plan.problems == []
    assert plan.counts == {"people_created": 4, "people_matched": 0, "pacts_created": 4, "pacts_matched": 0}
    assert [(r.number, r.stage, r.person, r.pact) for r in plan.rows] == [
        (2, "co_design", "create", "create"), (3, "referral", "create", "create"),
        (4, "follow_up", "create", "create"), (5, "engagement", "create", "create"),
    ]
    assert counts(session) == before  # the dry run wrote nothing

    _, summary = run(session, registry, world, data, clock, name)
    assert (summary.people_created, summary.pacts_created) == (4, 4)
    pacts = {p.beneficiary.first_name: p for p in session.scalars(select(Pact).where(Pact.beneficiary_id != world.beneficiary.id))}
    anna = pacts["Anna"]
    assert (anna.state, anna.case_manager_id, anna.priority) == ("co_design", world.manager.id, Priority.MEDIUM)
    assert anna.beneficiary.comune_id == world.comune.id and anna.beneficiary.birth_date is not None
    assert anna.referral.source == ReferralSource.SOCIAL_SERVICES and anna.referral.referred_on == date(2026, 1, 10)
    assert pacts["Giulia"].case_manager_id == world.colleague.id and pacts["Giulia"].priority == Priority.HIGH
    assert pacts["Luca"].programme_id == world.chance.id and pacts["Luca"].beneficiary.comune_id == world.comune.id
    record = session.scalars(select(TransitionRecord).where(TransitionRecord.pact_id == anna.id)).one()
    assert (record.event, record.from_state, record.to_state, record.actor_id) == (
        "import", None, "co_design", world.supervisor.id)
    assert record.at.astimezone(ZONE) == datetime(2026, 1, 15, tzinfo=ZONE)
    entry = session.scalars(select(AdministrativeLogEntry)).one()
    assert (entry.subject_type, entry.actor_id, entry.subject_label) == ("import", world.supervisor.id, name)
    assert entry.changes["pacts_created"] == [None, "4"]


def test_imported_deadlines_count_from_the_dates_given(session, registry, world, clock) -> None:
    run(session, registry, world, csv_bytes(GOOD), clock)
    pacts = {p.beneficiary.first_name: p for p in session.scalars(select(Pact).where(Pact.beneficiary_id != world.beneficiary.id))}
    local = {name: pact.next_deadline_at.astimezone(ZONE).date() for name, pact in pacts.items()}
    # Co-design entered on the opening date, 15/01: signature within 30 days.
    assert local["Anna"] == date(2026, 2, 14)
    assert pacts["Anna"].state_entered_at.astimezone(ZONE).date() == date(2026, 1, 15)
    # Still in referral: screening within 10 working days of the referral (16/02 -> 02/03).
    assert local["Marco"] == date(2026, 3, 2)
    assert pacts["Marco"].opened_at.astimezone(ZONE).date() == date(2026, 2, 16)
    # Follow-up: a contact every 30 days from the last contact, 20/02 (not from entering, 05/01).
    assert local["Giulia"] == date(2026, 3, 22)
    move = session.scalars(select(DeadlineAnchorMove).where(DeadlineAnchorMove.pact_id == pacts["Giulia"].id)).one()
    assert (move.rule_id, move.anchor_on) == ("follow_up_contact", date(2026, 2, 20))

    # The deadline rows follow at the scheduler's sweep, from the same days.
    refresh_queued(session, registry, now=NOW, policy=ReminderPolicy(zone=ZONE), limit=100)
    session.commit()
    rows = {(row.pact_id, row.rule_id): row.due_on for row in session.scalars(select(PactDeadline))}
    assert rows[(pacts["Anna"].id, "pact_signature_due")] == date(2026, 2, 14)
    assert rows[(pacts["Giulia"].id, "follow_up_contact")] == date(2026, 3, 22)
    assert rows[(pacts["Marco"].id, "screening_due")] == date(2026, 3, 2)


def test_the_same_file_twice_changes_nothing(session, registry, world, clock) -> None:
    data = csv_bytes(GOOD)
    run(session, registry, world, data, clock)
    after_first = counts(session)
    plan = dry(session, registry, world, data, clock)
    assert plan.problems == []
    assert plan.counts == {"people_created": 0, "people_matched": 4, "pacts_created": 0, "pacts_matched": 4}
    run(session, registry, world, data, clock)
    assert counts(session) == after_first


def test_a_person_already_registered_is_matched_and_gets_the_new_programme(session, registry, world, clock) -> None:
    run(session, registry, world, csv_bytes([row(0)]), clock)
    plan = dry(session, registry, world, csv_bytes([row(0), row(0, Programma="CHANCE", Fase="engagement")]), clock)
    assert [(r.person, r.pact) for r in plan.rows] == [("match", "match"), ("match", "create")]
    run(session, registry, world, csv_bytes([row(0), row(0, Programma="CHANCE", Fase="engagement")]), clock)
    assert session.scalar(select(func.count()).select_from(Beneficiary).where(Beneficiary.first_name == "Anna")) == 1
    assert session.scalar(select(func.count()).select_from(Pact).where(Pact.programme_id == world.chance.id)) == 1


def test_a_file_with_bad_rows_reports_each_problem_and_imports_nothing(session, registry, world, clock) -> None:
    elsewhere = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    session.add_all([
        elsewhere,
        User(username="lontano", full_name="Lontano", email="lontano@example.org", password_hash="!",
             role=Role.CASE_MANAGER, territory=elsewhere),
    ])
    from casework.models import Programme

    session.add(Programme(code="LODI", name="Lodi", funder="—", territory=elsewhere, starts_on=date(2025, 1, 1),
                          workflow_name="patto_personalizzato"))
    session.commit()
    bad = [
        row(0),  # good
        row(1, **{"Codice fiscale": "RSSMRA85T10A562X"}),
        row(2, **{"Case manager": "nessuno"}),
        row(3, **{"Case manager": "lontano"}),
        row(4, Programma="NOPE"),
        row(5, Programma="LODI"),
        row(6, Fase="Volo sulla luna"),
        row(7, **{"Data segnalazione": "10/01/2027"}),
        row(8, **{"Data segnalazione": "20/01/2026", "Data apertura": "15/01/2026"}),
        row(0),  # the first row again
        row(9, Nome=""),
        row(10, **{"Data apertura": "31/02/2026"}),
    ]
    before = counts(session)
    plan = dry(session, registry, world, csv_bytes(bad), clock)
    found = [(p.row, p.column, p.value, p.code) for p in plan.problems]
    code_1 = bad[1]["Codice fiscale"]
    assert found == [
        (3, "codice_fiscale", code_1, "invalid_checksum"),
        (4, "case_manager", "nessuno", "unknown_case_manager"),
        (5, "case_manager", "lontano", "case_manager_not_overseen"),
        (6, "programme", "NOPE", "unknown_programme"),
        (7, "programme", "LODI", "programme_not_overseen"),
        (8, "stage", "Volo sulla luna", "unknown_stage"),
        (9, "referred_on", "10/01/2027", "in_future"),
        (10, "opened_on", "15/01/2026", "opened_before_referral"),
        (11, "codice_fiscale", bad[0]["Codice fiscale"], "duplicate_row"),
        (12, "first_name", "", "required"),
        (13, "opened_on", "31/02/2026", "invalid_date"),
    ]
    messages = {p.code: caseload.problem_message(p, "it") for p in plan.problems}
    assert messages["duplicate_row"] == "Stessa persona e stesso progetto della riga 2."
    assert messages["unknown_stage"] == "Questa fase non è nel flusso del progetto."
    assert messages["in_future"] == "La data è nel futuro."

    with pytest.raises(caseload.CaseloadRefused) as refused:
        caseload.import_caseload(session, registry, world.supervisor, caseload.read_table("casi.csv", csv_bytes(bad)),
                                 clock=clock)
    session.rollback()
    assert len(refused.value.plan.problems) == len(found)
    assert counts(session) == before
    assert session.scalar(select(func.count()).select_from(AdministrativeLogEntry)) == 0


def test_a_missing_column_and_unreadable_files_are_reported(session, registry, world, clock) -> None:
    data = b"Codice fiscale;Nome\nRSSNNA85D43L219V;Anna\n"
    plan = dry(session, registry, world, data, clock)
    assert {(p.row, p.column, p.code) for p in plan.problems} >= {(1, "programme", "missing_column"),
                                                                 (1, "stage", "missing_column")}
    for name, data, text in [
        ("casi.pdf", b"%PDF-1.4", "Il file non è né un CSV né un file Excel (.xlsx)."),
        ("casi.csv", "Codice fiscale;Nome\nRSS;Niccolò\n".encode("latin-1"), None),
        ("casi.csv", b"Codice fiscale;Nome\n", None),
        ("casi.xlsx", b"PK\x03\x04broken", None),
    ]:
        with pytest.raises(caseload.UnreadableFile) as error:
            caseload.read_table(name, data)
        if text:
            assert caseload.unreadable_message(error.value, "it") == text


def test_an_xlsx_with_formulas_merged_cells_and_dates_typed_as_text(session, registry, world, clock) -> None:
    from tests.administration.caseload_files import spreadsheet_with_formulas_and_merged_cells

    data = spreadsheet_with_formulas_and_merged_cells([row(0), row(1), row(2)])
    plan = dry(session, registry, world, data, clock, "casi.xlsx")
    assert plan.problems == []
    run(session, registry, world, data, clock, "casi.xlsx")
    pacts = list(session.scalars(select(Pact).where(Pact.beneficiary_id != world.beneficiary.id).order_by(Pact.id)))
    # Names come from formulas (their saved values), the programme from a merged cell over three rows,
    # the referral date is a real date, the opening date text typed as dd/mm/yyyy.
    assert [p.beneficiary.last_name for p in pacts] == ["ROSSI", "ROSSI", "ROSSI"]
    assert all(p.programme_id == world.programme.id for p in pacts)
    assert [p.referral.referred_on for p in pacts] == [date(2026, 1, 10)] * 3
    assert [p.opened_at.astimezone(ZONE).date() for p in pacts] == [date(2026, 1, 15)] * 3


def test_only_a_supervisor_imports(session, registry, world, clock) -> None:
    with pytest.raises(caseload.ImportNotAllowed):
        caseload.dry_run(session, registry, world.manager, caseload.read_table("casi.csv", csv_bytes(GOOD)),
                         clock=clock)


@pytest.mark.slow  # about half a minute per database: the figures are in bench/caseload_import.py
def test_five_thousand_rows_import(session, registry, world, clock) -> None:
    rows = [row(index, **({"Fase": "follow_up", "Ultimo contatto": "10/02/2026"} if index % 3 == 0 else {}))
            for index in range(5000)]
    data = csv_bytes(rows)
    plan = dry(session, registry, world, data, clock)
    assert plan.problems == []
    _, summary = run(session, registry, world, data, clock)
    assert (summary.people_created, summary.pacts_created) == (5000, 5000)
    assert session.scalar(select(func.count()).select_from(Pact).where(Pact.next_deadline_at.is_not(None))) == 5000
