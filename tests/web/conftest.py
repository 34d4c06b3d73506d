"""A real app on a real SQLite file, with CSRF on, and helpers to sign in and submit forms."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from casework.models import (
    Base,
    Beneficiary,
    Gender,
    Pact,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.security.passwords import hash_password
from tests.conftest import ZONE

PASSWORD = "una-password-lunga-2026"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    from casework.web import create_app

    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": f"sqlite:///{tmp_path / 'web.sqlite3'}",
    })
    Base.metadata.create_all(app.extensions["casework"]["engine"])
    yield app
    app.extensions["casework"]["engine"].dispose()


@pytest.fixture
def engine_app(engine, tmp_path: Path) -> Iterator[Flask]:
    """The web app on the `engine` fixture's database: SQLite, and PostgreSQL when configured.

    A test module runs on both databases by declaring `app` as this fixture."""
    from casework.web import create_app

    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False),
    })
    yield app
    app.extensions["casework"]["engine"].dispose()


@pytest.fixture
def db(app: Flask):
    with app.extensions["casework"]["session_factory"]() as session:
        yield session


@dataclass
class People:
    manager: User
    colleague: User
    supervisor: User
    other_supervisor: User
    admin: User
    programme: Programme
    restricted: Programme
    beneficiary: Beneficiary
    pact: Pact


@pytest.fixture
def people(app: Flask, db) -> People:
    """Two territories; a manager with one pact; a colleague; supervisors; an administrator."""
    unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)
    lodi_area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    digest = hash_password(PASSWORD)

    def user(username: str, role: Role, territory: Territory) -> User:
        return User(username=username, full_name=username.title() + " Rossi", email=f"{username}@example.org",
                    password_hash=digest, role=role, territory=territory)

    found = People(
        manager=user("giulia", Role.CASE_MANAGER, unione),
        colleague=user("marco", Role.CASE_MANAGER, unione),
        supervisor=user("elena", Role.SUPERVISOR, unione),
        other_supervisor=user("paolo", Role.SUPERVISOR, lodi_area),
        admin=user("admin", Role.ADMIN, unione),
        programme=Programme(code="TILDE", name="TILDE", funder="—", territory=unione, starts_on=date(2025, 1, 1),
                            workflow_name="patto_personalizzato"),
        restricted=Programme(code="RDM", name="Ricomincio da me", funder="—", territory=unione,
                             starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True),
        beneficiary=Beneficiary(first_name="Maria", last_name="Bianchi", gender=Gender.FEMALE, comune=settimo,
                                codice_fiscale="BNCMRA85D43I703I", birth_date=date(1985, 4, 3)),
        pact=None,  # type: ignore[arg-type]
    )
    db.add_all([unione, settimo, lodi_area, found.manager, found.colleague, found.supervisor,
                found.other_supervisor, found.admin, found.programme, found.restricted, found.beneficiary])
    db.flush()
    found.pact = ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=found.beneficiary,
                               programme=found.programme, case_manager=found.manager, actor=found.manager,
                               clock=ops.Clock(datetime.now(UTC), ZONE))
    db.commit()
    return found


def static_url(app: Flask, filename: str, endpoint: str = "static") -> str:
    """The address pages give one of our files: fingerprinted (casework/web/assets.py)."""
    from flask import url_for

    with app.test_request_context():
        return url_for(endpoint, filename=filename)


def csrf_token(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    match = CSRF.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def submit(client: FlaskClient, url: str, data: dict, *, form_page: str | None = None, **kwargs):
    """POST like a browser would: with the CSRF token of the page that shows the form."""
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_page or url)}, **kwargs)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD):
    return submit(client, "/login", {"username": username, "password": password})


@pytest.fixture
def client_and_people(app: Flask, people: People) -> tuple[FlaskClient, People]:
    return app.test_client(), people


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP by a threaded server in this process: its address."""
    served = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=served.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{served.server_port}"
    finally:
        served.shutdown()
        thread.join(timeout=10)
