"""The accounts pages in chromium: WCAG 2.1 AA (axe-core) and what the administrator sees."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import screenshot, sign_in
from tests.e2e.test_accessibility import audited_page, violations  # noqa: F401 - the fixture is used by name


@pytest.mark.parametrize("path", ["/admin/users", "/admin/users/new", "/admin/log", "/admin/users?state=inactive"])
def test_administrator_pages(audited_page, path):  # noqa: F811
    sign_in(audited_page, "admin")
    audited_page.goto(path)
    assert violations(audited_page) == []


def test_account_page_and_forgotten_password(audited_page):  # noqa: F811
    sign_in(audited_page, "admin")
    audited_page.get_by_role("link", name="Utenti").first.click()
    audited_page.locator("table a").first.click()
    assert violations(audited_page) == []
    screenshot(audited_page, "account-page")
    audited_page.get_by_role("button", name="Esci").click()
    audited_page.get_by_role("link", name="Password dimenticata?").click()
    assert violations(audited_page) == []
    audited_page.get_by_label("Nome utente o indirizzo e-mail").fill("nessuno")
    audited_page.get_by_role("button", name="Invia il link").click()
    assert "Se un account attivo corrisponde" in audited_page.content()
    assert violations(audited_page) == []
