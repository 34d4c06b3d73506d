"""End-to-end: the real app on a real port with the demo data, driven by Debian's chromium.

Without chromium or Playwright the tests skip on a laptop and fail in CI (CI=true).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from casework import PROJECT_ROOT
from casework.models import Base

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=it-IT",
]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason + " (required in CI)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# The SQLite file behind each live server's address, for tests that put rows in as a maintainer would.
LIVE_DATABASES: dict[str, Path] = {}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The application with the demo data, served on 127.0.0.1 from a background thread."""
    from werkzeug.serving import make_server

    from casework.demo.loader import load_demo
    from casework.services import seed_taxonomy
    from casework.web import create_app

    folder: Path = tmp_path_factory.mktemp("e2e")
    app = create_app(overrides={
        "env": "testing", "secret_key": "e" * 48, "instance_path": str(folder / "instance"),
        "database_url": f"sqlite:///{folder / 'e2e.sqlite3'}",
    })
    casework = app.extensions["casework"]
    Base.metadata.create_all(casework["engine"])
    with casework["session_factory"]() as session:
        load_demo(session, casework["registry"], now=datetime.now(timezone.utc),
                  zone=casework["settings"].zone)
        seed_taxonomy(session)  # as `casework db upgrade` does before the demo
        session.commit()
    server = make_server("127.0.0.1", _free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"http://127.0.0.1:{server.server_port}"
    LIVE_DATABASES[address] = folder / "e2e.sqlite3"
    yield address
    server.shutdown()
    casework["engine"].dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator[object]:
    context = browser.new_context(base_url=live_server, locale="it-IT", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save what the user sees; the run keeps these under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str) -> None:
    """Sign in, and make sure the pages speak Italian: the language is kept in the account, and
    an earlier test on the same server may have switched it to English."""
    page.goto("/login")
    page.get_by_label("Nome utente").fill(username)
    page.get_by_label("Password").fill(f"casework-demo-{username}")
    page.get_by_role("button", name="Accedi").click()
    page.wait_for_load_state()
    italian = page.get_by_role("banner").locator("button[lang=it]")
    if italian.count() and italian.get_attribute("aria-current") != "true":
        italian.click()
        page.wait_for_load_state()
