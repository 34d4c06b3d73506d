"""The beneficiary list page on both databases: stage and next deadline columns, the filters,
pagination that keeps them, odd input, and each role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from casework.models import Beneficiary, Gender
from tests.web.conftest import sign_in


@pytest.fixture
def app(engine_app):
    return engine_app


def signed_in(app, username: str):
    client = app.test_client()
    sign_in(client, username)
    return client


def text(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_list_shows_stage_and_next_deadline(app, db, people):
    pact = db.merge(people.pact)
    pact.next_deadline_at = datetime.now(UTC) - timedelta(days=2)
    db.commit()
    page = text(signed_in(app, "giulia").get("/beneficiaries"))
    assert "<th scope=\"col\">Fase</th>" in page and "<th scope=\"col\">Prossima scadenza</th>" in page
    assert "TILDE · Segnalazione" in page
    assert 'badge-overdue ms-1">In ritardo</span>' in page


def test_the_filters_keep_and_drop_people(app, db, people):
    db.add(Beneficiary(first_name="Dora", last_name="Esposito", gender=Gender.FEMALE, created_by_id=people.manager.id))
    db.commit()
    client = signed_in(app, "giulia")
    everyone = text(client.get("/beneficiaries"))
    assert "Bianchi Maria" in everyone and "Esposito Dora" in everyone and "Nessun patto aperto" in everyone
    by_programme = text(client.get("/beneficiaries", query_string={"programme": people.programme.id}))
    assert "Bianchi Maria" in by_programme and "Esposito Dora" not in by_programme
    assert "1 persona corrisponde ai filtri." in by_programme
    assert f'<option value="{people.programme.id}" selected>TILDE</option>' in by_programme
    by_stage = text(client.get("/beneficiaries", query_string={"stage": "patto_personalizzato:referral"}))
    assert "Bianchi Maria" in by_stage and "Esposito Dora" not in by_stage
    assert '<optgroup label="' in by_stage
    by_text = text(client.get("/beneficiaries", query_string={"q": "espo"}))
    assert "Esposito Dora" in by_text and "Bianchi Maria" not in by_text


@pytest.mark.parametrize("query", [
    {"q": "   "}, {"q": "%_"}, {"programme": "abc"}, {"programme": " "}, {"programme": "99999999999999999999"},
    {"stage": "  "}, {"stage": "x" * 500}, {"deadline": "ieri"}, {"deadline": " "}, {"page": "-4"},
    {"page": "99999999999999999999"},
])
def test_odd_filters_never_fail(app, people, query):
    page = text(signed_in(app, "giulia").get("/beneficiaries", query_string=query))
    assert "Beneficiari" in page


@pytest.mark.parametrize("query", [{"q": "\x00"}, {"stage": "a\x00"}, {"q": "\x01"}])
def test_a_control_character_in_a_filter_is_named_not_searched(app, people, query):
    """No one types a NUL: the address was altered. PostgreSQL cannot compare text holding one."""
    response = signed_in(app, "giulia").get("/beneficiaries", query_string=query)
    assert response.status_code == 400 and "Caratteri non ammessi" in response.get_data(as_text=True)


def test_pages_keep_the_filters(app, db, people):
    db.add_all([Beneficiary(first_name=f"Persona{n:02d}", last_name="Gallo", gender=Gender.MALE,
                            created_by_id=people.manager.id) for n in range(30)])
    db.commit()
    page = text(signed_in(app, "giulia").get("/beneficiaries", query_string={"q": "gallo"}))
    assert "30 persone corrispondono ai filtri." in page
    assert 'href="/beneficiaries?page=2&amp;q=gallo"' in page


def test_roles(app, people):
    assert "Bianchi Maria" in text(signed_in(app, "elena").get("/beneficiaries"))
    assert "Bianchi Maria" not in text(signed_in(app, "paolo").get("/beneficiaries"))
    assert "Bianchi Maria" not in text(signed_in(app, "marco").get("/beneficiaries"))
    assert signed_in(app, "admin").get("/beneficiaries").status_code == 403
    assert app.test_client().get("/beneficiaries").status_code == 302
