"""Restricting the processing of a person's data from their page: the form and its errors in
Italian, the banner (who, when, why), lifting by a supervisor, and a write anywhere on the
restricted record answered 409 with a page saying who restricted it. SQLite and PostgreSQL."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from casework.models import Beneficiary, BeneficiaryRestriction, HouseholdMember, JournalEntry, Pact
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _client(app: Flask, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def _page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _restrict(client, people, reason: str = "la persona contesta l'esattezza dei dati"):
    return submit(client, f"/beneficiaries/{people.beneficiary.id}/restriction", {"reason": reason},
                  form_page=f"/beneficiaries/{people.beneficiary.id}")


def _restrictions(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(BeneficiaryRestriction))


def test_the_case_manager_restricts_from_the_person_page_and_the_banner_says_who_when_why(app, db, people):
    client = _client(app, "giulia")
    record = f"/beneficiaries/{people.beneficiary.id}"
    assert "Limita il trattamento dei dati" in _page(client.get(record))
    response = _restrict(client, people)
    assert response.status_code == 302 and response.headers["Location"].endswith(record)
    page = _page(client.get(record))
    assert "Trattamento limitato" in page and "Limitato da Giulia Rossi il" in page
    assert "la persona contesta l'esattezza dei dati" in page
    assert "Limita il trattamento dei dati" not in page
    assert "Revoca la limitazione" not in page  # only a supervisor lifts it
    # Reading stays allowed: the pact's page and the copy of the data.
    pact_page = client.get(f"/pacts/{people.pact.id}")
    assert pact_page.status_code == 200 and "Limitato da Giulia Rossi il" in _page(pact_page)
    assert client.get(f"{record}/copy").status_code == 200


@pytest.mark.parametrize(("reason", "message"), [
    ("   ", "Scrivi il motivo: viene registrato con la limitazione."),
    ("x" * 501, "501"),
])
def test_a_restriction_without_a_reason_is_refused_in_italian(app, db, people, reason, message):
    client = _client(app, "giulia")
    response = _restrict(client, people, reason)
    assert response.status_code == 422
    assert message in _page(response)
    assert _restrictions(db) == 0


def test_restricting_twice_is_refused_next_to_the_reason(app, db, people):
    client = _client(app, "giulia")
    assert _restrict(client, people).status_code == 302
    twice = submit(client, f"/beneficiaries/{people.beneficiary.id}/restriction", {"reason": "di nuovo"})
    assert twice.status_code == 422
    assert "Il trattamento dei dati di questa persona è già limitato." in _page(twice)
    assert _restrictions(db) == 1


def test_a_write_on_a_restricted_record_answers_409_saying_who_restricted_it(app, db, people):
    assert _restrict(_client(app, "elena"), people).status_code == 302
    client = _client(app, "giulia")
    person_id = people.beneficiary.id
    household = submit(client, f"/beneficiaries/{person_id}/household",
                       {"member-first_name": "Luca", "member-relation": "child", "member-birth_date": "01/09/2015",
                        "member-version": "1"}, form_page=f"/beneficiaries/{person_id}/edit")
    at = (datetime.now(UTC) - timedelta(hours=2)).astimezone(ZoneInfo("Europe/Rome")).strftime("%Y-%m-%dT%H:%M")
    journal = submit(client, f"/pacts/{people.pact.id}/journal",
                     {"journal-kind": "phone_call", "journal-at": at, "journal-text": "Telefonata"}, form_page="/")
    for refused in (household, journal):
        assert refused.status_code == 409
        page = _page(refused)
        assert "Trattamento limitato" in page and "limitato da Elena Rossi il" in page
        assert "Non è stato salvato nulla." in page
    db.expire_all()
    assert db.scalars(select(HouseholdMember)).all() == [] and db.scalars(select(JournalEntry)).all() == []
    assert db.get(Beneficiary, person_id).version == 1 and db.get(Pact, people.pact.id).version == 1


def test_a_supervisor_lifts_the_restriction_with_a_reason_and_writing_works_again(app, db, people):
    assert _restrict(_client(app, "giulia"), people).status_code == 302
    supervisor = _client(app, "elena")
    record = f"/beneficiaries/{people.beneficiary.id}"
    page = _page(supervisor.get(record))
    assert "Revoca la limitazione" in page
    lift_url = f"{record}/restriction/lift"
    blank = submit(supervisor, lift_url, {"reason": ""}, form_page=record)
    assert blank.status_code == 422 and "Scrivi il motivo" in _page(blank)
    assert submit(supervisor, lift_url, {"reason": "dati rettificati"}, form_page=record).status_code == 302
    page = _page(supervisor.get(record))
    assert "Trattamento limitato" not in page and "Limita il trattamento dei dati" in page
    again = submit(supervisor, lift_url, {"reason": "di nuovo"})
    assert again.status_code == 422 and "non è limitato" in _page(again)
    manager = _client(app, "giulia")
    added = submit(manager, f"{record}/household", {"member-first_name": "Luca", "member-relation": "child",
                                                   "member-birth_date": "01/09/2015", "member-version": "1"},
                   form_page=f"{record}/edit")
    assert added.status_code == 302


def test_erasing_a_restricted_person_says_why_not(app, db, people):
    assert _restrict(_client(app, "elena"), people).status_code == 302
    client = _client(app, "elena")
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/erase",
                      {"reason": "richiesta", "confirm": "y"})
    assert response.status_code == 422
    assert "revoca la limitazione prima di cancellare la persona" in _page(response)


@pytest.mark.parametrize(("username", "restrict_status", "lift_status"), [
    ("marco", 404, 403), ("paolo", 404, 404), ("admin", 403, 403), ("giulia", 200, 403),
])
def test_who_may_open_the_forms(app, db, people, username, restrict_status, lift_status):
    client = _client(app, username)
    record = f"/beneficiaries/{people.beneficiary.id}"
    assert client.get(f"{record}/restriction").status_code == restrict_status
    assert client.get(f"{record}/restriction/lift").status_code == lift_status
