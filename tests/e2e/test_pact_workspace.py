"""The pact workspace in a browser: the first screen of a laptop, the keyboard alone, the move
dialogs, the workflow diagram, the page without JavaScript, and axe-core on all of it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import AXE, violations
from tests.e2e.test_case_manager_flow import (
    VIEWPORTS,
    look_at,
    make_move,
    moves_of,
    no_sideways_scroll,
    open_part,
    record_referral,
    stage_of,
    start_case,
)


@pytest.fixture(params=sorted(VIEWPORTS))
def audited(request, browser, live_server):
    """A page on a laptop and on a phone; axe is injected as a script, so the CSP is bypassed."""
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=VIEWPORTS[request.param],
                                  bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.viewport_name = request.param
    yield page
    context.close()


def in_view(page: Page, locator) -> bool:
    """The element is inside the window, without scrolling."""
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= size["width"]


def focus_is_visible(page: Page) -> bool:
    return page.evaluate("""() => {
        const style = getComputedStyle(document.activeElement);
        return style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
    }""")


def tab_until(page: Page, test: str, limit: int = 80) -> None:
    """Press Tab until `test` (a JavaScript expression on document.activeElement) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(element => {test})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached: {test}")


def test_the_first_screen_shows_the_header_the_moves_and_the_stage_work(audited):
    page = audited
    _, pact_id = start_case(page)
    record_referral(page, "Accesso spontaneo: cerca lavoro compatibile con la cura dei figli.")
    page.goto(f"/pacts/{pact_id}")
    header = page.locator("#workspace-header")
    part = page.get_by_role("region", name="Segnalazione", exact=True)  # the stage's work, first
    expect(part).to_be_visible()
    assert in_view(page, page.get_by_role("heading", level=1))
    assert in_view(page, moves_of(page).get_by_role("button", name="Avvia lo screening", exact=True))
    assert in_view(page, moves_of(page).get_by_role("link", name="Registra la rinuncia…"))
    if page.viewport_name == "laptop":
        assert in_view(page, part.get_by_role("heading", level=2))
        assert header.bounding_box()["height"] <= 130  # two lines and the moves, not half the screen
        # Scrolled down, the header stays in view with its moves.
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(200)
        assert in_view(page, moves_of(page).get_by_role("button", name="Avvia lo screening", exact=True))
    no_sideways_scroll(page)
    page.evaluate("window.scrollTo(0, 0)")
    look_at(page, f"pact-workspace-first-screen-{page.viewport_name}")
    assert violations(page) == []


def test_every_part_is_reached_with_the_keyboard_alone(audited):
    page = audited
    start_case(page)
    page.reload()
    page.locator("body").focus()
    tab_until(page, "element.closest('nav[aria-label=\"Parti del patto\"]') !== null")
    assert focus_is_visible(page)
    names = page.get_by_role("navigation", name="Parti del patto").get_by_role("link").all_inner_texts()
    headings = {
        "Segnalazione": "Segnalazione", "Screening": "Screening",
        "Co-progettazione": "Co-progettazione: obiettivi, azioni e impegni", "Servizi": "Servizi",
        "Firma": "Firma del patto",
        "Contatti di monitoraggio": "Contatti di monitoraggio", "Esito": "Esito", "Cronologia": "Cronologia",
        "Diario": "Diario", "Équipe": "Équipe", "Documenti": "Documenti", "Percorso": "Percorso",
    }
    assert len(names) == len(headings)
    for index, name in enumerate(names):
        link = page.get_by_role("navigation", name="Parti del patto").get_by_role("link").nth(index)
        link.focus()
        assert focus_is_visible(page)
        page.keyboard.press("Enter")
        label = headings[name.replace("Da fare ora", "").strip()]
        part = page.get_by_role("region", name=label, exact=True)
        expect(part).to_be_visible()
        # The part's heading takes the focus: reading goes on from there.
        expect(part.get_by_role("heading", level=2)).to_be_focused()
        expect(link).to_have_attribute("aria-current", "true")
    # A form opens from the keyboard too.
    open_part(page, "Contatti di monitoraggio")
    page.keyboard.press("Tab")
    expect(page.locator("summary", has_text="Registra un contatto")).to_be_focused()
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Modalità")).to_be_visible()


def test_a_move_dialog_from_the_keyboard_passes_axe(audited):
    page = audited
    start_case(page)
    withdraw = moves_of(page).get_by_role("link", name="Registra la rinuncia…")
    withdraw.focus()
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Registra la rinuncia")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Motivazione (obbligatoria)")).to_be_visible()
    page.wait_for_timeout(400)  # the dialog's fade-in
    screenshot(page, f"pact-workspace-dialog-{page.viewport_name}")
    assert violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Suspending asks a reason: a dialog too, set apart from the forward steps.
    record_referral(page, "Segnalata dai servizi sociali.")
    make_move(page, "Avvia lo screening", "Screening")
    suspend = moves_of(page).get_by_role("link", name="Sospendi…")
    expect(suspend).to_have_class(re.compile("btn-outline-danger"))
    suspend.click()
    dialog = page.get_by_role("dialog", name="Sospendi")
    dialog.get_by_label("Motivazione per “Sospendi” (obbligatoria)").fill("Ricovero ospedaliero")
    dialog.get_by_role("button", name="Sospendi", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="ora è nella fase: Sospeso.")).to_be_visible()
    assert stage_of(page) == "Sospeso"


