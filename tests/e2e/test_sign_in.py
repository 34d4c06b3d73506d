"""A case manager signs in, lands on Today, switches to English and signs out."""

from __future__ import annotations

from tests.e2e.conftest import screenshot, sign_in


def test_sign_in_today_language_and_sign_out(page):
    sign_in(page, "e.gribaudo")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Oggi"
    assert page.get_by_role("heading", name="In ritardo").is_visible()
    screenshot(page, "today-it")

    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Today"
    screenshot(page, "today-en")

    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    page.goto("/")
    assert page.url.endswith("/login?next=%2F")


def test_wrong_password_is_told_next_to_the_field(page):
    page.goto("/login")
    page.get_by_label("Nome utente").fill("e.gribaudo")
    page.get_by_label("Password").fill("sbagliata")
    page.get_by_role("button", name="Accedi").click()
    alert = page.get_by_role("alert")
    assert "Nome utente o password errati." in alert.inner_text()
    screenshot(page, "login-error")
