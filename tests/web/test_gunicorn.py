"""gunicorn with two worker processes, as in production, driven over HTTP: a user signs in, moves
a pact through the pact page's form, and every later request — whichever worker answers it —
recognises the session and shows the move. No secret key is configured (a development install):
the workers must agree on the one kept in the instance folder."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from casework import PROJECT_ROOT, migrate
from casework.clock import Clock
from casework.db import make_engine, make_session_factory
from casework.models import Beneficiary, Gender, Programme, Role, Territory, TerritoryKind, User
from casework.pacts import open_pact
from casework.security.passwords import hash_password
from casework.workflow import WorkflowRegistry
from tests.conftest import ZONE
from tests.web.conftest import CSRF, PASSWORD

MOVE_FORM = re.compile(r'<form method="post" action="(/pacts/\d+/transition)"[^>]*>(.*?)</form>', re.DOTALL)
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')
OPTION = re.compile(r'<option value="([^"]+)"')
READS = 16
MAX_READ_ROUNDS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'casework.sqlite3'}"
    return request.getfixturevalue("fresh_postgres_url")


def _world(database_url: str) -> int:
    """The schema at head, one case manager with a password, one pact at its first stage."""
    migrate.upgrade(database_url)
    engine = make_engine(database_url)
    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    with make_session_factory(engine)() as db:
        unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
        settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)
        manager = User(username="giulia", full_name="Giulia Rossi", email="giulia@example.org",
                       password_hash=hash_password(PASSWORD), role=Role.CASE_MANAGER, territory=unione)
        programme = Programme(code="TILDE", name="TILDE", funder="—", territory=unione, starts_on=date(2025, 1, 1),
                              workflow_name="patto_personalizzato")
        person = Beneficiary(first_name="Maria", last_name="Bianchi", gender=Gender.FEMALE, comune=settimo)
        db.add_all([unione, settimo, manager, programme, person])
        db.flush()
        pact = open_pact(db, registry, beneficiary=person, programme=programme, case_manager=manager,
                         actor=manager, clock=Clock(datetime.now(UTC), ZONE))
        db.commit()
        pact_id = pact.id
    engine.dispose()
    return pact_id


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(database_url: str, tmp_path: Path) -> Iterator[tuple[str, int, Path]]:
    pact_id = _world(database_url)
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "CASEWORK_ENV": "development", "CASEWORK_SECRET_KEY": "", "CASEWORK_LOG_FORMAT": "json",
           "CASEWORK_DATABASE_URL": database_url, "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"),
           "CASEWORK_HOST": "127.0.0.1", "CASEWORK_PORT": str(port), "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("CASEWORK_CONFIG", None)
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-c", "config/gunicorn.conf.py", "casework.web:create_app()"],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, server, log)
        yield base, pact_id, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_ready(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.2)
    pytest.fail(f"gunicorn never became ready:\n{log.read_text()}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is an answer to look at, not to follow
        return None


class Browser:
    """Cookies kept like a browser's; every request on a new connection (urllib closes each), so
    the two workers take turns accepting them."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirects())

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=20) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as answer:
            return answer.code, answer.read().decode(), dict(answer.headers)


def _worker_pids(log: Path, path: str) -> set[int]:
    pids = set()
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "casework.access" and entry.get("path") == path and entry.get("status") == 200:
                pids.add(entry["pid"])
    return pids


def test_a_move_made_on_one_worker_is_seen_from_both(gunicorn):
    base, pact_id, log = gunicorn
    browser = Browser(base)
    status, page, _ = browser.request("/login")
    assert status == 200
    status, _, headers = browser.request("/login", {"username": "giulia", "password": PASSWORD,
                                                    "csrf_token": CSRF.search(page)[1]})
    assert status == 302 and not headers["Location"].startswith("/login")

    status, page, _ = browser.request(f"/pacts/{pact_id}")
    assert status == 200
    # The first move the pact page offers at its first stage (withdrawing, which asks for a reason),
    # filled in as a person would, with the CSRF token the page gave.
    action, form = MOVE_FORM.search(page).groups()
    fields = dict(HIDDEN.findall(form))
    reasons = OPTION.findall(form)
    if reasons:
        fields["reason"] = reasons[0]
    fields["comment"] = "Trasferita in un altro comune"
    status, _, headers = browser.request(action, fields)
    assert status == 302, "the move was refused"

    # Reads four at a time (one worker busy, the other accepts) until both workers have answered:
    # one after the other, a quick worker may accept every connection on a loaded machine.
    pids: set[int] = set()
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(MAX_READ_ROUNDS):
            pages = list(pool.map(lambda _: browser.request(f"/pacts/{pact_id}"), range(READS)))
            # Every worker recognised the session (no way back to the sign-in page) and read the move.
            assert [status for status, _, _ in pages] == [200] * READS
            for _, page, headers in pages:
                assert "Fase: <strong>Rinuncia</strong>" in page
                assert f'data-move="{fields["event"]}"' not in page
                assert len(headers["X-Request-ID"]) == 32
                assert "server" not in {name.lower() for name in headers}  # no banner naming gunicorn
            time.sleep(0.3)  # the access line is written when the server closes the response
            pids = _worker_pids(log, f"/pacts/{pact_id}")
            if len(pids) == 2:
                break
    assert len(pids) == 2, f"one worker answered every request: {pids}"

    ready = [Browser(base).request("/ready") for _ in range(READS)]
    assert {status for status, _, _ in ready} == {200}
    assert not [headers for _, _, headers in ready if "server" in {name.lower() for name in headers}]
    assert Browser(base).request("/health")[:2] == (200, "ok")
    assert json.loads(ready[0][1]) == {"status": "ready", "database": "ok", "workflows": "ok"}
    # One secret for both, kept for the next start; none invented per process.
    key_file = log.parent / "instance" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
