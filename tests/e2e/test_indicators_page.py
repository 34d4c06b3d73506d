"""The indicators page on a 1366×768 laptop: the key figures in the first screen, then the
contents; and a pact's PDF for signature, downloaded as a case manager would."""

from __future__ import annotations

import shutil
import subprocess

from playwright.sync_api import expect

from casework import PROJECT_ROOT
from tests.e2e.conftest import SCREENSHOTS, sign_in
from tests.e2e.test_accessibility import violations

SUPERVISOR = "s.cremonesi"  # Silvia Cremonesi, Lodi
LAPTOP = {"width": 1366, "height": 768}


def test_the_key_figures_open_the_page_within_the_first_screen(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, SUPERVISOR)
        page.goto("/indicators")
        # The programme she oversees, so the people reached stand against its target.
        programme = page.get_by_label("Progetto", exact=True)
        options = programme.locator("option").all()
        programme.select_option(options[1].get_attribute("value"))
        page.get_by_role("button", name="Mostra gli indicatori").click()
        figures = page.locator("#key-figures dl.key-figures")
        expect(figures.locator("dt")).to_have_text([
            "Persone raggiunte", "Quota di donne", "Patti aperti", "Scadenze rispettate", "Giorni alla firma (mediana)",
        ])
        box = figures.bounding_box()
        page.screenshot(path=str(SCREENSHOTS / "indicators-top.png"))
        assert box["y"] + box["height"] <= LAPTOP["height"], box  # all five without scrolling
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "indicators-top.png"))
        # The contents lead to each table's section.
        page.get_by_role("navigation", name="In questa pagina").get_by_role("link", name="Scadenze rispettate").click()
        assert page.url.endswith("#table-deadlines")
        expect(page.locator("#table-deadlines-title")).to_be_in_viewport()
        assert violations(page) == []
    finally:
        context.close()


def test_a_pact_downloads_as_a_pdf_from_the_print_view(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, SUPERVISOR)
        # The first pact of her territory that was prepared for signature has a print view.
        for pact_id in range(1, 400):
            if page.request.get(f"/pacts/{pact_id}/print", max_redirects=0).status == 200:
                break
        else:
            raise AssertionError("no prepared pact in the demo data")
        page.goto(f"/pacts/{pact_id}/print")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Scarica il PDF").click()
        download = download_info.value
        assert download.suggested_filename.startswith("patto-") and download.suggested_filename.endswith(".pdf")
        folder = PROJECT_ROOT / "test-artifacts" / "pdf"
        folder.mkdir(parents=True, exist_ok=True)
        saved = folder / "demo-pact.pdf"
        download.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF-")
        if shutil.which("pdftoppm"):  # a picture of the first page, to look at
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "1", str(saved),
                            str(SCREENSHOTS / "pact-pdf")], check=True)
    finally:
        context.close()
