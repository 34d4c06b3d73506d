"""The organisation pages: administrators manage all, supervisors their own territory, case managers none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, Organisation, OrganisationKind
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    return client


@pytest.fixture
def lodi_coop(db, people) -> Organisation:
    coop = Organisation(name="Coop Lodi", kind=OrganisationKind.COOPERATIVE,
                        territory=people.other_supervisor.territory)
    db.add(coop)
    db.commit()
    return coop


def organisation(db, name: str) -> Organisation:
    db.expire_all()
    return db.scalars(select(Organisation).where(Organisation.name == name)).one()


def test_case_managers_get_403_on_every_page(app, people, lodi_coop):
    client = client_for(app, "giulia")
    for url in ("/organisations", "/organisations/new", f"/organisations/{lodi_coop.id}/edit"):
        assert client.get(url).status_code == 403
    token = csrf_token(client, "/notifications")
    assert client.post(f"/organisations/{lodi_coop.id}/active", data={"csrf_token": token,
                                                                       "active": "0"}).status_code == 403
    assert 'href="/organisations"' not in client.get("/notifications").get_data(as_text=True)


def test_a_supervisor_sees_only_their_territory_s_organisations_others_are_404(app, db, people, lodi_coop):
    client = client_for(app, "elena")
    page = client.get("/organisations").get_data(as_text=True)
    assert 'href="/organisations"' in page and "Coop Lodi" not in page
    assert client.get(f"/organisations/{lodi_coop.id}/edit").status_code == 404
    assert client.get("/organisations/999999/edit").status_code == 404
    response = submit(client, f"/organisations/{lodi_coop.id}/active", {"active": "0"}, form_page="/organisations")
    assert response.status_code == 404
    assert organisation(db, "Coop Lodi").active is True
    # The territories offered are the supervisor's own and those below.
    page = client.get("/organisations/new").get_data(as_text=True)
    assert "Settimo Torinese" in page and "Ambito di Lodi" not in page
    response = submit(client, "/organisations/new", {"name": "Scuola Media Gobetti", "kind": "school",
                                                     "territory_id": str(people.other_supervisor.territory_id)})
    assert response.status_code == 422 and "Choose your territory or one below it." in response.get_data(as_text=True)


def test_an_administrator_creates_edits_deactivates_and_reactivates(app, db, people, lodi_coop):
    client = client_for(app, "admin")
    assert "Coop Lodi" in client.get("/organisations").get_data(as_text=True)
    settimo = people.beneficiary.comune
    response = submit(client, "/organisations/new", {"name": "Associazione Vela", "kind": "association",
                                                     "territory_id": str(settimo.id)})
    assert response.status_code == 302
    vela = organisation(db, "Associazione Vela")
    assert (vela.kind, vela.territory_id, vela.active) == (OrganisationKind.ASSOCIATION, settimo.id, True)

    response = submit(client, f"/organisations/{vela.id}/edit", {"name": "Associazione Vela APS", "kind": "association",
                                                                 "territory_id": str(settimo.id)})
    assert response.status_code == 302
    submit(client, f"/organisations/{vela.id}/active", {"active": "0"}, form_page="/organisations")
    page = client.get("/organisations").get_data(as_text=True)
    assert "Associazione Vela APS" in page and "Deactivated" in page and "Reactivate" in page
    assert organisation(db, "Associazione Vela APS").active is False
    submit(client, f"/organisations/{vela.id}/active", {"active": "1"}, form_page="/organisations")
    assert organisation(db, "Associazione Vela APS").active is True
    actions = db.scalars(select(AdministrativeLogEntry.action).where(
        AdministrativeLogEntry.subject_type == "organisation").order_by(AdministrativeLogEntry.id)).all()
    assert actions == ["create", "update", "deactivate", "reactivate"]


def test_bad_organisation_input_is_shown_next_to_the_fields(app, db, people, lodi_coop):
    client = client_for(app, "admin")
    response = submit(client, "/organisations/new", {"name": "coop lodi", "kind": "", "territory_id": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Another organisation already has this name." in page and "Choose the type of organisation." in page
    response = submit(client, f"/organisations/{lodi_coop.id}/edit", {"name": "", "kind": "bank",
                                                                      "territory_id": "999999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Fill in this field." in page and "Choose your territory" in page
    assert organisation(db, "Coop Lodi").kind == OrganisationKind.COOPERATIVE
    assert db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all() == []


def test_the_organisation_pages_speak_italian_by_default(app, people, lodi_coop):
    client = app.test_client()
    sign_in(client, "admin")
    page = client.get("/organisations").get_data(as_text=True)
    assert ">Organizzazioni<" in page and "cooperativa" in page and "Disattiva" in page
