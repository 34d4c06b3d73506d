"""Servizi del territorio: the search and a service's page for each role; filters in the
address; bad parameters are no error page; the referrals a case manager sees on a service's
page are only those of their pacts. On both databases."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from casework.models import (
    Organisation,
    OrganisationKind,
    ServiceReferral,
    ServiceReferralStatus,
    Territory,
    TerritoryKind,
)
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.services.search_support import Places, make_service
from tests.web.conftest import sign_in

NOW = datetime.now(timezone.utc)


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def directory(app, db, people):
    """Three services in Settimo and Volpiano; a referral of the manager's pact and one of the colleague's."""
    from casework.services import seed_taxonomy

    seed_taxonomy(db)
    settimo = db.scalars(select(Territory).where(Territory.name == "Settimo Torinese")).one()
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=settimo.parent)
    coop = Organisation(name="Cooperativa Il Ponte", kind=OrganisationKind.COOPERATIVE)
    db.add_all([volpiano, coop])
    db.flush()
    places = Places(comuni={"settimo": settimo, "volpiano": volpiano}, organisations={"coop": coop})
    ludoteca = make_service(db, places, "Ludoteca Il Girasole", "ludoteca", ["settimo"], languages=("ar",),
                            opening_hours=[{"day": 0, "opens": "09:00", "closes": "12:30"}])
    ludoteca.contact_email, ludoteca.contact_phone = "girasole@example.org", "011 123 4567"
    make_service(db, places, "Mediazione per famiglie", "mediazione_culturale", ["settimo", "volpiano"])
    make_service(db, places, "Doposcuola Insieme", "doposcuola", ["volpiano"], capacity=10, places_available=0)
    registry = app.extensions["casework"]["registry"]
    from casework.models import Beneficiary, Gender

    other = Beneficiary(first_name="Sara", last_name="Verdi", gender=Gender.FEMALE, comune=settimo)
    db.add(other)
    db.flush()
    theirs = ops.open_pact(db, registry, beneficiary=other, programme=people.programme, case_manager=people.colleague,
                           actor=people.colleague, clock=ops.Clock(NOW, ZONE))
    for pact in (people.pact, theirs):
        db.add(ServiceReferral(pact=pact, service=ludoteca, status=ServiceReferralStatus.PROPOSED, proposed_at=NOW,
                               updated_at=NOW))
    db.commit()
    return ludoteca


def signed_in(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.mark.parametrize("username", ["giulia", "elena", "admin"])
def test_every_role_searches_and_opens_a_service_in_italian(app, directory, username):
    client = signed_in(app, username)
    home = text(client.get("/", follow_redirects=True))
    assert 'href="/servizi"' in home and ">Servizi<" in home
    page = client.get("/servizi")
    assert page.status_code == 200
    html = text(page)
    assert "Servizi del territorio" in html and "3 servizi trovati." in html
    for heading in ("Servizio", "Ente", "Comuni serviti", "Accesso", "Costo", "Posti", "Verificato il"):
        assert f">{heading}</th>" in html, heading
    assert '<optgroup label="Famiglia e conciliazione">' in html  # types grouped by macro-area
    detail = client.get(f"/servizi/{directory.id}")
    assert detail.status_code == 200
    html = text(detail)
    assert "Ludoteca Il Girasole" in html and "Lunedì" in html and "09:00–12:30" in html
    assert 'href="mailto:girasole@example.org"' in html and 'href="tel:0111234567"' in html
    assert "Arabo" in html and "Invii a questo servizio" in html


def test_signed_out_visitors_are_sent_to_sign_in(app, directory):
    client = app.test_client()
    assert client.get("/servizi").status_code == 302
    assert client.get(f"/servizi/{directory.id}").status_code == 302


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/servizi/\d+">([^<]+)</a>', html)


def test_filters_are_in_the_address_and_combine(app, directory, db):
    client = signed_in(app, "giulia")
    volpiano = db.scalars(select(Territory).where(Territory.name == "Volpiano")).one()
    assert names(text(client.get("/servizi?q=ludoteche"))) == ["Ludoteca Il Girasole"]
    assert names(text(client.get("/servizi?q=mediazione+linguistica"))) == ["Mediazione per famiglie"]
    assert names(text(client.get(f"/servizi?comune={volpiano.id}"))) == ["Doposcuola Insieme",
                                                                        "Mediazione per famiglie"]
    assert names(text(client.get(f"/servizi?comune={volpiano.id}&places=y"))) == ["Mediazione per famiglie"]
    assert names(text(client.get("/servizi?language=ar"))) == ["Ludoteca Il Girasole"]
    assert names(text(client.get("/servizi?area=istruzione"))) == ["Doposcuola Insieme"]
    assert names(text(client.get("/servizi?type=ludoteca&free=y"))) == ["Ludoteca Il Girasole"]


def test_open_now_is_read_in_romes_time(app, directory, monkeypatch):
    from casework.web import context

    client = signed_in(app, "giulia")
    monkeypatch.setattr(context, "now", lambda: datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))  # Mon 10:30
    html = text(client.get("/servizi?open_now=y"))
    assert names(html) == ["Ludoteca Il Girasole"]
    assert re.search(r'<input checked[^>]*id="open_now"|id="open_now"[^>]*checked', html)
    monkeypatch.setattr(context, "now", lambda: datetime(2026, 3, 2, 11, 30, tzinfo=timezone.utc))  # 12:30
    assert names(text(client.get("/servizi?open_now=y"))) == []


@pytest.mark.parametrize("query", ["page=abc", "page=-4", "page=99999999999999999999", "comune=999999",
                                   "comune=abc", "type=nothing", "language=xx", "q=" + "x" * 500])
def test_bad_parameters_are_no_error_page(app, directory, query):
    client = signed_in(app, "giulia")
    response = client.get(f"/servizi?{query}")
    assert response.status_code == 200, query
    assert "servizi trovati." in text(response) or "servizio trovato." in text(response)


@pytest.mark.parametrize("query", ["area=%00", "q=a%00", "type=%01"])
def test_a_control_character_in_the_address_is_named_not_searched(app, directory, query):
    response = signed_in(app, "giulia").get(f"/servizi?{query}")
    assert response.status_code == 400 and "Caratteri non ammessi" in text(response)


def test_a_choice_no_longer_offered_is_flagged_next_to_its_field_and_ignored(app, directory):
    client = signed_in(app, "giulia")
    html = text(client.get("/servizi?comune=999999"))
    assert "Scegli un comune dall&#39;elenco." in html or "Scegli un comune dall'elenco." in html
    assert "3 servizi trovati." in html


def test_pages_keep_the_filters(app, directory, db):
    from tests.services.search_support import Places

    settimo = db.scalars(select(Territory).where(Territory.name == "Settimo Torinese")).one()
    coop = db.scalars(select(Organisation)).one()
    places = Places(comuni={"settimo": settimo}, organisations={"coop": coop})
    for number in range(25):
        make_service(db, places, f"Ludoteca {number:02d}", "ludoteca", ["settimo"])
    db.commit()
    client = signed_in(app, "giulia")
    first = text(client.get("/servizi?q=ludoteca"))
    assert "26 servizi trovati." in first and len(names(first)) == 20
    assert 'href="/servizi?page=2&amp;q=ludoteca"' in first
    second = text(client.get("/servizi?q=ludoteca&page=2"))
    assert names(second) == ["Ludoteca 20", "Ludoteca 21", "Ludoteca 22", "Ludoteca 23", "Ludoteca 24",
                             "Ludoteca Il Girasole"]


def test_a_service_page_lists_only_the_referrals_of_pacts_the_reader_sees(app, directory, people):
    manager = text(signed_in(app, "giulia").get(f"/servizi/{directory.id}"))
    assert "Maria Bianchi" in manager and "Sara Verdi" not in manager
    assert f'href="/pacts/{people.pact.id}"' in manager and "Proposto" in manager
    colleague = text(signed_in(app, "marco").get(f"/servizi/{directory.id}"))
    assert "Sara Verdi" in colleague and "Maria Bianchi" not in colleague
    supervisor = text(signed_in(app, "elena").get(f"/servizi/{directory.id}"))
    assert "Sara Verdi" in supervisor and "Maria Bianchi" in supervisor
    admin = text(signed_in(app, "admin").get(f"/servizi/{directory.id}"))
    assert "Sara Verdi" not in admin and "Maria Bianchi" not in admin
    assert "Nessun invio a questo servizio tra i patti che puoi vedere." in admin


def test_an_unknown_service_is_not_found(app, directory):
    client = signed_in(app, "giulia")
    assert client.get("/servizi/999999").status_code == 404


def test_the_search_page_and_a_service_page_cost_the_same_queries_whatever_the_directory(app, directory, db,
                                                                                         monkeypatch):
    from sqlalchemy import event

    from casework.web import context

    monkeypatch.setattr(context, "now", lambda: datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc))  # Mon 10:30
    engine = app.extensions["casework"]["engine"]
    client = signed_in(app, "giulia")

    def count(url: str) -> int:
        statements: list[str] = []

        def record(*args):
            statements.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    urls = ("/servizi", "/servizi?q=ludoteca&open_now=y", f"/servizi/{directory.id}")
    before = [count(url) for url in urls]
    settimo = db.scalars(select(Territory).where(Territory.name == "Settimo Torinese")).one()
    coop = db.scalars(select(Organisation)).one()
    places = Places(comuni={"settimo": settimo}, organisations={"coop": coop})
    for number in range(25):
        make_service(db, places, f"Ludoteca {number:02d}", "ludoteca", ["settimo"], languages=("en", "fr"))
    db.commit()
    assert [count(url) for url in urls] == before
