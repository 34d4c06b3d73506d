"""The forms as a person uses them on a 1366x768 laptop: a refused form puts the focus on its
error summary, text fields count their characters as one types, and the page with the summary
shown passes axe-core (WCAG 2.1 AA)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, screenshot, sign_in
from tests.e2e.test_accessibility import AXE, violations
from tests.e2e.test_case_manager_flow import (
    CASE_MANAGER,
    fill_person_form,
    mistyped,
    new_person,
    open_form,
)


@pytest.fixture
def laptop(browser, live_server):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    # bypass_csp only so that axe can be injected; the page's own script loads as in production.
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1366, "height": 768},
                                  bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    # Errors of our script (a page's 422 status or the favicon are not the script's business).
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.console_errors = errors
    yield page
    context.close()


def test_a_refused_beneficiary_form_focuses_its_summary_which_leads_to_each_field(laptop):
    page = laptop
    person = new_person()
    sign_in(page, CASE_MANAGER)
    page.goto("/beneficiaries/new")
    fill_person_form(page, person, mistyped(person.codice_fiscale))
    page.get_by_label("Data di nascita", exact=True).fill("31/02/1990")
    page.get_by_label("Nome", exact=True).fill("")
    page.get_by_role("button", name="Registra", exact=True).click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Correggi 3 errori")
    # The summary is in view without scrolling, at the top of the page.
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 768
    screenshot_path = screenshot(page, "forms-beneficiary-errors")
    assert screenshot_path.exists()
    for label in ("Nome", "Data di nascita", "Codice fiscale"):
        expect(page.get_by_label(label, exact=True)).to_have_attribute("aria-invalid", "true")
    assert violations(page) == []

    summary.get_by_role("link", name="Codice fiscale", exact=False).click()
    expect(page).to_have_url(re.compile(r"#codice_fiscale$"))
    assert page.console_errors == []


def test_a_text_field_counts_its_characters_while_one_types(laptop):
    page = laptop
    sign_in(page, CASE_MANAGER)
    page.goto("/beneficiaries/new")
    field = page.get_by_label("Indirizzo", exact=True)
    counter = page.locator("#address-counter")
    # A one-line field shows its counter once half full; a text area always.
    expect(counter).to_be_hidden()
    field.press_sequentially("Via Roma 1")
    expect(counter).to_be_hidden()
    field.fill("v" * 98)
    field.press_sequentially("vv")
    expect(counter).to_be_visible()
    expect(counter).to_have_text("100 / 200 caratteri")
    expect(counter).to_have_attribute("aria-live", "off")
    field.fill("v" * 185)
    field.press_sequentially("vv")  # near the limit the counter speaks
    expect(counter).to_have_text("187 / 200 caratteri")
    expect(counter).to_have_attribute("aria-live", "polite")
    expect(field).to_have_attribute("aria-describedby", "address-counter")
    screenshot(page, "forms-counter")
    assert page.console_errors == []


def test_a_long_note_shows_its_counter_with_thousands_as_italians_write_them(laptop):
    page = laptop
    sign_in(page, CASE_MANAGER)
    page.goto("/")
    page.goto(page.locator("a[href^='/pacts/']").first.get_attribute("href") + "#journal")
    open_form(page.locator("#journal"), "Aggiungi al diario")
    note = page.locator("#journal-text")
    note.scroll_into_view_if_needed()
    expect(page.locator("#journal-text-counter")).to_have_text("0 / 10.000 caratteri")
    note.fill("x" * 9_500)
    note.press_sequentially("y")
    expect(page.locator("#journal-text-counter")).to_have_text("9501 / 10.000 caratteri")  # CLDR: Italian groups from five digits
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#journal").screenshot(path=str(SCREENSHOTS / "forms-note-counter.png"))


def test_a_goal_is_corrected_in_place_and_its_history_shows_before_and_after(laptop):
    page = laptop
    sign_in(page, CASE_MANAGER)
    page.goto("/")
    # A pact in follow-up has its goals written: Oggi lists the demo's, with their stage.
    in_follow_up = page.locator("tr", has=page.get_by_role("cell", name="Monitoraggio", exact=True)).first
    page.goto(in_follow_up.locator("a[href^='/pacts/']").first.get_attribute("href") + "#co-design")
    page.locator("#co-design").get_by_role("link", name=re.compile(r"^Modifica \(")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modifica l'obiettivo")
    assert violations(page) == []
    description = page.get_by_label("Obiettivo", exact=True)
    before = description.input_value()
    description.fill(before + " (rivisto con la famiglia)")
    page.get_by_role("button", name="Salva le modifiche").click()
    expect(page.get_by_text("Obiettivo modificato.")).to_be_visible()
    page.go_back()
    page.reload()
    history = page.get_by_role("region", name="Modifiche")
    expect(history).to_contain_text(before + " (rivisto con la famiglia)")
    assert violations(page) == []
    screenshot(page, "forms-goal-edit")
    assert page.console_errors == []
