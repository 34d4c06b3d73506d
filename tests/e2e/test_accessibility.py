"""WCAG 2.1 AA checks with axe-core (installed from npm) on the main pages, as a user sees them."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from casework import PROJECT_ROOT
from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_case_manager_flow import (
    ACTION,
    CASE_MANAGER,
    add_goal_action_commitment,
    answer_screening,
    fill_person_form,
    make_move,
    mistyped,
    new_person,
    open_form,
    open_part,
    record_referral,
    register_beneficiary,
    start_case,
    tick,
)

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def audited_page(browser, live_server):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    # axe is injected as a script, which our Content-Security-Policy rightly forbids to pages.
    context = browser.new_context(base_url=live_server, locale="it-IT", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_sign_in_page(audited_page):
    audited_page.goto("/login")
    assert violations(audited_page) == []


def test_sign_in_page_with_an_error(audited_page):
    audited_page.goto("/login")
    audited_page.get_by_label("Nome utente").fill("e.gribaudo")
    audited_page.get_by_label("Password").fill("sbagliata")
    audited_page.get_by_role("button", name="Accedi").click()
    assert violations(audited_page) == []


def test_today(audited_page):
    sign_in(audited_page, "e.gribaudo")
    assert violations(audited_page) == [], json.dumps(violations(audited_page), indent=1)


def test_new_beneficiary_form_with_an_error(audited_page):
    person = new_person()
    sign_in(audited_page, CASE_MANAGER)
    audited_page.goto("/beneficiaries/new")
    fill_person_form(audited_page, person, mistyped(person.codice_fiscale))
    audited_page.get_by_role("button", name="Registra", exact=True).click()
    expect(audited_page.get_by_label("Codice fiscale", exact=True)).to_have_attribute("aria-invalid", "true")
    assert violations(audited_page) == []


def test_beneficiary_page(audited_page):
    sign_in(audited_page, CASE_MANAGER)
    register_beneficiary(audited_page, new_person())
    assert violations(audited_page) == []


def test_access_history_page(audited_page):
    sign_in(audited_page, CASE_MANAGER)
    register_beneficiary(audited_page, new_person())
    audited_page.get_by_role("link", name="Storico degli accessi").click()
    expect(audited_page.get_by_role("heading", level=1)).to_contain_text("Storico degli accessi di")
    expect(audited_page.locator("tr.access-entry")).not_to_have_count(0)
    audited_page.screenshot(path=str(PROJECT_ROOT / "test-artifacts" / "screenshots" / "access-history.png"), full_page=True)
    assert violations(audited_page) == []


def test_pact_pages_from_referral_to_closure(audited_page):
    """The pact page at each stage, with the forms each stage opens, the print view and the timeline."""
    page = audited_page
    found: dict[str, list[str]] = {}
    _, pact_id = start_case(page)
    found["pact at referral"] = violations(page)

    record_referral(page, "Accesso spontaneo allo sportello: cerca un lavoro compatibile con la cura dei figli.")
    make_move(page, "Avvia lo screening", "Screening")
    found["pact at screening, questionnaire open"] = violations(page)

    answer_screening(page)
    make_move(page, "Avvia la co-progettazione", "Co-progettazione")
    add_goal_action_commitment(page)
    open_part(page, "Firma").get_by_role("button", name="Prepara il patto per la firma").click()
    found["pact at co-design, awaiting signature"] = violations(page)

    page.get_by_role("link", name="Stampa la versione 1").click()
    found["print view"] = violations(page)

    page.get_by_role("link", name="Torna al patto").click()
    signature = page.get_by_role("region", name="Firma del patto")
    tick(signature, "La beneficiaria ha dato il consenso al trattamento dei propri dati personali, come descritto "
                    "nel patto")
    signature.get_by_role("button", name="Registra la firma").click()
    expect(page.get_by_text("Firma registrata.")).to_be_visible()
    make_move(page, "Attiva il patto", "Attivazione")
    open_part(page, "Co-progettazione").get_by_role("button", name=f"Segna come: In corso ({ACTION})").click()
    # The page reloads after the save: the next button pressed must be the new page's.
    expect(page.get_by_text("Stato dell'azione salvato.")).to_be_visible()
    make_move(page, "Avvia il monitoraggio", "Monitoraggio")
    found["pact at follow-up"] = violations(page)

    outcome = open_form(open_part(page, "Esito"), "Registra l'esito")
    outcome.get_by_label("Esito", exact=True).select_option(label="Maggiore autonomia")
    tick(outcome.get_by_role("group", name="Obiettivi raggiunti"), "In parte")
    outcome.get_by_role("button", name="Salva l'esito").click()
    make_move(page, "Chiudi con esito", "Chiuso")
    found["pact closed"] = violations(page)

    page.goto(f"/pacts/{pact_id}/timeline")
    found["timeline page"] = violations(page)
    assert {name: problems for name, problems in found.items() if problems} == {}


@pytest.mark.parametrize("path", [
    "/caseload", "/caseload/pacts", "/approvals", "/indicators", "/exports", "/programmes", "/programmes/new",
    "/notifications", "/calendar",
])
def test_supervisor_pages(audited_page, path):
    sign_in(audited_page, "s.cremonesi")
    audited_page.goto(path)
    assert violations(audited_page) == []


def test_failed_mail_page(audited_page):
    sign_in(audited_page, "admin")
    audited_page.goto("/admin/failed-mail")
    assert violations(audited_page) == []


def test_second_factor_enrolment_page_with_an_error(audited_page):
    sign_in(audited_page, CASE_MANAGER)
    audited_page.goto("/account/second-factor")
    expect(audited_page.locator("figure svg")).to_be_visible()  # the QR code, drawn by the server
    assert violations(audited_page) == []
    audited_page.get_by_label("Password attuale").fill("sbagliata")
    audited_page.get_by_label("Codice dall'app").fill("123456")
    audited_page.get_by_role("button", name="Attiva il secondo fattore").click()
    expect(audited_page.get_by_text("Questa non è la tua password attuale.")).to_be_visible()
    screenshot(audited_page, "second-factor-enrolment")
    assert violations(audited_page) == []
