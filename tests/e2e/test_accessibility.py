"""WCAG 2.1 AA checks with axe-core (installed from npm) on the main pages, as a user sees them."""

from __future__ import annotations

import json

import pytest

from casework import PROJECT_ROOT
from tests.e2e.conftest import sign_in

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def audited_page(browser, live_server):
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `npm ci`")
    # axe is injected as a script, which our Content-Security-Policy rightly forbids to pages.
    context = browser.new_context(base_url=live_server, locale="it-IT", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("options => axe.run(document, options)", {"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_sign_in_page(audited_page):
    audited_page.goto("/login")
    assert violations(audited_page) == []


def test_sign_in_page_with_an_error(audited_page):
    audited_page.goto("/login")
    audited_page.get_by_label("Nome utente").fill("e.gribaudo")
    audited_page.get_by_label("Password").fill("sbagliata")
    audited_page.get_by_role("button", name="Accedi").click()
    assert violations(audited_page) == []


def test_today(audited_page):
    sign_in(audited_page, "e.gribaudo")
    assert violations(audited_page) == [], json.dumps(violations(audited_page), indent=1)
