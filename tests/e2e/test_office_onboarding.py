"""An office adopts Casework on a fresh install (no demo data), on a 1366x768 laptop, in Italian.

The administrator builds the consortium's territory tree, an organisation and three accounts by
invitation; each person chooses a password from the e-mail (written to a folder as .eml files)
and signs in; the supervisor creates the programme, checks a caseload file with three bad rows,
corrects it and imports it; each case manager finds the imported pacts and their deadlines on Oggi.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from codicefiscale import codicefiscale
from playwright.sync_api import Page, expect

from casework.administration.caseload_import_files import COLUMNS
from casework.administration.installation import (
    AdminInput,
    TerritorySpec,
    create_first_administrator,
    create_territories,
)
from casework.models import Base, TerritoryKind
from casework.reminders.mail import FolderMailer, MailPolicy, deliver_due_emails
from tests.e2e.conftest import _free_port, screenshot

ZONE = ZoneInfo("Europe/Rome")
ADMIN = "amministratore"
ADMIN_PASSWORD = "Prima installazione del consorzio"
AMBITO = "Ambito Torino Sud-Ovest"
CONSORTIUM = "CIdiS Orbassano"
ORGANISATION = "Cooperativa sociale Il Margine"
PROGRAMME = "PATTI_CIDIS_2026"
# (username, full name, e-mail, role label, territory, organisation or None)
SUPERVISOR = ("m.gili", "Marta Gili", "m.gili@cidis.example.it", "Coordinatore", CONSORTIUM, None)
MANAGER_ORBASSANO = ("l.ferrero", "Luca Ferrero", "l.ferrero@cidis.example.it", "Welfare manager di caso",
                     "Orbassano", None)
MANAGER_PIOSSASCO = ("s.bosio", "Sara Bosio", "s.bosio@ilmargine.example.it", "Welfare manager di caso",
                     "Piossasco", ORGANISATION)
PEOPLE = [SUPERVISOR, MANAGER_ORBASSANO, MANAGER_PIOSSASCO]
HEADERS = [header for _, header, _ in COLUMNS]


def password_of(username: str) -> str:
    # One per person, and without the username, which the password policy refuses.
    return f"lunedì si parte, turno {sum(map(ord, username))}"


@pytest.fixture(scope="module")
def fresh_office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A first run as `casework init` leaves it: the schema, one ambito, the first administrator;
    no demo data, no programme. E-mail goes to a folder."""
    from werkzeug.serving import make_server

    from casework.web import create_app

    folder: Path = tmp_path_factory.mktemp("onboarding")
    port = _free_port()
    app = create_app(overrides={
        "env": "testing", "secret_key": "o" * 48, "instance_path": str(folder / "instance"),
        "database_url": f"sqlite:///{folder / 'office.sqlite3'}", "mail_folder": str(folder / "mail"),
        "public_url": f"http://127.0.0.1:{port}",
    })
    casework = app.extensions["casework"]
    Base.metadata.create_all(casework["engine"])
    now = datetime.now(UTC)
    with casework["session_factory"]() as session:
        report = create_territories(session, [TerritorySpec(AMBITO, TerritoryKind.AMBITO)], now=now)
        create_first_administrator(session, AdminInput(ADMIN, "Paola Amministratrice", "ced@cidis.example.it",
                                                       ADMIN_PASSWORD), report.created[0], now=now)
        session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{port}", "mail": folder / "mail", "session_factory": casework["session_factory"]}
    server.shutdown()
    casework["engine"].dispose()


@pytest.fixture
def laptop(browser, fresh_office) -> Iterator[Page]:
    context = browser.new_context(base_url=fresh_office["url"], locale="it-IT",
                                  viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


# Steps -------------------------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Accedi").click()
    expect(page.get_by_role("button", name="Esci")).to_be_visible()


def menu(page: Page, name: str) -> None:
    navigation = page.get_by_role("navigation", name="Menu principale")
    link = navigation.get_by_role("link", name=name, exact=True)
    if not link.is_visible():  # a supervisor's administration entries are grouped under one dropdown
        navigation.get_by_role("button", name="Amministrazione").click()
    link.click()


def flashed(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=True)).to_be_visible()


