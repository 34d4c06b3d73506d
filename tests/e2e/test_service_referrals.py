"""The pact's "Servizi" part in the browser: after the screening a service is suggested, proposed,
consented to, requested, accepted and started; the consent, with its legal basis, is withdrawn
from the person's page; the supervisor then finds it in the mapping of the
services, and the territory's public board shows the service but no person. axe-core finds nothing
to fix; screenshots on a laptop and on a phone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casework.db import make_engine, make_session_factory
from casework.models import Pact, ServiceReferral, ServiceReferralStatus, Territory
from tests.e2e.conftest import LIVE_DATABASES, screenshot, sign_in
from tests.e2e.test_accessibility import audited_page, violations  # noqa: F401 - the fixture is used by name
from tests.e2e.test_case_manager_flow import (
    answer_screening,
    make_move,
    record_referral,
    start_case,
)
from tests.services.referral_helpers import make_service


@pytest.fixture
def live_database(live_server):
    """The live server's own SQLite file, to put a service in the directory as its maintainer would."""
    engine = make_engine(f"sqlite:///{LIVE_DATABASES[live_server]}")
    yield make_session_factory(engine)
    engine.dispose()


def _add_service(session_factory, pact_id: int) -> int:
    """A job desk in the beneficiary's comune, with places: what the screening's "lavoro" need asks for."""
    now = datetime.now(UTC)
    with session_factory() as session:
        pact = session.get(Pact, pact_id)
        service = make_service(session, pact.beneficiary.comune, name=f"Sportello lavoro {pact_id}", now=now)
        service.places_available = 4
        session.commit()
        return service.id


def _services(page):
    page.get_by_role("navigation", name="Parti del patto").get_by_role("link", name="Servizi").click()
    part = page.get_by_role("region", name="Servizi", exact=True)
    expect(part).to_be_visible()
    return part


def test_consent_request_accept_start_then_mapping_and_public_board(  # noqa: F811
        audited_page, live_database, browser, live_server):
    page = audited_page
    page.set_viewport_size({"width": 1366, "height": 768})
    person, pact_id = start_case(page)
    record_referral(page, "Accesso spontaneo allo sportello: cerca un lavoro compatibile con la cura dei figli.")
    make_move(page, "Avvia lo screening", "Screening")
    answer_screening(page)
    service_id = _add_service(live_database, pact_id)
    page.reload()  # the pact page was open: the directory now has a service for her
    part = _services(page)
    suggestion = part.locator("li.service-suggestion", has_text=f"Sportello lavoro {pact_id}")
    expect(suggestion).to_contain_text("Nel comune di residenza")
    expect(suggestion).to_contain_text("Posti disponibili: 4")
    found = {"suggested": violations(page)}
    screenshot(page, "service-referral-suggested-laptop")
    suggestion.get_by_role("button", name=f"Proponi Sportello lavoro {pact_id}").click()
    expect(page.get_by_text(f"Invio a Sportello lavoro {pact_id} proposto")).to_be_visible()
    part = _services(page)
    request = part.get_by_role("button", name="Invia la richiesta al servizio")
    expect(request).to_be_disabled()
    expect(part).to_contain_text("Registra prima il consenso")
    found["proposed"] = violations(page)

    part.locator("summary", has_text="Registra il consenso alla condivisione dei dati").click()
    expect(part.get_by_label("Finalità della condivisione dei dati")).to_have_value(
        re.compile(r"^Invio al servizio Sportello lavoro \d+ per il patto n\. \d+$"))
    part.get_by_role("button", name="Registra il consenso").click()
    expect(page.get_by_text("Consenso alla condivisione dei dati per Sportello lavoro")).to_be_visible()

    part = _services(page)
    part.get_by_role("button", name="Invia la richiesta al servizio").click()
    expect(page.get_by_text(f"Invio a Sportello lavoro {pact_id}: richiesto.")).to_be_visible()
    part = _services(page)
    expect(part).to_contain_text("sportello@coop.example.org")
    found["requested"] = violations(page)
    screenshot(page, "service-referral-requested-laptop")

    part.locator("summary", has_text="Il servizio ha accettato").click()
    part.get_by_role("button", name="Conferma: Il servizio ha accettato").click()
    part = _services(page)
    part.locator("summary", has_text="Il servizio è iniziato").click()
    part.get_by_role("button", name="Conferma: Il servizio è iniziato").click()
    # Without its day the start comes back on a page of its own, the error next to the field.
    expect(page.get_by_text("Indica il giorno in cui il servizio è iniziato.").first).to_be_visible()
    found["start refused"] = violations(page)
    # Today as the office counts it (Rome): between 23:00 and midnight UTC that is already tomorrow.
    page.get_by_label("Data di inizio", exact=True).fill(datetime.now(ZoneInfo("Europe/Rome")).date().isoformat())
    page.get_by_role("button", name="Conferma: Il servizio è iniziato").click()
    part = _services(page)
    expect(part.locator(".referral-status-started")).to_be_visible()
    found["started"] = violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "service-referral-started-phone")
    with live_database() as session:
        [referral] = session.scalars(select(ServiceReferral).where(ServiceReferral.service_id == service_id))
        assert (referral.status, referral.need_area) == (ServiceReferralStatus.STARTED, "lavoro")
    with live_database() as session:
        beneficiary_id = session.get(Pact, pact_id).beneficiary_id
    _the_person_withdraws_the_consent_on_her_page(page, beneficiary_id, found)
    assert {name: problems for name, problems in found.items() if problems} == {}
    _supervisor_finds_it_in_the_mapping(browser, live_server, pact_id)
    _the_public_board_shows_the_service_and_no_person(browser, live_server, live_database, pact_id, person)


