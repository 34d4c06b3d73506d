"""No page issues more SQL statements as the data grows (issue 13, point 5).

The scale data of `casework.demo.scale.load_scale` is loaded twice, at a small and a four
times larger size, on SQLite and on PostgreSQL; signed in as the users bench/web.py signs in
as, each page that benchmark drives (plus notifications, a person's page and the services
search) is read twice, counting the statements the database receives each time (the first
read fills what the page keeps per process, the second uses it). The counts must be the same
at both sizes: a page whose queries follow the rows (one per pact, per manager, per month...)
is slow at 100,000 pacts however fast each query is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from bench.web import FLOOR, Facts, Page, benchmark_pages, resolve_facts, summary_dict
from casework.config import load_settings
from casework.demo.scale import load_scale
from casework.models import Beneficiary
from casework.web import create_app
from tests.conftest import _scratch_postgres_database
from tests.web.conftest import sign_in

SMALL, LARGE = 40, 160
SEARCHES = {"search", "people"}


def pages(facts: Facts) -> dict[str, Page]:
    """The benchmark's pages and a few more a case manager opens all day."""
    extra = [
        Page("notifications", "notifications", facts.manager, "/notifications"),
        Page("person", "a person's page", facts.pact_user, f"/beneficiaries/{facts.beneficiary_id}"),
        Page("services", "services search", facts.manager, "/servizi?" + urlencode({"q": "lavoro"})),
    ]
    return {page.key: page for page in [*benchmark_pages(facts), *extra]}


KEYS = ["floor", "oggi", "pact", "search", "people", "caseload", "drilldown", "approvals", "indicators", "export",
        "notifications", "person", "services"]
# Pages whose count grows today, per database; reported to the lead and to helper perf (strict:
# the day one is fixed, its entry must go).
GROWING: dict[tuple[str, str], str] = {}


@dataclass
class Loaded:
    app: Flask
    facts: Facts
    clients: dict[str | None, FlaskClient] = field(default_factory=dict)

    def client(self, user: str | None) -> FlaskClient:
        if user not in self.clients:
            client = self.app.test_client()
            if user is not None:
                answer = sign_in(client, user, self.facts.passwords[user])
                assert answer.status_code == 302, f"signing in as {user}: {answer.status_code}"
            self.clients[user] = client
        return self.clients[user]

    def statements(self, page: Page) -> tuple[int, int]:
        """Statements for the page's first GET in this client, and for the next one. Both are
        compared: the first fills what a page keeps per process (it must not read more for more
        data either), the second shows what a page reads when that is kept."""
        client = self.client(page.user)
        return self._count(client, page), self._count(client, page)

    def _count(self, client: FlaskClient, page: Page) -> int:
        seen: list[str] = []

        def count(connection, cursor, statement, *args) -> None:
            seen.append(statement)

        engine = self.app.extensions["casework"]["engine"]
        event.listen(engine, "before_cursor_execute", count)
        try:
            answer = client.get(page.path)
            body = answer.get_data(as_text=True)  # a streamed body runs its queries while it is read
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert answer.status_code == 200, f"{page.label} ({page.path}): {answer.status_code}"
        if page.key in SEARCHES:
            assert self.facts.search_term in body, f"{page.label} finds nobody"
        return len(seen)


def _load(url: str, size: int, instance: Path) -> Loaded:
    summary = summary_dict(load_scale(load_settings({"database_url": url, "instance_path": str(instance)}), size))
    app = create_app(overrides={"env": "testing", "secret_key": "q" * 48, "instance_path": str(instance),
                                "database_url": url})
    engine = app.extensions["casework"]["engine"]
    facts = resolve_facts(engine, summary)
    with Session(engine) as db:
        surname = db.get(Beneficiary, facts.beneficiary_id).last_name
    # The searches look for the long pact's person, whom its case manager sees at any size: a
    # surname found at one size and not at the other would compare a list with an empty page.
    return Loaded(app, replace(facts, manager=facts.pact_user, search_term=surname))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Loaded]]:
    """The app on the scale data at both sizes, on one database."""
    with ExitStack() as stack:
        both = {}
        for size in (SMALL, LARGE):
            place = tmp_path_factory.mktemp(f"{request.param}-{size}")
            url = (f"sqlite:///{place / 'scale.sqlite3'}" if request.param == "sqlite"
                   else stack.enter_context(_scratch_postgres_database()))
            both[size] = _load(url, size, place / "instance")
            stack.callback(both[size].app.extensions["casework"]["engine"].dispose)
        yield both


@pytest.mark.parametrize("key", KEYS)
def test_a_page_reads_as_many_statements_at_four_times_the_data(loaded: dict[int, Loaded], key: str,
                                                                request: pytest.FixtureRequest) -> None:
    database = loaded[SMALL].app.extensions["casework"]["engine"].dialect.name
    if (database, key) in GROWING:
        request.applymarker(pytest.mark.xfail(strict=True, reason=GROWING[(database, key)]))
    # Both sizes see the same requests in the same order, so whatever a page keeps between
    # requests is in the same state at both.
    counts = {size: both.statements(pages(both.facts)[key]) for size, both in loaded.items()}
    assert counts[SMALL] == counts[LARGE], (
        f"{pages(loaded[SMALL].facts)[key].label}: {counts[SMALL]} statements (first GET, next GET) for "
        f"{SMALL} people, {counts[LARGE]} for {LARGE}")


def test_every_benchmarked_page_is_counted() -> None:
    facts = Facts(manager="m", manager_id=1, pact_user="m", pact_id=1, beneficiary_id=1, supervisor="s",
                  indicators_user="s", programme_id=1, year=2026, search_term="x")
    assert set(pages(facts)) == set(KEYS)
    assert FLOOR in KEYS
