"""The mapping of the services for a supervisor, and the public board an administrator switches on
for citizens: on a laptop and a phone, in Italian and English, printable, with no accessibility fault."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accessibility import violations
from tests.e2e.test_case_manager_flow import tick

SUPERVISOR = "c.bonetto"  # Chiara Bonetto, Unione NET
LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def test_the_supervisor_reads_the_mapping_of_the_services(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, SUPERVISOR)
        page.goto("/mappatura")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mappatura dei servizi")
        figures = page.locator("dl.key-figures")
        expect(figures.locator("dt")).to_have_text([
            "Invii ai servizi", "Tasso di accettazione", "Tasso di conclusione",
            "Mediana giorni dalla richiesta all'avvio", "Scoperture",
        ])
        box = figures.bounding_box()
        assert box["y"] + box["height"] <= LAPTOP["height"], box
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
        screenshot(page, "service-mapping-laptop")
        page.get_by_role("navigation", name="In questa pagina").get_by_role("link", name=re.compile("^Scoperture")).click()
        assert page.url.endswith("#table-gaps")
        assert violations(page) == []
        # The indicators point to it.
        page.goto("/indicators")
        expect(page.locator("#services-summary")).to_contain_text("Servizi del territorio")
        assert violations(page) == []
    finally:
        context.close()


def test_an_administrator_opens_the_board_that_citizens_read_print_and_translate(browser, live_server):
    admin = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP)
    page = admin.new_page()
    try:
        sign_in(page, "admin")
        page.goto("/admin/territories")
        page.locator("tr", has=page.get_by_role("rowheader", name="Unione NET", exact=True)).get_by_role(
            "link", name="Modifica").click()
        board = page.get_by_label("Bacheca pubblica dei servizi")
        expect(board).not_to_be_checked()
        tick(page, "Bacheca pubblica dei servizi")
        page.get_by_role("button", name="Salva").click()
        page.wait_for_url(re.compile(r"/admin/territories$"))
        href = page.locator("tr", has=page.get_by_role("rowheader", name="Unione NET", exact=True)).get_by_role(
            "link", name="Modifica").get_attribute("href")
        territory_id = re.search(r"/admin/territories/(\d+)/edit", href).group(1)
        page.goto(href)
        expect(page.get_by_label("Bacheca pubblica dei servizi")).to_be_checked()
    finally:
        admin.close()

    for name, viewport in (("laptop", LAPTOP), ("phone", PHONE)):
        visitor = browser.new_context(base_url=live_server, locale="it-IT", viewport=viewport, bypass_csp=True)
        page = visitor.new_page()
        try:
            page.goto(f"/bacheca/{territory_id}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Servizi del territorio: Unione NET")
            assert visitor.cookies() == []  # no session for a visitor
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            screenshot(page, f"public-board-{name}")
            assert violations(page) == []
            if name == "laptop":
                page.get_by_label("Cerca", exact=True).fill("doposcuola")
                page.get_by_role("button", name="Cerca").click()
                expect(page.get_by_role("status")).to_contain_text("trovat")
                assert "q=doposcuola" in page.url
                page.get_by_role("link", name="English").click()
                expect(page.get_by_role("heading", level=1)).to_have_text("Services of the territory: Unione NET")
                assert "lang=en" in page.url and "q=doposcuola" in page.url
                assert violations(page) == []
                page.emulate_media(media="print")
                expect(page.locator("form.board-search")).to_be_hidden()
                screenshot(page, "public-board-print")
        finally:
            visitor.close()
