"""Two case managers edit the same pact form at once: the second save is refused, clearly, with
what they typed kept, and neither change silently replaces the other."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.test_case_manager_flow import (
    look_at,
    open_form,
    open_part,
    record_referral,
    start_case,
)

COLLEAGUE = "m.perotti"  # Marco Perotti, case manager of the same Unione NET
CONFLICT = ("Qualcun altro ha modificato questo patto mentre lo stavi compilando. Quello che hai inserito è qui "
            "sotto: controlla i dati aggiornati e salva di nuovo.")
FIRST_REASON = "Segnalata dalla scuola primaria: assenze frequenti dei figli e difficoltà economiche."
ELENA_REASON = "Segnalata dalla scuola primaria: assenze frequenti dei figli; sfratto annunciato per marzo."
MARCO_REASON = "Segnalata dalla scuola primaria: la madre ha chiesto un sostegno per la ricerca di lavoro."
MARCO_CONTACT = "maestra Ferrero, 011 800 1234"


def open_referral_form(page: Page):
    return open_form(open_part(page, "Segnalazione"), "Modifica la segnalazione")


def recorded_reason(page: Page) -> str:
    """The reason as the referral panel shows it (the <dd> after "Motivazione", which has no name)."""
    return open_part(page, "Segnalazione").get_by_role("definition").last.inner_text().strip()


def test_a_second_save_over_a_change_is_refused_with_the_input_kept(browser, live_server, page):
    person, _ = start_case(page)
    elena = page
    record_referral(elena, FIRST_REASON)
    equipe = open_form(open_part(elena, "Équipe"), "Aggiungi all'équipe")
    equipe.get_by_label("Collega", exact=True).select_option(label="Marco Perotti · Unione NET")
    equipe.get_by_label("Ruolo nell'équipe").fill("Educatore")
    equipe.get_by_role("button", name="Aggiungi il collega").click()
    expect(elena.get_by_text("L'équipe è stata aggiornata.")).to_be_visible()

    context = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    try:
        marco = context.new_page()
        sign_in(marco, COLLEAGUE)
        menu = marco.get_by_role("navigation", name="Menu principale")
        menu.get_by_role("link", name="Beneficiari", exact=True).click()
        marco.get_by_label("Nome o codice fiscale").fill(person.codice_fiscale)
        marco.get_by_role("button", name="Filtra", exact=True).click()
        marco.get_by_role("link", name=person.listed_name).click()
        marco.get_by_role("region", name="Patti").get_by_role("link", name="TILDE").click()
        expect(marco.get_by_role("heading", level=1)).to_have_text(f"Patto di {person.full_name}")

        # Both have the referral form open on the same version of the pact.
        elena.reload()
        elena_form = open_referral_form(elena)
        marco_form = open_referral_form(marco)

        elena_form.get_by_label("Motivo della segnalazione").fill(ELENA_REASON)
        elena_form.get_by_role("button", name="Salva la segnalazione").click()
        expect(elena.get_by_text("Segnalazione salvata.")).to_be_visible()

        marco_form.get_by_label("Motivo della segnalazione").fill(MARCO_REASON)
        marco_form.get_by_label("Telefono o e-mail di chi segnala").fill(MARCO_CONTACT)
        marco_form.get_by_role("button", name="Salva la segnalazione").click()

        referral = marco.get_by_role("region", name="Segnalazione")
        expect(referral.get_by_role("alert")).to_have_text(CONFLICT)
        expect(referral.get_by_label("Motivo della segnalazione")).to_have_value(MARCO_REASON)
        expect(referral.get_by_label("Telefono o e-mail di chi segnala")).to_have_value(MARCO_CONTACT)
        # Beside the kept input, the panel shows what is recorded now: Elena's reason.
        assert recorded_reason(marco) == ELENA_REASON
        look_at(marco, "pact-conflict")

        # Nothing was overwritten: on reload both see Elena's reason.
        elena.reload()
        assert recorded_reason(elena) == ELENA_REASON
        expect(elena.get_by_role("region", name="Segnalazione")).not_to_contain_text(MARCO_CONTACT)

        # Having seen the current data, Marco sends his input again, knowingly: now it is saved.
        referral.get_by_role("button", name="Salva la segnalazione").click()
        expect(marco.get_by_text("Segnalazione salvata.")).to_be_visible()
        elena.reload()
        assert recorded_reason(elena) == MARCO_REASON
        expect(elena.get_by_role("region", name="Segnalazione")).to_contain_text(MARCO_CONTACT)
    finally:
        context.close()