def add_comune(page: Page, name: str, istat_code: str) -> None:
    """From the tree, the consortium's own "Aggiungi un comune": search the ISTAT list, choose, add."""
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=CONSORTIUM))
    row.get_by_role("link", name="Aggiungi un comune").click()
    page.get_by_label("Nome del comune").fill(name)
    page.get_by_role("button", name="Cerca nell'elenco ISTAT").click()
    # Bootstrap Italia draws the radio button in its label: the user clicks the label.
    page.locator("label", has_text=f"ISTAT {istat_code}").click()
    expect(page.get_by_label(re.compile(rf"ISTAT {istat_code}$"))).to_be_checked()
    expect(page.get_by_label("Dentro")).to_have_value(re.compile(r"^\d+$"))  # the consortium, pre-selected
    page.get_by_role("button", name="Aggiungi il comune").click()
    flashed(page, f"Comune {name} (TO) aggiunto.")


def build_territories(page: Page) -> None:
    menu(page, "Territori")
    page.get_by_role("link", name="Nuovo ambito, unione o consorzio").click()
    page.get_by_label("Nome", exact=True).fill(CONSORTIUM)
    page.get_by_label("Tipo").select_option(label="consorzio")
    page.get_by_label("Dentro").select_option(label=f"{AMBITO} (ambito)")
    page.get_by_role("button", name="Crea").click()
    flashed(page, f"Territorio {CONSORTIUM} creato.")
    add_comune(page, "Orbassano", "001171")
    add_comune(page, "Piossasco", "001194")
    tree = page.get_by_role("table")
    for name, code in (("Orbassano", "001171"), ("Piossasco", "001194")):
        expect(tree.get_by_role("row").filter(has_text=code)).to_contain_text(name)
    screenshot(page, "onboarding-territories")


def create_organisation(page: Page) -> None:
    menu(page, "Organizzazioni")
    page.get_by_role("link", name="Nuova organizzazione").click()
    page.get_by_label("Nome", exact=True).fill(ORGANISATION)
    page.get_by_label("Tipo").select_option(label="cooperativa")
    page.get_by_label("Territorio").select_option(label=CONSORTIUM)
    page.get_by_role("button", name="Crea").click()
    flashed(page, f"Organizzazione {ORGANISATION} creata.")


def invite(page: Page, person: tuple) -> None:
    username, full_name, email, role, territory, organisation = person
    menu(page, "Utenti")
    page.get_by_role("link", name="Invita un utente").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Invita un utente")
    page.get_by_label("Nome e cognome").fill(full_name)
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Indirizzo e-mail").fill(email)
    page.get_by_label("Ruolo").select_option(label=role)
    page.get_by_label("Territorio").select_option(label=territory)
    if organisation:
        page.get_by_label("Ente od organizzazione").select_option(label=organisation)
    if username == MANAGER_PIOSSASCO[0]:
        screenshot(page, "onboarding-invite")
    page.get_by_role("button", name="Invia l'invito").click()
    flashed(page, f"Invito inviato a {email}: il link per scegliere la password vale 72 ore.")


def invitation_links(office: dict) -> dict[str, str]:
    """Deliver the outbox to the mail folder and read each invitation's link, by recipient."""
    report = deliver_due_emails(office["session_factory"], FolderMailer(office["mail"]),
                                clock=lambda: datetime.now(UTC), policy=MailPolicy(), holder="test")
    assert (report.sent, report.failed) == (len(PEOPLE), 0)
    links = {}
    for path in sorted(office["mail"].glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=email_policy.default)
        body = message.get_body(preferencelist=("plain",)).get_content()
        found = re.search(rf"{re.escape(office['url'])}/invitation/\S+", body)
        if found:
            links[str(message["To"].addresses[0].addr_spec)] = found.group(0)
    return links


