"""Servizi del territorio in a real browser: a case manager searches by words and filters,
opens a service and sees the referrals of their pacts; axe-core finds no WCAG 2.1 AA violation
on the search, the results and a service's page; screenshots at 1366x768 and on a phone."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casework.models import (
    Base,
    Organisation,
    OrganisationKind,
    Pact,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceReferral,
    ServiceType,
    Territory,
    User,
)
from tests.e2e.conftest import _free_port, screenshot, sign_in
from tests.e2e.test_accessibility import violations

CASE_MANAGER = "e.gribaudo"
WEEKDAYS = [{"day": day, "opens": "09:00", "closes": "12:30"} for day in range(5)]


@pytest.fixture(scope="module")
def directory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo data, the taxonomy and a few services in the demo's comuni; one referral of a pact
    of the case manager."""
    from werkzeug.serving import make_server

    from casework.demo.loader import load_demo
    from casework.services import seed_taxonomy
    from casework.web import create_app

    folder = tmp_path_factory.mktemp("e2e-services")
    app = create_app(overrides={
        "env": "testing", "secret_key": "s" * 48, "instance_path": str(folder / "instance"),
        "database_url": f"sqlite:///{folder / 'e2e.sqlite3'}",
    })
    casework = app.extensions["casework"]
    Base.metadata.create_all(casework["engine"])
    now = datetime.now(timezone.utc)
    with casework["session_factory"]() as db:
        load_demo(db, casework["registry"], now=now, zone=casework["settings"].zone)
        seed_taxonomy(db)
        settimo = db.scalars(select(Territory).where(Territory.name == "Settimo Torinese")).one()
        organisation = Organisation(name="Cooperativa Il Ponte (servizi)", kind=OrganisationKind.COOPERATIVE)
        db.add(organisation)
        kinds = {kind.code: kind for kind in db.scalars(select(ServiceType))}
        rows = [
            ("Ludoteca Il Girasole", "ludoteca", "Giochi e laboratori per bambini da 3 a 10 anni.", ("it", "ar")),
            ("Mediazione linguistico-culturale al Comune", "mediazione_culturale", "Interpreti e mediatori.",
             ("it", "ar", "fr", "ro")),
            ("Doposcuola Insieme", "doposcuola", "Aiuto compiti per le medie.", ("it",)),
            ("Emporio solidale Settimo", "emporio_solidale", "Spesa gratuita con tessera a punti.", ("it", "en")),
        ]
        made = []
        for number, (name, code, description, languages) in enumerate(rows):
            made.append(Service(
                organisation=organisation, service_type=kinds[code], name=name, description=description,
                target_group="Famiglie con figli", access=ServiceAccess.BY_APPOINTMENT if number % 2 else
                ServiceAccess.FREE_ACCESS, cost=ServiceCost.FREE if number != 2 else ServiceCost.DISCOUNTED,
                opening_hours=WEEKDAYS, address="Via Roma 1, Settimo Torinese", contact_name="Anna Neri",
                contact_email="servizi@example.org", contact_phone="011 800 1234", website="https://example.org",
                capacity=20 if number else None, places_available=number * 2 if number else None,
                last_checked_on=date(2026, 1, 15), created_at=now, updated_at=now,
                comuni=[ServiceComune(territory=settimo)],
                languages=[ServiceLanguage(language=code) for code in languages]))
        db.add_all(made)
        manager = db.scalars(select(User).where(User.username == CASE_MANAGER)).one()
        pact = db.scalars(select(Pact).where(Pact.case_manager_id == manager.id).order_by(Pact.id)).first()
        db.add(ServiceReferral(pact=pact, service=made[0], proposed_at=now, updated_at=now, need_area="conciliazione"))
        db.commit()
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    casework["engine"].dispose()


@pytest.fixture
def laptop(browser, directory_server):
    context = browser.new_context(base_url=directory_server, locale="it-IT", viewport={"width": 1366, "height": 768},
                                  bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def test_a_case_manager_searches_filters_and_opens_a_service(laptop):
    page = laptop
    sign_in(page, CASE_MANAGER)
    page.get_by_role("link", name="Servizi", exact=True).first.click()
    expect(page.get_by_role("heading", name="Servizi del territorio")).to_be_visible()
    assert violations(page) == []
    screenshot(page, "services-search-1366")

    page.get_by_label("Parole").fill("ludoteche")
    page.get_by_label("Lingua parlata").select_option("ar")
    page.get_by_role("button", name="Cerca servizi").click()
    expect(page.get_by_role("status")).to_have_text("1 servizio trovato.")
    assert "q=ludoteche" in page.url and "language=ar" in page.url
    assert violations(page) == []
    screenshot(page, "services-results-1366")

    page.get_by_role("link", name="Ludoteca Il Girasole").click()
    expect(page.get_by_role("heading", name="Ludoteca Il Girasole", level=1)).to_be_visible()
    expect(page.get_by_role("row", name="Lunedì 09:00–12:30")).to_be_visible()
    expect(page.get_by_role("link", name="servizi@example.org")).to_have_attribute("href", "mailto:servizi@example.org")
    referrals = page.get_by_role("table", name="Invii a questo servizio dei patti che puoi vedere")
    expect(referrals.get_by_role("cell", name="Proposto")).to_be_visible()
    assert violations(page) == []
    screenshot(page, "services-detail-1366")


def test_the_search_on_a_phone(browser, directory_server):
    context = browser.new_context(base_url=directory_server, locale="it-IT", viewport={"width": 390, "height": 844},
                                  bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, CASE_MANAGER)
        page.goto("/servizi?q=mediazione")  # the demo's directory has mediators too
        expect(page.get_by_role("status")).to_have_text(re.compile(r"^\d+ servizi trovati\.$"))
        expect(page.get_by_role("link", name="Mediazione linguistico-culturale al Comune")).to_be_visible()
        assert violations(page) == []
        screenshot(page, "services-results-390")
    finally:
        context.close()
