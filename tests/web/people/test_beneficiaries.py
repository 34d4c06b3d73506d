"""Beneficiary pages: list, registration, record, edit, history, household, opening a pact.

Each page is tried by every role: the case manager of Maria's pact (giulia), a colleague
who is not assigned (marco), the supervisor of the territory (elena), a supervisor of
another territory (paolo) and an administrator.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from codicefiscale import codicefiscale
from sqlalchemy import func, select

from casework.clock import Clock
from casework.models import (
    AccessLogEntry,
    Beneficiary,
    ChangeRecord,
    Gender,
    Notification,
    Pact,
    Programme,
    Territory,
    TerritoryKind,
)
from casework.people import beneficiaries as core
from casework.supervision.reassignment import reassign_pacts
from tests.conftest import ZONE
from tests.web.conftest import csrf_token, sign_in, submit

LUCIA_CF = codicefiscale.encode(lastname="Ferrero", firstname="Lucia", gender="F", birthdate="12/08/1992",
                                birthplace="Settimo Torinese")


def signed_in(client, username: str):
    sign_in(client, username)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def page(response) -> str:
    return response.get_data(as_text=True)


def lucia(**changes) -> dict:
    return {"first_name": "Lucia", "last_name": "Ferrero", "codice_fiscale": LUCIA_CF, "gender": "female",
            "birth_date": "12/08/1992", "comune_id": "", "citizenship": "italiana", **changes}


def maria(people, **changes) -> dict:
    person = people.beneficiary
    return {"first_name": person.first_name, "last_name": person.last_name, "codice_fiscale": person.codice_fiscale,
            "gender": "female", "birth_date": "03/04/1985", "comune_id": str(person.comune_id),
            "version": str(person.version), **changes}


def access_log(db, beneficiary_id: int) -> list[AccessLogEntry]:
    db.expire_all()
    return list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.subject_type == "beneficiary",
                                                        AccessLogEntry.subject_id == beneficiary_id)))


def reread(db, beneficiary_id: int) -> Beneficiary:
    db.expire_all()
    return db.get(Beneficiary, beneficiary_id)


def person_urls(beneficiary_id: int) -> list[str]:
    return [f"/beneficiaries/{beneficiary_id}", f"/beneficiaries/{beneficiary_id}/edit",
            f"/beneficiaries/{beneficiary_id}/history"]


# --- who may see what ---------------------------------------------------------------------

def test_the_pages_need_a_signed_in_user(client_and_people):
    client, people = client_and_people
    for url in ["/beneficiaries", "/beneficiaries/new", *person_urls(people.beneficiary.id)]:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_administrators_are_refused(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "admin")
    for url in ["/beneficiaries", "/beneficiaries/new", *person_urls(people.beneficiary.id)]:
        assert client.get(url).status_code == 403, url
    assert submit(client, "/beneficiaries/new", lucia(), form_page="/").status_code == 403
    assert submit(client, f"/beneficiaries/{people.beneficiary.id}/pacts", {"programme_id": people.programme.id},
                  form_page="/").status_code == 403
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 1
    assert access_log(db, people.beneficiary.id) == []


def test_a_colleague_not_assigned_gets_not_found(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "marco")
    person_id = people.beneficiary.id
    for url in person_urls(person_id):
        assert client.get(url).status_code == 404, url
    assert submit(client, f"/beneficiaries/{person_id}/edit", maria(people, phone="011 555 1234"),
                  form_page="/").status_code == 404
    assert submit(client, f"/beneficiaries/{person_id}/pacts", {"programme_id": people.programme.id},
                  form_page="/").status_code == 404
    assert "Bianchi" not in page(client.get("/beneficiaries"))
    assert access_log(db, person_id) == []
    assert reread(db, person_id).phone == ""


def test_the_supervisor_of_the_territory_sees_and_edits(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "elena")
    assert "Bianchi" in page(client.get("/beneficiaries"))
    assert client.get(f"/beneficiaries/{people.beneficiary.id}").status_code == 200
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/edit", maria(people, phone="011 555 1234"),
                      form_page="/")
    assert response.status_code == 302
    assert reread(db, people.beneficiary.id).phone == "011 555 1234"


def test_a_supervisor_of_another_territory_gets_not_found(client_and_people, db, app):
    client, people = client_and_people
    # A pact in paolo's own territory must not open the others to him.
    lodi = db.scalar(select(Territory).where(Territory.name == "Ambito di Lodi"))
    comune = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi)
    programme = Programme(code="CHANCE", name="CHANCE", funder="—", territory=lodi, starts_on=date(2025, 1, 1),
                          workflow_name="patto_personalizzato")
    local = Beneficiary(first_name="Sara", last_name="Lodigiani", gender=Gender.FEMALE, comune=comune)
    db.add_all([comune, programme, local])
    db.flush()
    from casework.pacts import operations as ops

    ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=local, programme=programme,
                  case_manager=people.colleague, actor=people.colleague, clock=Clock(datetime.now(UTC), ZONE))
    db.commit()
    signed_in(client, "paolo")
    for url in person_urls(people.beneficiary.id):
        assert client.get(url).status_code == 404, url
    listed = page(client.get("/beneficiaries"))
    assert "Lodigiani" in listed and "Bianchi" not in listed
    assert access_log(db, people.beneficiary.id) == []


# --- the list -----------------------------------------------------------------------------

def test_the_list_is_searchable_and_paginated(client_and_people, db):
    client, people = client_and_people
    db.add_all([Beneficiary(first_name=f"Persona{n:02d}", last_name="Gallo", gender=Gender.MALE,
                            created_by_id=people.manager.id) for n in range(30)])
    db.commit()
    signed_in(client, "giulia")
    first = page(client.get("/beneficiaries"))
    assert "You can see 31 people." in first
    assert "Bianchi Maria" in first and "Gallo Persona22" in first and "Gallo Persona29" not in first
    assert 'aria-current="page"' in first and "Next page" in first
    second = page(client.get("/beneficiaries?page=2"))
    assert "Gallo Persona29" in second and "Bianchi" not in second
    found = page(client.get("/beneficiaries?q=bncmra85"))
    assert "1 person matches the filters" in found and "Bianchi Maria" in found and "Gallo" not in found
    assert "Nobody" not in page(client.get("/beneficiaries?page=abc"))  # a bad page number is the first page


# --- the record ---------------------------------------------------------------------------

def test_the_record_shows_details_household_and_pacts_and_is_logged(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    core.add_household_member(db, db.get(type(people.manager), people.manager.id), people.beneficiary,
                              core.HouseholdDetails("Luca", core.Relation.CHILD, birth_date=date(2015, 9, 1)),
                              expected_version=people.beneficiary.version, clock=Clock(datetime.now(UTC), ZONE))
    db.commit()
    response = client.get(f"/beneficiaries/{people.beneficiary.id}", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    text = page(response)
    assert response.status_code == 200
    assert "BNCMRA85D43I703I" in text and "03/04/1985" in text and "Settimo Torinese" in text
    assert "Luca" in text and "Child" in text and "01/09/2015" in text
    assert "TILDE" in text and "Referral" in text and "Screening within 10 working days" in text
    if "pacts.show" in client.application.view_functions:
        assert f'href="/pacts/{people.pact.id}"' in text
    [entry] = access_log(db, people.beneficiary.id)
    assert (entry.user_id, entry.action, entry.ip_address) == (people.manager.id, "view", "10.1.2.3")


def test_a_person_that_does_not_exist_is_not_found(client_and_people):
    client, _ = client_and_people
    signed_in(client, "giulia")
    for url in person_urls(9999):
        assert client.get(url).status_code == 404


# --- registering --------------------------------------------------------------------------

def test_registering_a_person(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    response = submit(client, "/beneficiaries/new", lucia(comune_id=str(people.beneficiary.comune_id),
                                                          migrant_background="y", phone="+39 333 1234567"))
    assert response.status_code == 302
    created = db.scalar(select(Beneficiary).where(Beneficiary.codice_fiscale == LUCIA_CF))
    assert created is not None
    assert response.headers["Location"] == f"/beneficiaries/{created.id}"
    assert (created.created_by_id, created.birth_date, created.migrant_background, created.comune_id) == (
        people.manager.id, date(1992, 8, 12), True, people.beneficiary.comune_id)
    shown = page(client.get(response.headers["Location"]))
    assert "Lucia Ferrero is registered." in shown
    assert "Ferrero Lucia" in page(client.get("/beneficiaries"))


def test_wrong_input_is_shown_next_to_each_field(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "giulia")
    response = submit(client, "/beneficiaries/new", lucia(
        first_name="", codice_fiscale=LUCIA_CF[:-1] + ("A" if LUCIA_CF[-1] != "A" else "B"),
        birth_date="31/02/1990", email="lucia-at-example", gender=""))
    text = page(response)
    assert response.status_code == 422
    assert "Write the date as dd/mm/yyyy" in text
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 1
    # The form's own checks passed except the date; correct it and the core's checks speak.
    response = submit(client, "/beneficiaries/new", lucia(
        first_name="", codice_fiscale=LUCIA_CF[:-1] + ("A" if LUCIA_CF[-1] != "A" else "B"),
        email="lucia-at-example", gender="", birth_date="12/08/2092"))
    text = page(response)
    assert response.status_code == 422
    for message in ("Fill in this field.", "This codice fiscale is not valid: check for a mistyped character.",
                    "The birth date cannot be in the future.", "Write an e-mail address"):
        assert message in text, message
    assert 'id="first_name-error"' in text and 'aria-describedby="first_name-error"' in text
    assert 'value="lucia-at-example"' in text  # what was typed stays
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 1


def test_a_codice_fiscale_that_does_not_match_the_birth_date(client_and_people):
    client, _ = client_and_people
    signed_in(client, "giulia")
    response = submit(client, "/beneficiaries/new", lucia(birth_date="13/08/1992"))
    assert response.status_code == 422
    assert "The codice fiscale does not match the birth date." in page(response)


def test_a_likely_duplicate_needs_confirmation(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    same_person = lucia(first_name="MARIA", last_name="Bianchì", codice_fiscale="", birth_date="03/04/1985")
    response = submit(client, "/beneficiaries/new", same_person)
    text = page(response)
    assert response.status_code == 200
    assert "A person with the same name and birth date already exists." in text
    assert f'href="/beneficiaries/{people.beneficiary.id}"' in text
    assert "register anyway" in text
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 1

    response = submit(client, "/beneficiaries/new", {**same_person, "confirm_duplicates": "y"})
    assert response.status_code == 302
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 2


def test_a_duplicate_the_user_may_not_see_is_not_described(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "marco")
    response = submit(client, "/beneficiaries/new", lucia(first_name="Maria", last_name="Bianchi",
                                                          codice_fiscale=people.beneficiary.codice_fiscale,
                                                          birth_date="03/04/1985"))
    text = page(response)
    assert response.status_code == 422
    # Nothing says the person exists, nor who follows her: only that a supervisor must look.
    assert "A supervisor must check this registration" in text
    assert "This registration needs a supervisor: they have been notified" in text
    for leak in ("already exists", "already registered", "another team", f"/beneficiaries/{people.beneficiary.id}"):
        assert leak not in text, leak
    assert "Settimo Torinese" not in text.split("<form")[0]  # nothing of the other record is shown
    assert "register anyway" not in text  # a codice fiscale is unique: no way around it
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 1
    notices = db.scalars(select(Notification).where(Notification.user_id == people.supervisor.id)).all()
    assert len(notices) == 1 and "Marco Rossi" in notices[0].message["en"]
    assert "BNCMRA85D43I703I" in notices[0].message["it"]


def test_a_person_in_a_restricted_programme_is_not_confirmed_to_an_unassigned_manager(client_and_people, db):
    """Ricomincio da me (violence): typing her codice fiscale must not tell a colleague she is followed."""
    client, people = client_and_people
    db.expire_all()
    pact = db.get(Pact, people.pact.id)
    pact.programme_id = people.restricted.id
    db.commit()
    signed_in(client, "marco")
    hidden = submit(client, "/beneficiaries/new", lucia(first_name="Maria", last_name="Bianchi",
                                                        codice_fiscale=people.beneficiary.codice_fiscale,
                                                        birth_date="03/04/1985"))
    # The same answer as for a person followed by another team in an ordinary programme.
    pact.programme_id = people.programme.id
    db.commit()
    ordinary = submit(client, "/beneficiaries/new", lucia(first_name="Maria", last_name="Bianchi",
                                                          codice_fiscale=people.beneficiary.codice_fiscale,
                                                          birth_date="03/04/1985"))
    assert hidden.status_code == ordinary.status_code == 422
    assert _alert(page(hidden)) == _alert(page(ordinary))
    assert "needs a supervisor" in _alert(page(hidden))


def _alert(text: str) -> str:
    return text.split('role="alert"', 1)[1].split("</section>", 1)[0]


# --- editing ------------------------------------------------------------------------------

def test_editing_keeps_a_history(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    form = page(client.get(f"/beneficiaries/{people.beneficiary.id}/edit"))
    assert 'name="version" type="hidden" value="1"' in form and 'value="03/04/1985"' in form
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/edit",
                      maria(people, phone="011 555 1234", gender="female", citizenship="italiana"))
    assert response.status_code == 302
    person = reread(db, people.beneficiary.id)
    assert (person.phone, person.citizenship, person.version) == ("011 555 1234", "italiana", 2)
    records = db.scalars(select(ChangeRecord).where(ChangeRecord.entity_id == person.id)).all()
    assert {(r.field, r.new_value, r.actor_id) for r in records} == {
        ("phone", "011 555 1234", people.manager.id), ("citizenship", "italiana", people.manager.id)}

    history = page(client.get(f"/beneficiaries/{person.id}/history"))
    assert "Giulia Rossi" in history and "Phone" in history and "011 555 1234" in history
    assert "Citizenship" in history
    actions = [entry.detail for entry in access_log(db, person.id)]
    assert "edit" in actions and "history" in actions


def test_invalid_edits_are_refused_next_to_the_field(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/edit",
                      maria(people, email="no", birth_date="01/01/1899", codice_fiscale=""))
    text = page(response)
    assert response.status_code == 422
    assert "The birth date cannot be before 1900." in text and "Write an e-mail address" in text
    assert reread(db, people.beneficiary.id).version == 1


def test_an_edit_over_someone_elses_change_is_refused_and_keeps_the_typed_input(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    read = maria(people, phone="011 111 1111", address="Via Roma 1")
    # Meanwhile the record is changed by someone else.
    core.update_beneficiary(db, db.get(type(people.manager), people.manager.id), people.beneficiary,
                            core.PersonDetails(first_name="Maria", last_name="Bianchi", gender=Gender.FEMALE,
                                               codice_fiscale="BNCMRA85D43I703I", birth_date=date(1985, 4, 3),
                                               comune_id=people.beneficiary.comune_id, phone="011 999 9999"),
                            expected_version=1, clock=Clock(datetime.now(UTC), ZONE))
    db.commit()

    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/edit", read)
    text = page(response)
    assert response.status_code == 409
    assert "Someone else changed this person" in text
    assert 'value="011 111 1111"' in text and 'value="Via Roma 1"' in text  # what was typed
    assert "011 999 9999" in text  # what is stored now
    assert 'name="version" type="hidden" value="2"' in text
    assert reread(db, people.beneficiary.id).phone == "011 999 9999"

    # Sent again knowingly, from the page that showed the conflict, it is saved.
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/edit", {**read, "version": "2"})
    assert response.status_code == 302
    assert reread(db, people.beneficiary.id).phone == "011 111 1111"


# --- household ----------------------------------------------------------------------------

def test_household_members_are_added_and_removed(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    person_id = people.beneficiary.id
    url = f"/beneficiaries/{person_id}/household"
    response = submit(client, url, {"member-first_name": "Luca", "member-relation": "child",
                                    "member-birth_date": "01/09/2015", "member-version": "1"},
                      form_page=f"/beneficiaries/{person_id}/edit")
    assert response.status_code == 302
    person = reread(db, person_id)
    [luca] = person.household
    assert (luca.first_name, luca.relation.value, luca.birth_date, person.version) == ("Luca", "child",
                                                                                      date(2015, 9, 1), 2)
    edit_page = page(client.get(f"/beneficiaries/{person_id}/edit"))
    assert "Remove Luca" in edit_page

    refused = submit(client, url, {"member-first_name": " ", "member-relation": "", "member-birth_date": "1/1/3000",
                                   "member-version": "2"})
    assert refused.status_code == 422
    # Next to each field, and once more in the summary at the top of the page, with a link to it.
    assert page(refused).count('role="alert">Fill in this field.</div>') == 2
    assert page(refused).count("Fill in this field.</a>") == 2 and "Correct 3 errors" in page(refused)
    assert "The birth date cannot be in the future." in page(refused)
    refused = submit(client, url, {"member-first_name": "Luca", "member-relation": "child",
                                   "member-birth_date": "settembre 2015", "member-version": "2"})
    assert refused.status_code == 422 and "Write the date as dd/mm/yyyy" in page(refused)

    stale = submit(client, f"/beneficiaries/{person_id}/household/{luca.id}/remove", {"version": "1"})
    assert stale.status_code == 409
    assert len(reread(db, person_id).household) == 1
    removed = submit(client, f"/beneficiaries/{person_id}/household/{luca.id}/remove", {"version": "2"})
    assert removed.status_code == 302
    assert reread(db, person_id).household == []
    history = page(client.get(f"/beneficiaries/{person_id}/history"))
    assert history.count('<th scope="row">Household member</th>') == 2 and "Luca (child, 2015-09-01)" in history


# --- opening a pact -----------------------------------------------------------------------

def test_opening_a_pact_from_the_record(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "giulia")
    url = f"/beneficiaries/{people.beneficiary.id}/pacts"
    form_page = f"/beneficiaries/{people.beneficiary.id}"
    shown = page(client.get(form_page))
    assert f'<option value="{people.restricted.id}">Ricomincio da me</option>' in shown

    refused = submit(client, url, {"programme_id": str(people.programme.id)}, form_page=form_page)
    assert refused.status_code == 422
    assert "This person already has an open pact in this programme." in page(refused)
    assert submit(client, url, {"programme_id": ""}, form_page=form_page).status_code == 422
    assert submit(client, url, {"programme_id": "9999"}, form_page=form_page).status_code == 422

    response = submit(client, url, {"programme_id": str(people.restricted.id)}, form_page=form_page)
    assert response.status_code == 302
    pact = db.scalar(select(Pact).where(Pact.programme_id == people.restricted.id))
    assert pact is not None and pact.case_manager_id == people.manager.id
    assert pact.beneficiary_id == people.beneficiary.id
    expected = (f"/pacts/{pact.id}" if "pacts.show" in client.application.view_functions
                else f"/beneficiaries/{people.beneficiary.id}")
    assert response.headers["Location"] == expected


def test_a_programme_of_another_territory_is_not_offered(client_and_people, db):
    client, people = client_and_people
    lodi = db.scalar(select(Territory).where(Territory.name == "Ambito di Lodi"))
    elsewhere = Programme(code="LODI", name="Progetto di Lodi", funder="—", territory=lodi,
                          starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato")
    db.add(elsewhere)
    db.commit()
    signed_in(client, "giulia")
    form_page = f"/beneficiaries/{people.beneficiary.id}"
    assert "Progetto di Lodi" not in page(client.get(form_page))
    response = submit(client, f"/beneficiaries/{people.beneficiary.id}/pacts", {"programme_id": str(elsewhere.id)},
                      form_page=form_page)
    assert response.status_code == 422
    assert db.scalar(select(Pact).where(Pact.programme_id == elsewhere.id)) is None


def test_the_creator_sees_a_person_without_pacts(client_and_people):
    client, _ = client_and_people
    signed_in(client, "giulia")
    response = submit(client, "/beneficiaries/new", lucia())
    created_url = response.headers["Location"]
    shown = page(client.get(created_url))
    assert "No pacts you can see." in shown and "Open the pact" in shown
    other = client.application.test_client()
    signed_in(other, "marco")
    assert other.get(created_url).status_code == 404


def test_the_registrar_loses_the_record_once_the_pact_goes_to_a_colleague(client_and_people, db, app):
    client, people = client_and_people
    signed_in(client, "giulia")
    created_url = submit(client, "/beneficiaries/new", lucia()).headers["Location"]
    person_id = int(created_url.rstrip("/").rsplit("/", 1)[-1])
    own_urls = [*person_urls(person_id), f"/beneficiaries/{person_id}/documents"]
    for url in own_urls:  # registered, no pact yet: the registrar's own
        assert client.get(url).status_code == 200, url

    opened = submit(client, f"/beneficiaries/{person_id}/pacts", {"programme_id": str(people.programme.id)},
                    form_page=created_url)
    assert opened.status_code == 302
    pact = db.scalar(select(Pact).where(Pact.beneficiary_id == person_id))
    assert pact.case_manager_id == people.manager.id
    reassign_pacts(db, app.extensions["casework"]["registry"], people.supervisor, {pact.id: pact.version},
                   people.colleague.id, "Cambio di équipe", now=datetime.now(UTC), zone=ZONE)
    db.commit()
    before = len(access_log(db, person_id))

    for url in own_urls:
        assert client.get(url).status_code == 404, url
    edited = submit(client, f"/beneficiaries/{person_id}/edit",
                    lucia(phone="011 555 1234", version=str(reread(db, person_id).version)), form_page="/")
    assert edited.status_code == 404
    assert submit(client, f"/beneficiaries/{person_id}/documents", {}, form_page="/").status_code == 404
    assert "Ferrero" not in page(client.get("/beneficiaries"))
    assert reread(db, person_id).phone == ""
    assert len(access_log(db, person_id)) == before

    colleague = client.application.test_client()
    signed_in(colleague, "marco")
    for url in own_urls:
        assert colleague.get(url).status_code == 200, url