def choose_password(page: Page, link: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Scegli la tua password")
    expect(page.get_by_text(f"Account: {username}")).to_be_visible()
    page.get_by_label("Nuova password", exact=True).fill(password_of(username))
    page.get_by_label("Ripeti la nuova password").fill(password_of(username))
    page.get_by_role("button", name="Salva la password").click()
    flashed(page, f"La password è impostata. Accedi con il tuo nome utente, {username}, e la nuova password.")


def create_programme(page: Page, today: date) -> None:
    menu(page, "Progetti")
    page.get_by_role("link", name="Nuovo progetto").click()
    page.get_by_label("Nome", exact=True).fill("Patti di inclusione CIdiS")
    page.get_by_label("Codice", exact=True).fill(PROGRAMME)
    page.get_by_label("Ente finanziatore").fill("Regione Piemonte - FSE+")
    page.get_by_label("Territorio", exact=True).select_option(label=f"{CONSORTIUM} (consorzio)")
    page.get_by_label("Percorso").select_option(value="patto_personalizzato")
    page.get_by_label("Data di inizio").fill(f"01/01/{today.year - 1}")
    page.get_by_role("button", name="Crea il progetto").click()
    flashed(page, "Progetto Patti di inclusione CIdiS creato.")


# The caseload file ---------------------------------------------------------------------------


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def person_row(first: str, last: str, gender: str, born: date, birthplace: str, comune: str, manager: str,
               **values: str) -> dict[str, str]:
    code = codicefiscale.encode(lastname=last, firstname=first, gender=gender, birthdate=day(born),
                                birthplace=birthplace)
    row = {header: "" for header in HEADERS}
    row.update({
        "Codice fiscale": code, "Nome": first, "Cognome": last, "Data di nascita": day(born), "Genere": gender,
        "Comune": comune, "Telefono": "011 9036111", "Programma": PROGRAMME, "Case manager": manager,
        "Fonte segnalazione": "Servizi sociali", "Priorità": "media",
    })
    row.update(values)
    return row


def caseload(today: date) -> list[dict[str, str]]:
    """Four open pacts, two for each case manager: one overdue and one due within the week each."""
    return [
        # Referral 30 days ago: screening within 10 working days, overdue.
        person_row("Giuseppe", "Ferraro", "M", date(1971, 4, 12), "G087", "001171", MANAGER_ORBASSANO[0],
                   Fase="Segnalazione", **{"Data segnalazione": day(today - timedelta(days=30))}),
        # Co-design entered 26 days ago: pact signed within 30 days, due in 4 days.
        person_row("Maria", "Lombardi", "F", date(1985, 9, 3), "G087", "Orbassano", MANAGER_ORBASSANO[2],
                   Fase="Co-progettazione", Priorità="alta", **{
                       "Data segnalazione": day(today - timedelta(days=40)),
                       "Data apertura": day(today - timedelta(days=26))}),
        person_row("Elena", "Rinaldi", "F", date(1990, 1, 22), "G691", "001194", MANAGER_PIOSSASCO[0],
                   Fase="Segnalazione", **{"Data segnalazione": day(today - timedelta(days=25)),
                                           "Fonte segnalazione": "Sportello"}),
        person_row("Karim", "Benali", "M", date(1998, 6, 30), "G691", "001194", MANAGER_PIOSSASCO[0],
                   Fase="Co-progettazione", **{"Data segnalazione": day(today - timedelta(days=45)),
                                               "Data apertura": day(today - timedelta(days=28))}),
    ]


def with_three_mistakes(rows: list[dict[str, str]], today: date) -> list[dict[str, str]]:
    """A typo in a codice fiscale's last letter (row 2), a misspelt case manager (row 3), a referral
    date in the future (row 5)."""
    wrong = [dict(row) for row in rows]
    code = wrong[0]["Codice fiscale"]
    wrong[0]["Codice fiscale"] = code[:-1] + ("A" if code[-1] != "A" else "B")
    wrong[1]["Case manager"] = "l.ferrer"
    wrong[3]["Data segnalazione"] = day(today + timedelta(days=10))
    return wrong


def csv_file(rows: list[dict[str, str]], folder: Path, name: str) -> Path:
    output = io.StringIO(newline="")
    writer = csv.DictWriter(output, fieldnames=HEADERS, delimiter=";")
    writer.writeheader()
    writer.writerows(rows)
    path = folder / name
    path.write_bytes(b"\xef\xbb\xbf" + output.getvalue().encode("utf-8"))
    return path


def check_file(page: Page, path: Path) -> None:
    page.get_by_label("File (CSV o XLSX)").set_input_files(str(path))
    page.get_by_role("button", name="Verifica il file").click()


# The test ----------------------------------------------------------------------------------


def test_an_office_sets_up_casework_and_brings_in_its_caseload(laptop: Page, fresh_office, tmp_path: Path):
    page = laptop
    today = datetime.now(ZONE).date()

    # 1. The administrator of the fresh install: no data at all yet.
    sign_in(page, ADMIN, ADMIN_PASSWORD)
    build_territories(page)
    create_organisation(page)
    for person in PEOPLE:
        invite(page, person)
    menu(page, "Utenti")
    users = page.get_by_role("table")
    for username, *_ in PEOPLE:
        expect(users.get_by_role("row").filter(has_text=username)).to_contain_text("Invito in attesa")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "onboarding-users")

    # 2. Each person's invitation, from the e-mail; each chooses a password and signs in.
    links = invitation_links(fresh_office)
    assert set(links) == {email for _, _, email, *_ in PEOPLE}
    for username, full_name, email, *_ in PEOPLE:
        choose_password(page, links[email], username)
        if username == SUPERVISOR[0]:
            screenshot(page, "onboarding-password-set")
        sign_in(page, username, password_of(username))
        expect(page.get_by_role("heading", level=1)).to_have_text("Oggi")

    # 3. The supervisor creates the programme and brings in the caseload: three bad rows first.
    sign_in(page, SUPERVISOR[0], password_of(SUPERVISOR[0]))
    create_programme(page, today)
    good = caseload(today)
    menu(page, "Importa casi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Importa casi")
    check_file(page, csv_file(with_three_mistakes(good, today), tmp_path, "casi-cidis.csv"))
    expect(page.get_by_role("alert").filter(has_text="3 problemi")).to_have_text(
        "3 problemi: non si può importare nulla finché non sono corretti.")
    problems = page.get_by_role("table").filter(has=page.get_by_text("Cosa non va"))
    expected = [
        ("2", "Codice fiscale", "Il codice fiscale non è valido: l'ultima lettera non corrisponde"),
        ("3", "Case manager", "Nessun welfare manager di caso attivo con questo nome utente o e-mail."),
        ("5", "Data segnalazione", "La data è nel futuro."),
    ]
    rows = problems.locator("tbody tr")
    expect(rows).to_have_count(3)
    for index, (number, column, message) in enumerate(expected):
        cells = rows.nth(index).get_by_role("cell")
        expect(cells.nth(0)).to_have_text(number)
        expect(cells.nth(1)).to_have_text(column)
        expect(cells.nth(3)).to_contain_text(message)
    expect(page.get_by_role("button", name="Importa", exact=True)).to_have_count(0)
    screenshot(page, "onboarding-dry-run-problems")

    # Corrected, checked again, imported.
    check_file(page, csv_file(good, tmp_path, "casi-cidis-corretto.csv"))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_text("Patti da aprire: 4")).to_be_visible()
    screenshot(page, "onboarding-dry-run-ok")
    page.get_by_role("button", name="Importa", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="L'importazione è completata.")).to_be_visible()
    expect(page.get_by_text("Patti aperti: 4")).to_be_visible()
    screenshot(page, "onboarding-imported")

    # 4. Each case manager sees their imported pacts and deadlines on Oggi.
    expected_today = {
        MANAGER_ORBASSANO[0]: ("Ferraro Giuseppe", "Lombardi Maria", today + timedelta(days=4)),
        MANAGER_PIOSSASCO[0]: ("Rinaldi Elena", "Benali Karim", today + timedelta(days=2)),
    }
    for username, (overdue_name, soon_name, soon_day) in expected_today.items():
        sign_in(page, username, password_of(username))
        expect(page.get_by_role("heading", level=1)).to_have_text("Oggi")
        overdue = page.locator("section").filter(has=page.get_by_role("heading", name=re.compile("^In ritardo")))
        soon = page.locator("section").filter(
            has=page.get_by_role("heading", name=re.compile("^In scadenza nei prossimi 7 giorni")))
        overdue_rows = overdue.locator("tbody tr")
        expect(overdue_rows).to_have_count(1)
        expect(overdue_rows.first).to_contain_text(overdue_name)
        expect(overdue_rows.first).to_contain_text("Screening entro 10 giorni lavorativi dalla segnalazione")
        expect(overdue_rows.first).to_contain_text(re.compile(r"\d+ giorni di ritardo"))
        soon_rows = soon.locator("tbody tr")
        expect(soon_rows).to_have_count(1)
        expect(soon_rows.first).to_contain_text(soon_name)
        expect(soon_rows.first).to_contain_text("Patto firmato entro 30 giorni dallo screening")
        expect(soon_rows.first).to_contain_text(day(soon_day))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, f"onboarding-today-{username}")