def test_a_refused_form_opens_its_part_with_the_errors_on_top(audited):
    page = audited
    start_case(page)
    part = open_part(page, "Co-progettazione")
    part.locator("summary", has_text="Aggiungi un'azione").click()
    part.get_by_role("button", name="Aggiungi l'azione").click()  # nothing filled in
    part = page.get_by_role("region", name="Co-progettazione: obiettivi, azioni e impegni")
    expect(part).to_be_visible()
    summary = part.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(2)  # the action and who does it, at once
    expect(part.get_by_label("Azione", exact=True)).to_have_attribute("aria-invalid", "true")
    focused = page.evaluate("document.activeElement.closest('[data-error-summary]') !== null "
                            "|| document.activeElement.getAttribute('aria-invalid') === 'true'")
    assert focused
    summary.get_by_role("link").first.click()
    expect(part.get_by_label("Azione", exact=True)).to_be_focused()
    screenshot(page, f"pact-workspace-refused-{page.viewport_name}")
    assert violations(page) == []


def test_the_workflow_diagram_shows_the_current_stage_without_scrolling(audited):
    page = audited
    start_case(page)
    record_referral(page, "Segnalata dalla scuola.")
    make_move(page, "Avvia lo screening", "Screening")
    part = open_part(page, "Percorso")
    box = part.locator("[data-workflow-box]")
    current = box.locator(".state.current")
    inside = page.evaluate("""([box, stage]) => {
        const b = box.getBoundingClientRect(), s = stage.getBoundingClientRect();
        return s.left >= b.left && s.right <= b.right && s.top >= b.top && s.bottom <= b.bottom;
    }""", [box.element_handle(), current.element_handle()])
    assert inside, "the current stage is scrolled out of its box"
    font = page.evaluate("stage => parseFloat(getComputedStyle(stage.querySelector('text')).fontSize) "
                         "* stage.getScreenCTM().a", current.element_handle())
    assert font >= 12  # drawn at its size, not shrunk to unreadable
    no_sideways_scroll(page)
    screenshot(page, f"pact-workspace-diagram-{page.viewport_name}")
    assert violations(page) == []


def test_without_javascript_every_part_and_every_move_works(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=VIEWPORTS["laptop"],
                                  java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.viewport_name = "laptop"
    try:
        _, pact_id = start_case(page)
        for heading in ("Segnalazione", "Screening", "Firma del patto", "Contatti di monitoraggio", "Cronologia",
                        "Percorso"):
            expect(page.get_by_role("region", name=heading, exact=True)).to_be_visible()
        page.get_by_role("navigation", name="Parti del patto").get_by_role("link", name="Documenti").click()
        assert page.url.endswith("#documents")
        # The form opens from its summary, no script needed.
        page.locator("summary", has_text="Registra un contatto").click()
        expect(page.get_by_label("Modalità")).to_be_visible()
        # A move that asks a reason is a page of its own.
        moves_of(page).get_by_role("link", name="Registra la rinuncia…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Registra la rinuncia")
        page.get_by_label("Motivazione (obbligatoria)").select_option(label="Trasferimento fuori territorio")
        page.get_by_role("button", name="Registra la rinuncia", exact=True).click()
        expect(page.get_by_role("status").filter(has_text="ora è nella fase: Rinuncia.")).to_be_visible()
        assert page.url.endswith(f"/pacts/{pact_id}")
        assert stage_of(page) == "Rinuncia"
        screenshot(page, "pact-workspace-no-js")
    finally:
        context.close()


def test_the_workspace_runs_under_the_content_security_policy(page):
    """With the CSP enforced (no bypass): the scripts run, nothing is refused, no script error."""
    errors = []

    def console(message) -> None:
        # The Bootstrap Italia bundle's own inline styles and the missing favicon are every
        # page's (issue 11, point 8, with the site header), not the workspace's.
        source = message.location.get("url", "")
        if message.type == "error" and "bootstrap-italia" not in source and "favicon" not in source:
            errors.append(f"{message.text} at {source}")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    start_case(page)
    open_part(page, "Percorso")
    moves_of(page).get_by_role("link", name="Registra la rinuncia…").click()
    expect(page.get_by_role("dialog", name="Registra la rinuncia")).to_be_visible()
    assert errors == []
