"""The territory pages: an administrator builds and edits the tree; other roles get 403."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, Territory, TerritoryKind
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    return client


def territory(db, **by) -> Territory:
    db.expire_all()
    return db.scalars(select(Territory).filter_by(**by)).one()


def test_other_roles_get_403_and_anonymous_users_the_sign_in_page(app, people):
    settimo = people.beneficiary.comune
    pages = ["/admin/territories", "/admin/territories/new", "/admin/territories/comuni/new",
             f"/admin/territories/{settimo.id}/edit", f"/admin/territories/{settimo.id}/holidays"]
    for username in ("giulia", "elena"):
        client = client_for(app, username)
        for url in pages:
            assert client.get(url).status_code == 403, (username, url)
        token = csrf_token(client, "/notifications")
        assert client.post(f"/admin/territories/{settimo.id}/delete", data={"csrf_token": token}).status_code == 403
        assert client.post("/admin/territories/new", data={"csrf_token": token, "name": "X",
                                                           "kind": "ambito"}).status_code == 403
        assert 'href="/admin/territories"' not in client.get("/notifications").get_data(as_text=True)
    anonymous = app.test_client()
    assert anonymous.get("/admin/territories").headers["Location"].startswith("/login")


def test_unknown_territories_are_404_and_holidays_only_exist_for_comuni(app, people):
    client = client_for(app, "admin")
    unione = people.programme.territory
    assert client.get("/admin/territories/999999/edit").status_code == 404
    assert client.get("/admin/territories/99999999999/edit").status_code == 404
    assert client.get(f"/admin/territories/{unione.id}/holidays").status_code == 404
    assert submit(client, "/admin/territories/999999/delete", {}, form_page="/admin/territories").status_code == 404


def test_an_administrator_builds_a_consortium_and_adds_a_comune_searched_in_the_istat_list(app, db, people):
    client = client_for(app, "admin")
    page = client.get("/admin/territories").get_data(as_text=True)
    assert 'href="/admin/territories"' in page and "Unione NET" in page and "001265" in page

    response = submit(client, "/admin/territories/new", {"name": "Consorzio Monviso Solidale", "kind": "consorzio",
                                                         "parent_id": ""})
    assert response.status_code == 302
    consorzio = territory(db, name="Consorzio Monviso Solidale")
    assert (consorzio.kind, consorzio.parent_id) == (TerritoryKind.CONSORZIO, None)

    # The search runs on the server: accents and capitals do not matter.
    page = client.get(f"/admin/territories/comuni/new?q=SALUZZO&parent={consorzio.id}").get_data(as_text=True)
    assert "Saluzzo (CN)" in page and 'value="004203"' in page
    assert "No comune of the ISTAT list matches" in client.get(
        "/admin/territories/comuni/new?q=zzzzqq").get_data(as_text=True)
    response = submit(client, "/admin/territories/comuni/new?q=saluzzo",
                      {"istat_code": "004203", "parent_id": str(consorzio.id)})
    assert response.status_code == 302
    saluzzo = territory(db, istat_code="004203")
    assert (saluzzo.name, saluzzo.province, saluzzo.cadastral_code, saluzzo.parent_id) == (
        "Saluzzo", "CN", "H727", consorzio.id)
    page = client.get("/admin/territories").get_data(as_text=True)
    assert "Saluzzo (CN)" in page and "H727" in page
    logged = db.scalars(select(AdministrativeLogEntry.subject_label).where(
        AdministrativeLogEntry.subject_type == "territory").order_by(AdministrativeLogEntry.id)).all()
    assert logged == ["Consorzio Monviso Solidale", "Saluzzo (CN)"]


def test_bad_territory_input_is_shown_next_to_the_fields_and_nothing_is_saved(app, db, people):
    client = client_for(app, "admin")
    settimo = people.beneficiary.comune
    response = submit(client, "/admin/territories/new", {"name": "", "kind": "ambito", "parent_id": str(settimo.id)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Fill in this field." in page and "A comune cannot contain other territories" in page

    response = submit(client, "/admin/territories/comuni/new", {"istat_code": "123456", "parent_id": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "This is not the ISTAT code of a comune" in page
    response = submit(client, "/admin/territories/comuni/new?q=settimo",
                      {"istat_code": "001265", "parent_id": str(settimo.parent_id)})
    assert response.status_code == 422 and "This comune is already in the tree." in response.get_data(as_text=True)
    assert db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all() == []


def test_rename_move_and_a_move_that_would_make_a_cycle(app, db, people):
    client = client_for(app, "admin")
    unione = people.programme.territory
    submit(client, "/admin/territories/new", {"name": "Ambito Torino Nord", "kind": "ambito", "parent_id": ""})
    ambito = territory(db, name="Ambito Torino Nord")
    url = f"/admin/territories/{unione.id}/edit"
    response = submit(client, url, {"name": "Unione NET Torino", "parent_id": str(ambito.id)})
    assert response.status_code == 302
    moved = territory(db, id=unione.id)
    assert (moved.name, moved.parent_id) == ("Unione NET Torino", ambito.id)

    response = submit(client, f"/admin/territories/{ambito.id}/edit", {"name": "Ambito", "parent_id": str(unione.id)})
    assert response.status_code == 422
    assert "cannot be moved inside itself" in response.get_data(as_text=True)
    assert territory(db, id=ambito.id).parent_id is None


def test_a_comune_s_holidays_are_saved_and_impossible_ones_refused(app, db, people):
    client = client_for(app, "admin")
    settimo = people.beneficiary.comune
    url = f"/admin/territories/{settimo.id}/holidays"
    for data, message in [
        ({"patron_day": "30", "patron_month": "2", "closure_days": ""}, "This day does not exist in that month."),
        ({"patron_day": "12", "patron_month": "", "closure_days": ""}, "Give both the month and the day"),
        ({"patron_day": "", "patron_month": "", "closure_days": "2 novembre"}, "Write one day a line as dd/mm/yyyy"),
        ({"patron_day": "", "patron_month": "", "closure_days": "31/11/2026"}, "Write one day a line as dd/mm/yyyy"),
    ]:
        response = submit(client, url, data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    assert territory(db, id=settimo.id).patron_month is None

    response = submit(client, url, {"patron_day": "29", "patron_month": "9", "closure_days": "02/11/2026\n24/12/2026"})
    assert response.status_code == 302
    saved = territory(db, id=settimo.id)
    assert (saved.patron_month, saved.patron_day, len(saved.closure_days)) == (9, 29, 2)
    page = client.get(url).get_data(as_text=True)
    assert "02/11/2026\n24/12/2026" in page
    assert "Patron saint: 29/09" in client.get("/admin/territories").get_data(as_text=True)


def test_a_territory_in_use_is_not_removed_and_says_why_an_unused_one_is(app, db, people):
    client = client_for(app, "admin")
    settimo = people.beneficiary.comune
    response = submit(client, f"/admin/territories/{settimo.id}/delete", {},
                      form_page=f"/admin/territories/{settimo.id}/edit", follow_redirects=True)
    assert "cannot be removed" in response.get_data(as_text=True)
    assert territory(db, id=settimo.id)
    submit(client, "/admin/territories/new", {"name": "Ambito vuoto", "kind": "ambito", "parent_id": ""})
    empty_id = territory(db, name="Ambito vuoto").id
    response = submit(client, f"/admin/territories/{empty_id}/delete", {},
                      form_page=f"/admin/territories/{empty_id}/edit", follow_redirects=True)
    assert "Territory Ambito vuoto removed." in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(Territory.id).where(Territory.id == empty_id)).all() == []


def test_the_pages_speak_italian_by_default(app, people):
    client = app.test_client()
    sign_in(client, "admin")
    settimo = people.beneficiary.comune
    page = client.get("/admin/territories").get_data(as_text=True)
    assert ">Territori<" in page and "Aggiungi un comune" in page and "Festività" in page
    page = client.get(f"/admin/territories/{settimo.id}/holidays").get_data(as_text=True)
    assert "Festa del santo patrono: mese" in page and "settembre" in page
    response = submit(client, f"/admin/territories/{settimo.id}/holidays",
                      {"patron_day": "30", "patron_month": "2", "closure_days": ""})
    assert "Questo giorno non esiste in quel mese." in response.get_data(as_text=True)
    page = client.get("/admin/territories/comuni/new?q=forli").get_data(as_text=True)
    assert "Forlì (FC)" in page and "elenco ISTAT" in page
