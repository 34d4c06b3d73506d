"""The beneficiary form as a person meets it: every wrong field at once, a summary that leads to
each, the limits shown, and only the comuni of the user's territory. On both databases."""

from __future__ import annotations

import re

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import func, select

from casework.models import Beneficiary, Territory, TerritoryKind
from tests.web.conftest import csrf_token, sign_in, submit

LUCIA_CF = codicefiscale.encode(lastname="Ferrero", firstname="Lucia", gender="F", birthdate="12/08/1992",
                                birthplace="Settimo Torinese")


@pytest.fixture
def app(engine_app):
    return engine_app


def signed_in(app, username: str, *, english: bool = True):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def lucia(**changes) -> dict:
    return {"first_name": "Lucia", "last_name": "Ferrero", "codice_fiscale": LUCIA_CF, "gender": "female",
            "birth_date": "12/08/1992", "comune_id": "", "citizenship": "italiana", **changes}


def people_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Beneficiary))


@pytest.fixture
def lodi(db, people) -> Territory:
    """A comune of another territory (paolo's), which giulia does not work in."""
    area = db.scalar(select(Territory).where(Territory.name == "Ambito di Lodi"))
    comune = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=area)
    db.add(comune)
    db.commit()
    return comune


def test_every_wrong_field_is_shown_at_once_with_a_summary_linking_to_each(app, db, people):
    client = signed_in(app, "giulia")
    bad_checksum = LUCIA_CF[:-1] + ("A" if LUCIA_CF[-1] != "A" else "B")
    response = submit(client, "/beneficiaries/new", lucia(
        first_name="", birth_date="31/02/1992", codice_fiscale=bad_checksum, email="lucia@", phone="abc"))

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The date the form could not read and the codice fiscale the core refused, in one answer.
    for field, message in [
        ("first_name", "Fill in this field."),
        ("birth_date", "Write the date as dd/mm/yyyy, e.g. 17/05/1990."),
        ("codice_fiscale", "This codice fiscale is not valid: check for a mistyped character."),
        ("email", "Write an e-mail address such as name@example.it."),
        ("phone", "Write a phone number: digits, spaces and an optional leading +."),
    ]:
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', html), field
        assert re.search(rf'aria-describedby="[^"]*{field}-error', html), field
        assert f'<a href="#{field}">' in html, field
        assert message in html, field
    summary = re.search(r'<div class="alert alert-danger error-summary"[^>]*>', html).group(0)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "data-error-summary" in summary
    assert "Correct 5 errors" in html
    assert people_count(db) == 1  # Maria only


def test_the_summary_counts_in_italian(app, db, people):
    client = signed_in(app, "giulia", english=False)
    response = submit(client, "/beneficiaries/new", lucia(first_name=""))
    assert response.status_code == 422
    assert "Correggi 1 errore" in response.get_data(as_text=True)
    response = submit(client, "/beneficiaries/new", lucia(first_name="", last_name=""))
    assert "Correggi 2 errori" in response.get_data(as_text=True)


def test_a_valid_form_has_no_summary_and_registers(app, db, people):
    client = signed_in(app, "giulia")
    assert "data-error-summary" not in client.get("/beneficiaries/new").get_data(as_text=True)
    assert submit(client, "/beneficiaries/new", lucia()).status_code == 302
    assert people_count(db) == 2


def test_the_limits_are_shown_and_a_name_too_long_says_the_limit(app, db, people):
    client = signed_in(app, "giulia")
    html = client.get("/beneficiaries/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="first_name"[^>]*maxlength="100"', html)
    assert re.search(r'<input[^>]*id="address"[^>]*maxlength="200"', html)
    response = submit(client, "/beneficiaries/new", lucia(first_name="L" * 150))
    assert response.status_code == 422
    assert "At most 100 characters (you wrote 150)." in response.get_data(as_text=True)
    assert people_count(db) == 1


def test_the_comuni_offered_are_those_of_the_users_territory(app, db, people, lodi):
    html = signed_in(app, "giulia").get("/beneficiaries/new").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html.split('id="comune_id"')[1].split("</select>")[0])
    assert [name for _, name in options] == ["Settimo Torinese"]
    html = signed_in(app, "paolo").get("/beneficiaries/new").get_data(as_text=True)
    options = re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', html.split('id="comune_id"')[1].split("</select>")[0])
    assert [name for _, name in options] == ["Lodi"]


def test_a_comune_outside_the_territory_is_refused_when_posted(app, db, people, lodi):
    client = signed_in(app, "giulia")
    response = submit(client, "/beneficiaries/new", lucia(comune_id=str(lodi.id)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a comune of your territory from the list." in html
    assert re.search(r'<select[^>]*aria-invalid="true"[^>]*id="comune_id"|<select[^>]*id="comune_id"[^>]*aria-invalid="true"', html)
    assert people_count(db) == 1


def test_editing_keeps_a_comune_outside_the_territory_but_cannot_choose_one(app, db, people, lodi):
    maria = db.get(Beneficiary, people.beneficiary.id)
    maria.comune_id = lodi.id  # registered elsewhere, say before she moved
    db.commit()
    client = signed_in(app, "giulia")
    html = client.get(f"/beneficiaries/{maria.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{lodi.id}">Lodi</option>' in html or f'value="{lodi.id}" selected' in html
    data = {"first_name": "Maria", "last_name": "Bianchi", "codice_fiscale": maria.codice_fiscale, "gender": "female",
            "birth_date": "03/04/1985", "comune_id": str(lodi.id), "phone": "011 1234567",
            "version": str(maria.version)}
    response = submit(client, f"/beneficiaries/{maria.id}/edit", data)
    assert response.status_code == 302
    db.expire_all()
    assert (db.get(Beneficiary, maria.id).comune_id, db.get(Beneficiary, maria.id).phone) == (lodi.id, "011 1234567")


@pytest.mark.parametrize(("gender", "code", "registered", "on"), [
    ("female", "F", "Lucia Ferrero è stata registrata.", "Registrata il "),
    ("male", "M", "Lucia Ferrero è stato registrato.", "Registrato il "),
    ("other", None, "Registrazione di Lucia Ferrero completata.", "Registrazione del "),
])
def test_messages_about_the_person_agree_with_their_gender(app, db, people, gender, code, registered, on):
    client = signed_in(app, "giulia", english=False)
    cf = codicefiscale.encode(lastname="Ferrero", firstname="Lucia", gender=code, birthdate="12/08/1992",
                              birthplace="Settimo Torinese") if code else ""
    response = submit(client, "/beneficiaries/new", lucia(gender=gender, codice_fiscale=cf), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert registered in html and not re.search(r"\w/a\b", html.split("<main")[1].split("</main>")[0])
    person_id = db.scalar(select(Beneficiary.id).where(Beneficiary.last_name == "Ferrero"))
    history = client.get(f"/beneficiaries/{person_id}/history").get_data(as_text=True)
    assert f"{on}" in history and "Registrato/a" not in history
