"""A territorial manager's morning: review the caseloads, hand two pacts to a colleague,
approve a co-designed pact waiting in the queue, and download the pacts for the funder."""

from __future__ import annotations

import re
from io import BytesIO

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, sign_in

SUPERVISOR = "s.cremonesi"  # Silvia Cremonesi, Lodi
FROM_MANAGER = "Davide Bergamaschi"
TO_MANAGER = "Anna Boffelli"
REASON = "Davide riduce l'orario fino a marzo: Anna segue i casi della scuola di Lodi."


def menu(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Menu principale").get_by_role("link", name=name, exact=True).click()


def selected_name(checkbox) -> str:
    label = checkbox.evaluate("box => box.labels[0].textContent")
    return label.removeprefix("Seleziona il patto di ").strip()


def pact_number(checkbox) -> str:
    """The pact's number, from its row (the drill-down writes "Patto n. 12" under the name)."""
    row_text = checkbox.locator("xpath=ancestor::tr").inner_text()
    return re.search(r"Patto n\. (\d+)", row_text).group(1)


def test_a_supervisor_reviews_reassigns_approves_and_exports(page: Page):
    sign_in(page, SUPERVISOR)

    menu(page, "Carichi di lavoro")
    expect(page.get_by_role("heading", level=1)).to_have_text("Carichi di lavoro")
    overview = page.get_by_role("table")
    expect(overview.get_by_role("rowheader", name=FROM_MANAGER)).to_be_visible()
    expect(overview.get_by_role("rowheader", name=TO_MANAGER)).to_be_visible()
    # A wide table scrolls inside its box; the page itself does not scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "supervisor-caseloads")

    overview.get_by_role("link", name=f"{FROM_MANAGER}: patti aperti").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patti aperti da esaminare")
    boxes = page.get_by_role("checkbox", name=re.compile("^Seleziona il patto di "))
    moved = [selected_name(boxes.nth(0)), selected_name(boxes.nth(1))]
    numbers = [pact_number(boxes.nth(0)), pact_number(boxes.nth(1))]
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.get_by_label("Nuovo welfare manager di caso").select_option(label=TO_MANAGER)
    page.get_by_label("Motivo della riassegnazione").fill(REASON)
    screenshot(page, "supervisor-reassign")
    page.get_by_role("button", name="Riassegna i patti selezionati").click()
    expect(page.get_by_text(f"2 patti riassegnati a {TO_MANAGER}.")).to_be_visible()

    # The two pacts are now on the other manager's list.
    menu(page, "Carichi di lavoro")
    page.get_by_role("table").get_by_role("link", name=f"{TO_MANAGER}: patti aperti").click()
    for name in moved:
        expect(page.get_by_role("rowheader", name=re.compile(re.escape(name)))).to_be_visible()

    menu(page, "Approvazioni")
    approve = page.get_by_role("button", name=re.compile(r"^Approva la versione \d+$"))
    waiting = approve.count()
    assert waiting >= 1
    screenshot(page, "supervisor-approvals")
    approve.first.click()
    expect(page.get_by_text("Patto approvato: il welfare manager di caso è stato avvisato.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r"^Approva la versione \d+$"))).to_have_count(waiting - 1)

    menu(page, "Esportazioni")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Scarica i patti (XLSX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    workbook = load_workbook(BytesIO(download.path().read_bytes()), read_only=True)
    pacts = workbook.worksheets[-1]
    header = [cell for cell in next(pacts.iter_rows(values_only=True))]
    number_at, manager_at = header.index("Patto n."), header.index("Welfare manager di caso")
    managers = {str(row[number_at]): row[manager_at] for row in pacts.iter_rows(min_row=2, values_only=True)}
    assert [managers[number] for number in numbers] == [TO_MANAGER, TO_MANAGER]

    menu(page, "Indicatori")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "supervisor-indicators")
