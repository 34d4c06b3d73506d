"""A copy of everything held about a person (GDPR art. 15 and 20): for the person's case manager
or a supervisor who sees the record, with a reason recorded, as a page to print or as JSON.
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from casework.models import AccessLogEntry, ContactChannel, HouseholdMember, Pact, Relation
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _client(app: Flask, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def _person_with_history(app, db, people):
    db.add(HouseholdMember(beneficiary_id=people.beneficiary.id, first_name="Luca", relation=Relation.CHILD))
    pact = db.get(Pact, people.pact.id)
    ops.log_contact(db, app.extensions["casework"]["registry"], pact, contact_at=datetime.now(UTC),
                    channel=ContactChannel.PHONE, notes="ha chiamato la scuola", actor=people.manager,
                    clock=ops.Clock(datetime.now(UTC), ZONE))
    db.commit()


def test_the_case_manager_gets_everything_as_json_with_the_reason_logged(app, db, people):
    _person_with_history(app, db, people)
    client = _client(app, "giulia")
    url = f"/beneficiaries/{people.beneficiary.id}/copy"
    assert client.get(f"/beneficiaries/{people.beneficiary.id}").status_code == 200  # an access to find in the copy
    response = submit(client, url, {"reason": "richiesta dell'interessata del 3/12", "output": "json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    copy = json.loads(response.get_data(as_text=True))
    data = copy["data"]
    assert data["beneficiary"][0]["codice_fiscale"] == "BNCMRA85D43I703I"
    assert data["household_member"][0]["first_name"] == "Luca"
    assert [pact["id"] for pact in data["pact"]] == [people.pact.id]
    assert data["follow_up_contact"][0]["notes"] == "ha chiamato la scuola"
    assert data["transition_record"]  # the pact's opening, at least
    assert any(entry["action"] == "view" and entry["username"] == "giulia" for entry in copy["accesses"])
    logged = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all()
    assert [(entry.subject_type, entry.subject_id) for entry in logged] == [("beneficiary", people.beneficiary.id)]
    assert "richiesta dell'interessata del 3/12" in logged[0].detail


def test_the_printable_copy_shows_each_part(app, db, people):
    _person_with_history(app, db, people)
    client = _client(app, "elena")  # the territory's supervisor sees the record
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/copy", {"reason": "verifica DPO", "output": "html"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    for part in ("Dati personali", "Nucleo familiare", "Patti", "Contatti di monitoraggio", "Chi ha consultato la scheda",
                 "verifica DPO", "BNCMRA85D43I703I", "Luca"):
        assert part in page, part


def test_a_copy_needs_a_reason(app, db, people):
    client = _client(app, "giulia")
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/copy", {"reason": "   ", "output": "json"})
    assert response.status_code == 422
    assert "Scrivi perché" in html.unescape(response.get_data(as_text=True))
    assert db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all() == []


@pytest.mark.parametrize("username", ["marco", "paolo", "admin"])
def test_who_may_not_see_the_person_gets_no_copy(app, db, people, username):
    client = _client(app, username)
    url = f"/beneficiaries/{people.beneficiary.id}/copy"
    assert client.get(url).status_code in (403, 404)
    answer = submit(client, url, {"reason": "curiosità", "output": "json"}, form_page="/")
    assert answer.status_code in (403, 404)
    assert db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all() == []


def test_a_restricted_pact_stays_out_of_a_copy_made_by_someone_not_assigned(app, db, people):
    pact = db.get(Pact, people.pact.id)
    second = ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=people.beneficiary,
                           programme=people.restricted, case_manager=people.colleague, actor=people.colleague,
                           clock=ops.Clock(datetime.now(UTC), ZONE))
    db.commit()
    client = _client(app, "giulia")
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/copy", {"reason": "richiesta", "output": "json"})
    copy = json.loads(response.get_data(as_text=True))
    assert [row["id"] for row in copy["data"]["pact"]] == [pact.id]
    assert all(row["pact_id"] != second.id for row in copy["data"].get("transition_record", []))


def test_the_persons_page_lists_her_consents_in_force_and_withdrawn(app, db, people):
    from casework.models import DataSharingConsent, Organisation, OrganisationKind

    now = datetime.now(UTC)
    coop = Organisation(name="Cooperativa Il Ponte", kind=list(OrganisationKind)[0])
    school = Organisation(name="Scuola media Gobetti", kind=list(OrganisationKind)[0])
    db.add_all([coop, school])
    db.flush()
    db.add_all([
        DataSharingConsent(beneficiary_id=people.beneficiary.id, organisation_id=coop.id, given_on=now.date(),
                           purpose="Invio allo sportello lavoro", collected_by_id=people.manager.id, recorded_at=now),
        DataSharingConsent(beneficiary_id=people.beneficiary.id, organisation_id=school.id, given_on=now.date(),
                           purpose="Colloquio con i docenti", collected_by_id=people.manager.id, recorded_at=now,
                           withdrawn_at=now),
    ])
    db.commit()
    page = html.unescape(_client(app, "giulia").get(f"/beneficiaries/{people.beneficiary.id}").get_data(as_text=True))
    consents = page.split('id="consents-title"', 1)[1].split("</section>", 1)[0]
    assert "Cooperativa Il Ponte" in consents and "Invio allo sportello lavoro" in consents and "non revocato" in consents
    assert "Scuola media Gobetti" in consents and "revocato il" in consents and "Giulia Rossi" in consents
