"""The pact's "Servizi" part in the browser: consent, request, the provider's answer, the start;
axe-core finds nothing to fix; screenshots on a laptop and on a phone."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from casework.db import make_engine, make_session_factory
from casework.models import Pact, ServiceReferral, ServiceReferralStatus, User
from casework.services import propose_referral
from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import audited_page, violations  # noqa: F401 - the fixture is used by name
from tests.e2e.test_case_manager_flow import CASE_MANAGER, start_case
from tests.services.referral_helpers import make_service


@pytest.fixture
def live_database(live_server, tmp_path_factory):
    """The live server's own SQLite file, to put a service in the directory as its maintainer would."""
    # The live_server fixture made the newest "e2e" folder of this run.
    path = max(tmp_path_factory.getbasetemp().glob("e2e*/e2e.sqlite3"), key=lambda found: found.stat().st_mtime)
    engine = make_engine(f"sqlite:///{path}")
    yield make_session_factory(engine)
    engine.dispose()


def _propose(session_factory, pact_id: int) -> int:
    now = datetime.now(timezone.utc)
    with session_factory() as session:
        pact = session.get(Pact, pact_id)
        manager = session.scalars(select(User).where(User.username == CASE_MANAGER)).one()
        service = make_service(session, pact.beneficiary.comune, name=f"Sportello lavoro {pact_id}", now=now)
        referral = propose_referral(session, manager, pact, service.id, now=now, need_area="lavoro")
        session.commit()
        return referral.id


def _services(page):
    page.get_by_role("navigation", name="Parti del patto").get_by_role("link", name="Servizi").click()
    part = page.get_by_role("region", name="Servizi", exact=True)
    expect(part).to_be_visible()
    return part


def test_consent_request_accept_start_in_the_browser(audited_page, live_database):  # noqa: F811
    page = audited_page
    page.set_viewport_size({"width": 1366, "height": 768})
    _, pact_id = start_case(page)
    referral_id = _propose(live_database, pact_id)
    page.reload()  # the pact page was open: it now lists the referral
    part = _services(page)
    request = part.get_by_role("button", name="Invia la richiesta al servizio")
    expect(request).to_be_disabled()
    expect(part).to_contain_text("Registra prima il consenso")
    found = {"proposed": violations(page)}

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
    page.get_by_label("Data di inizio", exact=True).fill(datetime.now(timezone.utc).date().isoformat())
    page.get_by_role("button", name="Conferma: Il servizio è iniziato").click()
    part = _services(page)
    expect(part.locator(".referral-status-started")).to_be_visible()
    found["started"] = violations(page)
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "service-referral-started-phone")
    with live_database() as session:
        assert session.get(ServiceReferral, referral_id).status == ServiceReferralStatus.STARTED
    assert {name: problems for name, problems in found.items() if problems} == {}
