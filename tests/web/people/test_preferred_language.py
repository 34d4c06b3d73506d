"""The beneficiary's preferred language: chosen from the one list of languages, shown on the
record, refused when not one of them (by the form and by the core). On both databases."""

from __future__ import annotations

from dataclasses import replace

import pytest

from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import Beneficiary
from casework.people import beneficiaries as people_core
from tests.conftest import MONDAY_9AM, ZONE
from tests.people.test_beneficiaries import ANNA
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def maria_form(maria: Beneficiary, **changes) -> dict:
    return {"first_name": "Maria", "last_name": "Bianchi", "codice_fiscale": maria.codice_fiscale,
            "gender": "female", "birth_date": "03/04/1985", "comune_id": str(maria.comune_id),
            "version": str(maria.version), **changes}


def test_the_case_manager_chooses_it_in_italian_and_sees_it_on_the_record(app, db, people):
    client = app.test_client()
    assert sign_in(client, "giulia").status_code == 302
    maria = db.get(Beneficiary, people.beneficiary.id)
    form = client.get(f"/beneficiaries/{maria.id}/edit").get_data(as_text=True)
    assert "Lingua preferita" in form and '<option value="ar">Arabo</option>' in form
    assert '<option value="ti">Tigrino</option>' in form

    response = submit(client, f"/beneficiaries/{maria.id}/edit", maria_form(maria, preferred_language="ar"))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Beneficiary, maria.id).preferred_language == "ar"
    record = client.get(f"/beneficiaries/{maria.id}").get_data(as_text=True)
    assert "Lingua preferita" in record and "Arabo" in record
    edit_again = client.get(f"/beneficiaries/{maria.id}/edit").get_data(as_text=True)
    assert '<option selected value="ar">' in edit_again or 'value="ar" selected' in edit_again


def test_a_language_not_on_the_list_is_refused_next_to_the_field(app, db, people):
    client = app.test_client()
    assert sign_in(client, "giulia").status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    maria = db.get(Beneficiary, people.beneficiary.id)
    response = submit(client, f"/beneficiaries/{maria.id}/edit", maria_form(maria, preferred_language="xx"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a language from the list." in html and '<a href="#preferred_language">' in html
    db.expire_all()
    assert db.get(Beneficiary, maria.id).preferred_language == ""


def test_the_core_refuses_an_unknown_code_and_keeps_a_known_one(app, db, people):
    clock = Clock(MONDAY_9AM, ZONE)
    manager = db.get(type(people.manager), people.manager.id)
    with pytest.raises(InvalidInput) as refused:
        people_core.create_beneficiary(db, manager, replace(ANNA, preferred_language="klingon"), clock=clock)
    assert refused.value.errors == {"preferred_language": "unknown_language"}
    anna = people_core.create_beneficiary(db, manager, replace(ANNA, preferred_language="uk"), clock=clock)
    assert anna.preferred_language == "uk"
