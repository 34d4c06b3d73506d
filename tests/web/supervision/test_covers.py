"""Cover pages: the supervisor (elena) names a colleague (marco) to cover an absent case
manager (giulia), sees the list and ends a cover early. Tried by every role; on SQLite and
PostgreSQL. While covering, marco sees giulia's pact (logged as under cover) and a line on Oggi."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from casework.models import AbsenceCover, AccessLogEntry, AdministrativeLogEntry
from tests.conftest import ZONE
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def _today() -> date:
    return datetime.now(ZONE).date()


def _form(people, **changes) -> dict:
    data = {"absent_user_id": str(people.manager.id), "covering_user_id": str(people.colleague.id),
            "starts_on": _today().strftime("%d/%m/%Y"), "ends_on": (_today() + timedelta(days=3)).strftime("%d/%m/%Y"),
            "reason": "ferie"}
    return {**data, **changes}


def _signed_in(app, username):
    client = app.test_client()
    sign_in(client, username)
    return client


@pytest.mark.parametrize(("username", "status"), [
    ("giulia", 403), ("marco", 403), ("admin", 403), ("elena", 200), ("paolo", 200),
])
def test_each_role_against_the_cover_pages(app, people, username, status):
    client = _signed_in(app, username)
    assert client.get("/covers").status_code == status
    assert client.get("/covers/new").status_code == status
    posted = submit(client, "/covers/new", {}, form_page="/account")
    assert posted.status_code == (403 if status == 403 else 422)
    menu = client.get("/account").get_data(as_text=True)
    assert ('href="/covers"' in menu) is (status == 200)


def test_anonymous_visitors_go_to_the_sign_in_page(app, people):
    response = app.test_client().get("/covers")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_supervisor_names_a_cover_and_the_colleague_works_under_it(app, people, db):
    elena = _signed_in(app, "elena")
    marco = _signed_in(app, "marco")
    pact_url = f"/pacts/{people.pact.id}"
    assert marco.get(pact_url).status_code == 404
    assert "Stai coprendo" not in marco.get("/").get_data(as_text=True)

    response = submit(elena, "/covers/new", _form(people))
    assert response.status_code == 302
    listing = elena.get("/covers").get_data(as_text=True)
    assert "Giulia Rossi" in listing and "Marco Rossi" in listing and "in corso" in listing
    assert "Marco Rossi copre Giulia Rossi dal" in listing

    last_day = (_today() + timedelta(days=3)).strftime("%d/%m/%Y")
    assert f"Stai coprendo Giulia Rossi fino al {last_day}." in marco.get("/").get_data(as_text=True)
    assert marco.get(pact_url).status_code == 200
    assert marco.get(f"/beneficiaries/{people.beneficiary.id}").status_code == 200
    details = db.execute(select(AccessLogEntry.subject_type, AccessLogEntry.detail)
                         .where(AccessLogEntry.user_id == people.colleague.id)).all()
    assert ("pact", "cover for giulia") in {tuple(row) for row in details}
    assert all("cover for giulia" in detail for _, detail in details)

    # Ended early by the supervisor: at once, marco no longer sees the pact.
    cover = db.scalars(select(AbsenceCover)).one()
    assert submit(elena, f"/covers/{cover.id}/end", {}, form_page="/covers").status_code == 302
    assert "terminata" in elena.get("/covers").get_data(as_text=True)
    assert marco.get(pact_url).status_code == 404
    assert "Stai coprendo" not in marco.get("/").get_data(as_text=True)
    assert [(entry.action, entry.subject_type) for entry in db.scalars(
        select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in").order_by(AdministrativeLogEntry.id))] == [("create", "cover"), ("end", "cover")]


@pytest.mark.parametrize(("changes", "message"), [
    ({"covering_user_id": "giulia"}, "Scegli un collega diverso dal case manager assente."),
    ({"ends_on": "01/01/2020", "starts_on": "02/01/2020"}, "La data di fine non può essere precedente alla data di inizio."),
    ({"ends_on": "01/01/2020", "starts_on": "01/01/2020"}, "La copertura sarebbe già finita"),
    ({"ends_on": "31/02/2030"}, "Scrivi la data nel formato gg/mm/aaaa"),
    ({"ends_on": ""}, "Compila questo campo."),
    ({"absent_user_id": "9999"}, "Scegli un case manager del tuo territorio."),
    ({"absent_user_id": "abc"}, "Scegli un case manager del tuo territorio."),
    ({"covering_user_id": "elena"}, "Scegli un case manager del tuo territorio."),
    ({"reason": "x" * 301}, "Il testo è troppo lungo."),
])
def test_a_bad_cover_is_refused_next_to_the_field(app, people, db, changes, message):
    ids = {"giulia": str(people.manager.id), "elena": str(people.supervisor.id)}
    changes = {name: ids.get(value, value) for name, value in changes.items()}
    elena = _signed_in(app, "elena")
    response = submit(elena, "/covers/new", _form(people, **changes))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalars(select(AbsenceCover)).all() == []
    assert db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all() == []


def test_only_the_supervisor_of_the_territory_ends_a_cover(app, people, db):
    elena = _signed_in(app, "elena")
    submit(elena, "/covers/new", _form(people))
    cover = db.scalars(select(AbsenceCover)).one()
    paolo = _signed_in(app, "paolo")
    assert "Giulia Rossi" not in paolo.get("/covers").get_data(as_text=True)
    assert submit(paolo, f"/covers/{cover.id}/end", {}, form_page="/covers").status_code == 404
    giulia = _signed_in(app, "giulia")
    assert submit(giulia, f"/covers/{cover.id}/end", {}, form_page="/account").status_code == 403
    assert submit(elena, "/covers/999999/end", {}, form_page="/covers").status_code == 404
    db.expire_all()
    assert db.get(AbsenceCover, cover.id).ended_at is None
    # Ended twice: the second time says it is over already.
    submit(elena, f"/covers/{cover.id}/end", {}, form_page="/covers")
    response = submit(elena, f"/covers/{cover.id}/end", {}, form_page="/covers", follow_redirects=True)
    assert "Questa copertura è già terminata." in response.get_data(as_text=True)
