"""The header search pages on both databases: the results page without JavaScript, the JSON
suggestions, each role, bad text, the access log, the header's box and menu."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from casework.clock import Clock
from casework.models import AccessLogEntry, Beneficiary, Gender
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.web.conftest import sign_in, static_url


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def sara(app, db, people):
    """A woman in the restricted programme, followed by marco only."""
    person = Beneficiary(first_name="Sara", last_name="Bianconi", gender=Gender.FEMALE,
                         comune=people.beneficiary.comune, phone="333 111 2222")
    db.add(person)
    db.flush()
    ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=person, programme=people.restricted,
                  case_manager=people.colleague, actor=people.colleague, clock=Clock(datetime.now(UTC), ZONE))
    db.commit()
    return person


def signed_in(app, username: str):
    client = app.test_client()
    sign_in(client, username)
    return client


def suggested(client, text: str) -> dict:
    response = client.get("/cerca/suggerimenti", query_string={"q": text})
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_manager_finds_their_person_by_name_codice_fiscale_and_pact_number(app, people):
    client = signed_in(app, "giulia")
    maria_url = f"/beneficiaries/{people.beneficiary.id}"
    for text in ("bian", "Maria", "bncmra85", str(people.pact.id)):
        answer = suggested(client, text)
        assert any(item["url"] in (maria_url, f"/pacts/{people.pact.id}") for item in answer["items"]), text
    by_name = suggested(client, "bianchi")
    assert by_name["items"] == [{"kind": "person", "url": maria_url, "label": "Bianchi Maria",
                                 "detail": "BNCMRA85D43I703I · 03/04/1985 · Settimo Torinese"}]
    assert by_name["message"] == "1 risultato."
    by_number = suggested(client, f"patto {people.pact.id}")
    assert [item["kind"] for item in by_number["items"]] == ["pact"]
    assert by_number["items"][0]["label"] == f"Patto n. {people.pact.id} · Bianchi Maria"
    assert by_number["items"][0]["detail"].startswith("TILDE · ")


def test_the_restricted_person_is_suggested_only_to_who_is_assigned(app, people, sara):
    for username, expected in (("marco", ["Bianconi Sara"]), ("giulia", []), ("elena", []), ("paolo", [])):
        client = signed_in(app, username)
        for text in ("bianc", "sara", "333 111", "3331112222"):
            labels = [item["label"] for item in suggested(client, text)["items"] if item["kind"] == "person"]
            assert [label for label in labels if "Sara" in label] == expected, (username, text)
        page = client.get("/cerca", query_string={"q": "bianconi"}).get_data(as_text=True)
        assert ("Bianconi Sara" in page) == bool(expected), username


def test_the_supervisor_finds_the_ordinary_cases_of_their_territory_only(app, people):
    assert [item["label"] for item in suggested(signed_in(app, "elena"), "bianchi")["items"]] == ["Bianchi Maria"]
    assert suggested(signed_in(app, "paolo"), "bianchi")["items"] == []
    assert suggested(signed_in(app, "marco"), "bianchi")["items"] == []


def test_an_administrator_and_a_visitor_cannot_search(app, people):
    admin = signed_in(app, "admin")
    assert admin.get("/cerca?q=bianchi").status_code == 403
    assert admin.get("/cerca/suggerimenti?q=bianchi").status_code == 403
    assert 'id="header-search"' not in admin.get("/account").get_data(as_text=True)
    visitor = app.test_client()
    assert visitor.get("/cerca?q=bianchi").status_code == 302
    assert visitor.get("/cerca/suggerimenti?q=bianchi").status_code == 302


@pytest.mark.parametrize(("text", "message"), [
    ("", "Scrivi un nome, un codice fiscale, un numero di telefono o il numero di un patto."),
    ("    ", "Scrivi un nome, un codice fiscale, un numero di telefono o il numero di un patto."),
    ("b", "Scrivi almeno 2 lettere o cifre."),
    ("%", "Scrivi almeno 2 lettere o cifre."),
    ("x" * 500, "Scrivi al massimo 100 caratteri."),
])
def test_bad_text_gets_a_clear_message_never_an_error(app, people, text, message):
    client = signed_in(app, "giulia")
    answer = suggested(client, text)
    assert answer == {"items": [], "message": message, "more": False}
    response = client.get("/cerca", query_string={"q": text})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and 'aria-invalid="true"' in page


def test_the_results_page_works_without_javascript(app, people):
    client = signed_in(app, "giulia")
    empty = client.get("/cerca").get_data(as_text=True)
    assert "Trova una persona o un patto" in empty and 'aria-invalid' not in empty
    page = client.get("/cerca", query_string={"q": "maria"}).get_data(as_text=True)
    assert "1 risultato per “maria”." in page
    assert f'href="/beneficiaries/{people.beneficiary.id}">Bianchi Maria</a>' in page
    none = client.get("/cerca", query_string={"q": "zzzz"}).get_data(as_text=True)
    assert "Nessuna delle persone che puoi vedere corrisponde a “zzzz”." in none


def test_listing_results_logs_no_access_but_opening_a_person_does(app, db, people):
    client = signed_in(app, "giulia")

    def logged() -> int:
        db.expire_all()
        return db.scalar(select(func.count()).select_from(AccessLogEntry).where(
            AccessLogEntry.subject_type == "beneficiary", AccessLogEntry.subject_id == people.beneficiary.id)) or 0

    before = logged()
    suggested(client, "bianchi")
    client.get("/cerca", query_string={"q": "bianchi"})
    assert logged() == before
    client.get(f"/beneficiaries/{people.beneficiary.id}")
    assert logged() == before + 1


def test_the_header_has_the_search_box_and_the_menu_for_each_role(app, people):
    giulia = signed_in(app, "giulia").get("/beneficiaries").get_data(as_text=True)
    assert 'id="header-search"' in giulia and 'action="/cerca"' in giulia and static_url(app, "search.js") in giulia
    assert "Amministrazione" not in giulia  # four entries fit
    elena = signed_in(app, "elena").get("/beneficiaries").get_data(as_text=True)
    assert 'id="header-search"' in elena
    assert elena.count('class="nav-item dropdown"') == 1 and ">Amministrazione</span>" in elena
    for entry in ("Progetti", "Importa casi", "Coperture", "Utenti", "Organizzazioni"):
        assert f"<span>{entry}</span></a></li>" in elena, entry
    admin = signed_in(app, "admin").get("/account").get_data(as_text=True)
    assert "Amministrazione</span>" not in admin and 'data-bs-toggle="navbarcollapsible"' in admin


def test_favicon_answers(app):
    client = app.test_client()
    icon = client.get("/favicon.ico")
    favicon = static_url(app, "favicon.svg")
    assert icon.status_code == 301 and icon.headers["Location"].endswith(favicon)
    assert client.get(favicon).status_code == 200
    assert f'rel="icon" href="{favicon}"' in client.get("/login").get_data(as_text=True)
