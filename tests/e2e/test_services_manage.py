"""A territorial manager keeps the services directory: adds a service (after a mistake), sees it
listed, reads its history, opens the import page; every page passes axe-core's WCAG 2.1 AA checks."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accessibility import AXE, violations
from tests.e2e.test_case_manager_flow import tick

SUPERVISOR = "s.cremonesi"  # Silvia Cremonesi, Lodi
NAME = "Doposcuola Il Ponte di Lodi"


def test_a_supervisor_adds_a_service_and_reads_its_history(browser, live_server):
    assert AXE.exists(), "node_modules/axe-core is missing: run `npm ci`"
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1366, "height": 768},
                                  bypass_csp=True)  # axe is injected as a script
    context.set_default_timeout(10_000)
    page: Page = context.new_page()
    try:
        sign_in(page, SUPERVISOR)
        menu = page.get_by_role("navigation", name="Menu principale")
        menu.get_by_role("button", name="Amministrazione").click()
        menu.get_by_role("link", name="Gestione servizi").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Gestione servizi")
        assert violations(page) == []

        page.get_by_role("link", name="Nuovo servizio").click()
        page.get_by_label("Nome del servizio").fill(NAME)
        page.get_by_label("Orari di apertura").fill("lun 14:30-18:00; gio 18:00-14:30")
        page.get_by_role("button", name="Crea").click()
        expect(page.get_by_label("Orari di apertura")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#opening_hours-error")).to_have_text(
            "Un orario di chiusura viene prima di quello di apertura.")
        expect(page.locator("#comuni-error")).to_have_text("Compila questo campo.")
        screenshot(page, "services-manage-form-errors")
        assert violations(page) == []

        organisation = page.get_by_label("Ente od organizzazione")
        organisation.select_option(index=1)
        page.get_by_label("Tipologia di servizio").select_option(label="Doposcuola e aiuto compiti")
        page.get_by_label("Comuni serviti").select_option(index=0)
        page.get_by_label("Accesso", exact=True).select_option(label="Su appuntamento")
        page.get_by_label("Orari di apertura").fill("lun 14:30-18:00; gio 14:30-18:00")
        page.get_by_label("Costo", exact=True).select_option(label="Gratuito")
        tick(page, "Arabo")
        page.get_by_label("Capienza (posti in tutto)").fill("20")
        page.get_by_label("Posti disponibili ora").fill("4")
        page.get_by_role("button", name="Crea").click()

        expect(page.get_by_role("status").filter(has_text=NAME)).to_be_visible()
        row = page.get_by_role("row").filter(has_text=NAME)
        expect(row).to_contain_text("Attivo")
        screenshot(page, "services-manage-list")
        assert violations(page) == []

        row.get_by_role("link", name="Storia").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Storico delle modifiche")
        history = page.get_by_role("table")
        expect(history.get_by_role("row").filter(has_text="Orari di apertura")).to_contain_text(
            "lun 14:30-18:00; gio 14:30-18:00")
        expect(history).to_contain_text("Silvia Cremonesi")
        assert violations(page) == []

        page.goto("/servizi/gestione/importa")
        expect(page.get_by_role("heading", level=1)).to_have_text("Importa servizi")
        assert violations(page) == []
        mixed = (b"ente;nome;tipologia;accesso;costo;comuni\n"
                 b"Ente che non esiste;Mensa;mensa;libero;gratuito;098031\n")
        page.get_by_label("File (CSV o XLSX)").set_input_files(
            files=[{"name": "servizi.csv", "mimeType": "text/csv", "buffer": mixed}])
        page.get_by_role("button", name="Verifica il file").click()
        problem = page.get_by_role("table").get_by_role("row").filter(has_text="Ente che non esiste")
        expect(problem).to_contain_text("2")
        expect(problem).to_contain_text("ente")
        expect(problem).to_contain_text("Nessun ente con esattamente questo nome tra quelli che gestisci.")
        expect(page.get_by_role("button", name="Importa", exact=True)).to_have_count(0)
        screenshot(page, "services-manage-import-problems")
        assert violations(page) == []
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/servizi/gestione")
        expect(page).to_have_url(re.compile(r"/servizi/gestione$"))
        screenshot(page, "services-manage-list-phone")
    finally:
        context.close()
