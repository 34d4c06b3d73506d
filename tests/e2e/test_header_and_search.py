"""The header on a 1366x768 laptop and a 390x844 phone: no sideways scrolling, the phone menu
opened with the keyboard, search suggestions chosen with the arrow keys, no console errors
(CSP, 404) on any page of any role, axe-core clean with the suggestions and the menu open."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.conftest import sign_in as open_sign_in
from tests.e2e.test_accessibility import AXE, violations

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 1024, "height": 768}  # held sideways: the full menu's narrowest width
CASE_MANAGER = "e.gribaudo"
SUPERVISOR = "c.bonetto"


@pytest.fixture
def open_page(browser, live_server) -> Iterator:
    """A page of a given size, with the Content-Security-Policy enforced, recording every console
    error, uncaught exception and failed response."""
    contexts = []

    def make(viewport: dict, *, bypass_csp: bool = False) -> Page:
        context = browser.new_context(base_url=live_server, locale="it-IT", viewport=viewport, bypass_csp=bypass_csp)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.problems = []  # type: ignore[attr-defined]
        page.on("console", lambda message: message.type == "error" and page.problems.append(
            f"{page.url}: console: {message.text}"))
        page.on("pageerror", lambda error: page.problems.append(f"{page.url}: pageerror: {error}"))
        page.on("response", lambda response: response.status >= 400 and page.problems.append(
            f"{page.url}: {response.status} {response.url}"))
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    """What the user sees in the window (the header is what matters here), once menus and
    dropdowns have finished their opening animation."""
    page.wait_for_timeout(500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def sign_in(page: Page, username: str) -> None:
    """Sign in and make sure the pages speak Italian: the language is the account's, and another
    test may have switched it."""
    open_sign_in(page, username)
    italian = page.get_by_role("banner").locator("button[lang=it]")
    expect(italian).to_be_visible()
    if italian.get_attribute("aria-current") != "true":
        italian.click()
    expect(page.get_by_role("navigation", name="Menu principale")).to_be_attached()


def scroll_width(page: Page) -> tuple[int, int]:
    return tuple(page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]"))


def menu_addresses(page: Page) -> list[str]:
    """Every address of the main menu (the grouped ones too) and of the account links."""
    found = page.eval_on_selector_all(
        "header a[href]", "links => links.map(link => link.getAttribute('href'))")
    return sorted({address for address in found if address.startswith("/")})


def first_listed(page: Page) -> tuple[str, str]:
    """The first person of the beneficiary list: their address and name as listed."""
    page.goto("/beneficiaries")
    link = page.locator("table tbody th a").first
    return link.get_attribute("href"), link.inner_text()


def first_pact(page: Page, beneficiary: str) -> str:
    page.goto(beneficiary)
    return page.locator("main a[href^='/pacts/']").first.get_attribute("href")


@pytest.mark.parametrize("username", [CASE_MANAGER, SUPERVISOR, "admin"])
def test_no_console_errors_and_nothing_missing_on_any_page(open_page, username):
    page = open_page(LAPTOP)
    sign_in(page, username)
    addresses = menu_addresses(page)
    assert len(addresses) >= 5, addresses
    if username != "admin":
        person, _ = first_listed(page)
        addresses += [person, first_pact(page, person), "/cerca?q=ro", "/cerca?q=%20"]
    visited = []
    for address in addresses:
        page.goto(address)
        page.wait_for_load_state("load")
        visited.append(address)
    assert page.problems == [], visited


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (TABLET, "tablet"), (PHONE, "phone")])
def test_no_page_scrolls_sideways(open_page, viewport, name):
    page = open_page(viewport)
    sign_in(page, CASE_MANAGER)
    person, _ = first_listed(page)
    pact = first_pact(page, person)
    wide = {}
    for address in ("/", "/beneficiaries", person, pact, "/cerca?q=ro"):
        page.goto(address)
        width, window = scroll_width(page)
        if width > window:
            wide[address] = width
    supervisor = open_page(viewport)
    sign_in(supervisor, SUPERVISOR)
    for address in ("/caseload", "/beneficiaries"):
        supervisor.goto(address)
        width, window = scroll_width(supervisor)
        if width > window:
            wide[f"{SUPERVISOR} {address}"] = width
    assert wide == {}, f"wider than {viewport['width']} px"
    if name == "laptop":
        # The caseload table's last column is in view without scrolling inside its box.
        supervisor.goto("/caseload")
        box = supervisor.locator(".table-responsive").first
        assert box.evaluate("box => box.scrollWidth <= box.clientWidth")
        expect(supervisor.get_by_role("columnheader", name="Peso del carico")).to_be_in_viewport()


def test_the_laptop_menu_fits_one_line_and_groups_administration(open_page):
    page = open_page(LAPTOP)
    sign_in(page, SUPERVISOR)
    menu = page.get_by_role("navigation", name="Menu principale")
    tops = menu.locator(".menu-wrapper > .navbar-nav > .nav-item").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))")
    assert len(tops) == 10 and len(set(tops)) == 1, tops  # Oggi ... Esportazioni, Servizi, Amministrazione
    expect(page.get_by_role("button", name="Esci")).to_be_visible()
    expect(page.get_by_role("button", name="Apri il menu")).to_be_hidden()
    group = menu.get_by_role("button", name="Amministrazione")
    group.focus()
    page.keyboard.press("Enter")
    expect(group).to_have_attribute("aria-expanded", "true")
    expect(menu.get_by_role("link", name="Progetti")).to_be_visible()
    screenshot(page, "header-laptop-administration")
    page.keyboard.press("Escape")
    expect(group).to_have_attribute("aria-expanded", "false")
    group.click()
    menu.get_by_role("link", name="Coperture").click()
    expect(page).to_have_url(re.compile(r"/covers$"))
    expect(menu.get_by_role("button", name="Amministrazione")).to_have_class(re.compile(r"\bactive\b"))


def test_the_phone_menu_opens_with_the_keyboard(open_page):
    page = open_page(PHONE)
    sign_in(page, SUPERVISOR)
    screenshot(page, "header-phone")
    expect(page.get_by_role("button", name="Esci")).to_be_hidden()  # in the menu, not the slim header
    toggler = page.get_by_role("button", name="Apri il menu")
    for _ in range(15):
        if toggler.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    assert toggler.evaluate("button => button === document.activeElement"), "the menu button is not reachable"
    page.keyboard.press("Enter")
    expect(toggler).to_have_attribute("aria-expanded", "true")
    menu = page.locator("#main-menu")
    expect(menu.get_by_role("link", name="Beneficiari", exact=True)).to_be_visible()
    expect(menu.get_by_text("Chiara Bonetto")).to_be_visible()
    expect(menu.get_by_role("button", name="Esci")).to_be_visible()
    screenshot(page, "header-phone-menu")
    assert scroll_width(page)[0] <= PHONE["width"]
    # The menu takes the focus (its close button first) and Tab walks its entries.
    expect(page.locator("#main-menu :focus")).to_have_count(1)
    wanted = menu.get_by_role("link", name="Beneficiari", exact=True)
    for _ in range(5):
        if wanted.evaluate("link => link === document.activeElement"):
            break
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/beneficiaries$"))


def choose_with_keys(page: Page, text: str, wanted: str) -> None:
    box = page.get_by_role("combobox", name=re.compile("Cerca una persona"))
    box.fill(text)
    listbox = page.get_by_role("listbox", name="Suggerimenti")
    expect(listbox.get_by_role("option").first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    for _ in range(12):
        page.keyboard.press("ArrowDown")
        active = box.get_attribute("aria-activedescendant")
        if wanted in page.locator(f"#{active}").inner_text():
            break
    expect(page.locator(f"#{box.get_attribute('aria-activedescendant')}")).to_have_attribute("aria-selected", "true")


@pytest.mark.parametrize(("viewport", "name"), [(LAPTOP, "laptop"), (PHONE, "phone")])
def test_suggestions_are_chosen_with_the_arrow_keys_and_enter(open_page, viewport, name):
    page = open_page(viewport)
    sign_in(page, CASE_MANAGER)
    person, listed_name = first_listed(page)
    surname = listed_name.split()[0]
    page.goto("/")
    choose_with_keys(page, surname[:4], listed_name)
    screenshot(page, f"header-{name}-suggestions")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(person) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(surname)
    # Too short: the box says what to type, and Enter opens the results page with the same message.
    box = page.get_by_role("combobox", name=re.compile("Cerca una persona"))
    box.fill("x")
    expect(page.locator("#header-search-status")).to_have_text("Scrivi almeno 2 lettere o cifre.")
    expect(page.locator("#header-search-status")).to_be_visible()
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/cerca\?q=x$"))
    expect(page.get_by_role("alert")).to_have_text("Scrivi almeno 2 lettere o cifre.")
    assert page.problems == []


def test_the_results_page_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport=LAPTOP, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, CASE_MANAGER)
        person, listed_name = first_listed(page)
        page.get_by_role("combobox", name=re.compile("Cerca una persona")).or_(
            page.get_by_role("searchbox", name=re.compile("Cerca una persona"))).fill(listed_name)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Trova una persona o un patto")
        page.get_by_role("link", name=listed_name).click()
        expect(page).to_have_url(re.compile(re.escape(person) + "$"))
    finally:
        context.close()


@pytest.fixture
def audited(open_page):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    return lambda viewport: open_page(viewport, bypass_csp=True)  # axe is injected as a script


def test_axe_with_the_suggestions_open(audited):
    for viewport in (LAPTOP, PHONE):
        page = audited(viewport)
        sign_in(page, CASE_MANAGER)
        person, listed_name = first_listed(page)
        choose_with_keys(page, listed_name.split()[0][:4], listed_name)
        assert violations(page) == [], viewport


def test_axe_with_the_phone_menu_and_the_laptop_dropdown_open(audited):
    page = audited(PHONE)
    sign_in(page, SUPERVISOR)
    page.get_by_role("button", name="Apri il menu").click()
    expect(page.locator("#main-menu").get_by_role("link", name="Beneficiari", exact=True)).to_be_visible()
    page.locator("#main-menu").get_by_role("button", name="Amministrazione").click()
    expect(page.locator("#main-menu").get_by_role("link", name="Progetti")).to_be_visible()
    page.wait_for_timeout(500)  # the kit's opening animations fade in: axe must see the end
    assert violations(page) == []
    laptop = audited(LAPTOP)
    sign_in(laptop, SUPERVISOR)
    laptop.get_by_role("button", name="Amministrazione").click()
    expect(laptop.get_by_role("link", name="Progetti")).to_be_visible()
    laptop.wait_for_timeout(500)
    assert violations(laptop) == []
    laptop.goto("/beneficiaries?deadline=late")
    assert violations(laptop) == []
    laptop.goto("/cerca?q=ro")
    assert violations(laptop) == []
