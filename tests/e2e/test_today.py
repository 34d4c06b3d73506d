"""Oggi in the browser at 1366x768: the contact and snooze dialogs opened and used with the
keyboard alone, axe-core WCAG 2.1 AA with each dialog open, screenshots."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import SCREENSHOTS, screenshot, sign_in
from tests.e2e.test_accessibility import AXE, violations
from tests.e2e.test_case_manager_flow import CASE_MANAGER

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop(browser, live_server):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    # bypass_csp only so that axe can be injected; the page's own script is a file, as CSP wants.
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.errors = errors
    yield page
    context.close()


def tab_to(page, target, limit: int = 12) -> None:
    """Press Tab until `target` has the focus (a date-time field is several stops of its own)."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def dialog_shot(page, name: str) -> None:
    """What the screen shows with the dialog open (a full-page image would cut its backdrop)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def open_with_keyboard(page, link) -> None:
    link.focus()
    expect(link).to_be_focused()
    page.keyboard.press("Enter")


def test_oggi_lists_every_deadline_with_its_count(laptop):
    sign_in(laptop, CASE_MANAGER)
    expect(laptop.get_by_role("heading", name="Oggi", exact=True)).to_be_visible()
    summary = laptop.locator("#today-summary")
    expect(summary).to_contain_text("scadenz")
    expect(laptop.get_by_role("heading", name="In scadenza oggi")).to_be_visible()
    # The page does not scroll sideways at 1366 px.
    assert laptop.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(laptop, "today-laptop")
    assert violations(laptop) == []


def test_contact_dialog_from_oggi_with_the_keyboard(laptop):
    sign_in(laptop, CASE_MANAGER)
    link = laptop.locator("a[data-today-dialog='today-contact-dialog']").first
    person = link.get_attribute("data-person")
    open_with_keyboard(laptop, link)
    dialog = laptop.get_by_role("dialog", name="Registra un contatto di monitoraggio")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(person)
    expect(dialog).to_contain_text(link.get_attribute("data-detail"))
    expect(dialog.get_by_label("Data e ora del contatto")).to_be_focused()
    dialog_shot(laptop, "today-contact-dialog")
    found = violations(laptop)
    assert found == [], json.dumps(found, indent=1)

    # Escape closes it and gives the focus back to the link.
    laptop.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()

    # Again, this time recording the contact, all by keyboard.
    open_with_keyboard(laptop, link)
    expect(dialog.get_by_label("Data e ora del contatto")).to_be_focused()
    channel = dialog.get_by_label("Modalità")
    tab_to(laptop, channel)
    laptop.keyboard.press("ArrowDown")  # the first channel
    tab_to(laptop, dialog.get_by_label("Note"))
    laptop.keyboard.type("Sentita al telefono: conferma l'appuntamento di lunedì.")
    tab_to(laptop, dialog.get_by_role("button", name="Registra il contatto"))
    laptop.keyboard.press("Enter")
    expect(laptop.get_by_role("status").filter(has_text="Contatto registrato per")).to_be_visible()
    expect(laptop.get_by_role("heading", name="Oggi", exact=True)).to_be_visible()
    screenshot(laptop, "today-contact-recorded")
    assert laptop.errors == []


def test_snooze_dialog_from_oggi_with_the_keyboard(laptop):
    sign_in(laptop, CASE_MANAGER)
    links = laptop.locator("a[data-today-dialog='today-snooze-dialog']")
    before = links.count()
    link = links.last
    open_with_keyboard(laptop, link)
    dialog = laptop.get_by_role("dialog", name="Rimanda il promemoria")
    expect(dialog).to_be_visible()
    until = dialog.get_by_label("Ricordamelo di nuovo il")
    expect(until).to_be_focused()
    dialog_shot(laptop, "today-snooze-dialog")
    found = violations(laptop)
    assert found == [], json.dumps(found, indent=1)

    # A day in the past is refused, on the form's own page, next to the field.
    until.fill(datetime.now(ZoneInfo("Europe/Rome")).date().isoformat())
    tab_to(laptop, dialog.get_by_role("button", name="Rimanda", exact=True))
    laptop.keyboard.press("Enter")
    expect(laptop.get_by_text("Scegli un giorno successivo a oggi.")).to_be_visible()
    screenshot(laptop, "today-snooze-refused")
    assert violations(laptop) == []

    week = (datetime.now(ZoneInfo("Europe/Rome")) + timedelta(days=7)).date().isoformat()
    laptop.get_by_label("Ricordamelo di nuovo il").fill(week)
    laptop.get_by_label("Motivo (facoltativo)").fill("Ricoverata: la famiglia richiama la settimana prossima.")
    laptop.get_by_role("button", name="Rimanda", exact=True).click()
    expect(laptop.get_by_role("status").filter(has_text="rimandato al")).to_be_visible()
    assert laptop.locator("a[data-today-dialog='today-snooze-dialog']").count() in (before - 1, before)
    screenshot(laptop, "today-snoozed")
    # The refused form's own answer (422) is the only console message: no CSP or script error.
    assert [error for error in laptop.errors if "422" not in error] == []
