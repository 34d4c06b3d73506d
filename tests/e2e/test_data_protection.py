"""What a data-protection officer asks to see, done by a supervisor in the browser: the second
factor switched on and used to sign in again, a copy of a person's data, and the erasure of a
person whose retention period ran out (with the clock moved on), after which the programme's
indicators read exactly as before.

The supervisor is CIdiS's (Roberta Giordano), whom no other browser test signs in as: her
second factor and the erased person stay in the shared demo data without touching the others.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
from playwright.sync_api import Page, expect

from casework.web import context
from tests.e2e.conftest import screenshot

SUPERVISOR = "r.giordano"
PASSWORD = f"casework-demo-{SUPERVISOR}"
PROGRAMME = "FEMMINILI_PLURALI"
MONTHS_KEPT = 12


def _password_step(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Nome utente").fill(SUPERVISOR)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_load_state()


def _code_step(page: Page, secret: str, at: datetime) -> None:
    expect(page).to_have_url(re.compile(r"/login/code$"))
    # The next time step's code: the one shown at enrolment was used up there.
    page.get_by_label("Codice").fill(pyotp.TOTP(secret).at(at + timedelta(seconds=30)))
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_load_state()


def _indicators(page: Page, programme_id: str, year: int) -> str:
    page.goto(f"/indicators?programme={programme_id}&start={year}-01-01&end={year}-12-31")
    expect(page.get_by_role("heading", level=1)).to_have_text("Indicatori di impatto")
    return page.locator("main").inner_text()


def test_a_supervisor_signs_in_with_a_second_factor_copies_and_erases_a_person(page: Page, monkeypatch):
    _password_step(page)
    page.goto("/account/second-factor")
    secret = "".join(page.locator("figcaption .font-monospace").inner_text().split())  # shown in groups
    page.get_by_label("Password attuale").fill(PASSWORD)
    page.get_by_label("Codice dall'app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Attiva il secondo fattore").click()
    codes = page.locator(".recovery-codes li")
    expect(codes).to_have_count(10)
    screenshot(page, "second-factor-recovery-codes")

    page.get_by_role("button", name="Esci").first.click()
    _password_step(page)
    screenshot(page, "second-factor-code-step")
    _code_step(page, secret, datetime.now(UTC))
    expect(page.get_by_role("button", name="Esci").first).to_be_attached()

    # The programme keeps people a year after their last pact closed.
    page.goto("/programmes")
    page.get_by_role("link", name=f"Modifica il progetto {PROGRAMME}").click()
    programme_id = re.search(r"/programmes/(\d+)/edit", page.url).group(1)
    page.get_by_label("Mesi di conservazione dopo la chiusura dell'ultimo patto").fill(str(MONTHS_KEPT))
    page.get_by_role("button", name="Salva le modifiche").click()
    page.wait_for_load_state()

    # Thirteen months later (the server runs in this process: its clock is moved on).
    later = datetime.now(UTC) + timedelta(days=400)
    monkeypatch.setattr(context, "now", lambda: later)
    _password_step(page)  # the session idled out meanwhile
    _code_step(page, secret, later)
    year = datetime.now(UTC).year  # the year the demo's pacts ran in
    before = _indicators(page, programme_id, year)

    page.goto("/beneficiaries/erasures")
    first = page.get_by_role("table").get_by_role("rowheader").first
    name = first.inner_text().strip()
    screenshot(page, "erasure-list")
    first.get_by_role("link").click()

    # The person's data, copied for her before she is erased.
    page.get_by_role("link", name="Copia dei dati").click()
    page.get_by_label("Motivo della copia").fill("Richiesta dell'interessata prima della cancellazione")
    page.get_by_label("Forma della copia").select_option("html")
    page.get_by_role("button", name="Fai la copia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Dati di {name}")
    expect(page.get_by_role("heading", name=re.compile("^Chi ha consultato la scheda"))).to_be_visible()
    screenshot(page, "person-data-copy")

    page.goto("/beneficiaries/erasures")
    page.get_by_role("link", name=f"Cancella · {name}").click()
    page.get_by_label("Motivo della cancellazione").fill("Periodo di conservazione scaduto")
    page.locator("label[for=confirm]").click()  # Bootstrap Italia draws the box on the label
    expect(page.get_by_label(re.compile("^Ho capito che nome"))).to_be_checked()
    screenshot(page, "erasure-confirm")
    page.get_by_role("button", name="Cancella la persona").click()
    expect(page.get_by_text(re.compile(r"La persona n\. \d+ è stata cancellata"))).to_be_visible()
    expect(page.get_by_role("table").get_by_text(name)).to_have_count(0)

    assert _indicators(page, programme_id, year) == before