def _the_person_withdraws_the_consent_on_her_page(page, beneficiary_id: int, found: dict) -> None:
    """Her page lists the consent with its legal basis; withdrawn from there, it says so."""
    page.goto(f"/beneficiaries/{beneficiary_id}")
    consents = page.get_by_role("region", name="Consensi alla condivisione dei dati")
    expect(consents).to_contain_text("Consenso dell'interessato (art. 6.1.a e 9.2.a GDPR)")
    expect(consents).to_contain_text("non revocato")
    found["person's consents"] = violations(page)
    consents.locator("summary", has_text="La persona ha revocato questo consenso").click()
    consents.scroll_into_view_if_needed()
    screenshot(page, "person-consents-phone")
    page.set_viewport_size({"width": 1366, "height": 768})
    consents.scroll_into_view_if_needed()
    screenshot(page, "person-consents-laptop")
    consents.get_by_role("button", name="Conferma: consenso revocato").click()
    expect(page.get_by_text("Consenso alla condivisione dei dati con Cooperativa Il Ponte revocato.")).to_be_visible()
    expect(page.get_by_role("region", name="Consensi alla condivisione dei dati")).to_contain_text("revocato il")
    found["consent withdrawn"] = violations(page)


def _supervisor_finds_it_in_the_mapping(browser, live_server, pact_id: int) -> None:
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1366, "height": 768},
                                  bypass_csp=True)  # for axe-core
    page = context.new_page()
    try:
        sign_in(page, "c.bonetto")  # the supervisor of Unione NET, where the case manager works
        page.goto("/mappatura")
        row = page.locator("tr", has_text=f"Sportello lavoro {pact_id}")
        expect(row).to_be_visible()
        expect(row).to_contain_text("1")  # one referral, started
        screenshot(page, "service-mapping-with-the-new-referral-laptop")
        assert violations(page) == []
    finally:
        context.close()


def _the_public_board_shows_the_service_and_no_person(browser, live_server, session_factory, pact_id, person) -> None:
    with session_factory() as session:
        territory = session.get(Pact, pact_id).beneficiary.comune.parent
        territory_id, was_on = territory.id, territory.public_board
        territory.public_board = True  # what an administrator switches on (its own browser test: the board's)
        session.commit()
    citizen = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1366, "height": 768},
                                  bypass_csp=True)  # for axe-core
    page = citizen.new_page()
    try:
        page.goto(f"/bacheca/{territory_id}")
        page.locator("input[name=q]").fill(f"Sportello lavoro {pact_id}")
        page.locator("form.board-search button[type=submit]").click()
        expect(page.get_by_role("link", name=f"Sportello lavoro {pact_id}")).to_be_visible()
        page.get_by_role("link", name=f"Sportello lavoro {pact_id}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Sportello lavoro {pact_id}")
        content = page.content()
        assert person.last_name not in content and person.first_name not in content
        assert f"n. {pact_id}" not in content
        assert citizen.cookies() == []
        screenshot(page, "public-board-service-laptop")
        assert violations(page) == []
    finally:
        citizen.close()
        with session_factory() as session:
            session.get(Territory, territory_id).public_board = was_on
            session.commit()
