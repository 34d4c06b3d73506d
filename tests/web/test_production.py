"""Production mode inside one process: probes, request ids and access lines, trusted proxies,
one development secret key for every worker."""

from __future__ import annotations

import json
import logging
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import select

from casework import logs, migrate
from casework.models import Base, LoginAttempt
from casework.security import throttle
from casework.web import create_app
from tests.web.conftest import PASSWORD, sign_in

TESTING = {"env": "testing", "secret_key": "t" * 48}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of its own: the probes look at its migrations."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ready.sqlite3'}"
    return request.getfixturevalue("fresh_postgres_url")


def _app(tmp_path: Path, database_url: str, **overrides) -> Flask:
    return create_app(overrides={**TESTING, "instance_path": str(tmp_path / "instance"),
                                 "database_url": database_url, **overrides})


@pytest.fixture
def close_apps() -> Iterator[list[Flask]]:
    apps: list[Flask] = []
    yield apps
    for app in apps:
        app.extensions["casework"]["engine"].dispose()


def test_ready_when_the_schema_is_at_head_and_the_workflows_are_valid(database_url, tmp_path, close_apps):
    migrate.upgrade(database_url)
    app = _app(tmp_path, database_url)
    close_apps.append(app)
    response = app.test_client().get("/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "database": "ok", "workflows": "ok"}


def test_not_ready_with_a_stale_migration(database_url, tmp_path, close_apps, caplog):
    # The database one revision behind the code: the release was installed, `db upgrade` not run.
    script = ScriptDirectory.from_config(migrate.alembic_config(database_url))
    [head] = migrate.heads()
    previous = script.get_revision(head).down_revision
    migrate.upgrade(database_url, previous)
    app = _app(tmp_path, database_url)
    close_apps.append(app)
    client = app.test_client()

    with caplog.at_level(logging.WARNING, logger="casework.web.health"):
        response = client.get("/ready")
    assert response.status_code == 503
    # Anyone may ask: the answer names no revision; the operator reads them in the log.
    assert response.json == {"status": "not ready", "database": "schema not at this release's migrations",
                             "workflows": "ok"}
    assert previous not in response.get_data(as_text=True) and head not in response.get_data(as_text=True)
    assert (f"schema at revision {previous}, expected {head}: run `casework db upgrade`"
            in caplog.messages[-1])
    # Alive all the same: a process manager must not restart it for what an upgrade fixes.
    assert client.get("/health").status_code == 200

    migrate.upgrade(database_url)
    assert client.get("/ready").status_code == 200


def test_not_ready_with_an_invalid_workflow_file(database_url, tmp_path, close_apps, caplog):
    from casework import PROJECT_ROOT

    migrate.upgrade(database_url)
    workflows = tmp_path / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", workflows)
    app = _app(tmp_path, database_url, workflows_path=str(workflows))
    close_apps.append(app)
    client = app.test_client()
    assert client.get("/ready").status_code == 200

    # Someone edits a file on the server: the running workers still hold the valid one, but the
    # next restart would refuse to start, and the probe says so now.
    broken = workflows / "chance_dispersione.yaml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("states:", "stati:", 1), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="casework.web.health"):
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json == {"status": "not ready", "database": "ok", "workflows": "invalid"}
    assert "chance_dispersione" not in response.get_data(as_text=True)  # the probe answers anyone
    assert any(f"invalid workflow file {broken}:" in message for message in caplog.messages)


def test_not_ready_without_a_database(tmp_path):
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'missing-folder' / 'x' / 'casework.sqlite3'}")
    Path(tmp_path / "missing-folder" / "x").rmdir()  # make_engine created it; take it away again
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
    assert app.test_client().get("/health").status_code == 200


def test_health_says_ok_and_nothing_else(app):
    response = app.test_client().get("/health")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"
    assert response.mimetype == "text/plain"


# --- request ids and the access line ---------------------------------------------------------


def _access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "casework.access"]


def test_each_response_carries_a_request_id_and_one_access_line(client_and_people, caplog):
    client, people = client_and_people
    sign_in(client, "giulia")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="casework.access"):
        # buffered: the body is read and closed, as a server does (the line is written then).
        response = client.get(f"/pacts/{people.pact.id}?q=Bianchi", buffered=True)
        other = client.get("/", buffered=True)
    assert response.status_code == 200
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and request_id != other.headers["X-Request-ID"]
    first, second = _access_records(caplog)
    assert (first.method, first.path, first.status, first.user_id) == ("GET", f"/pacts/{people.pact.id}", 200,
                                                                       people.manager.id)
    assert first.duration_ms >= 0
    # As one JSON line: the request id comes from the request being served, not the record.
    token = logs.request_id.set(request_id)
    try:
        line = json.loads(logs.JsonFormatter().format(first))
    finally:
        logs.request_id.reset(token)
    assert line["request_id"] == request_id
    assert line["path"] == f"/pacts/{people.pact.id}"
    assert "Bianchi" not in json.dumps(line)  # the query string is never logged
    assert second.path == "/"


def test_a_valid_incoming_request_id_is_kept_and_a_forged_one_replaced(app):
    client = app.test_client()
    from_proxy = "3f9c2a7be1d04c55a0e2b7f1c9d8e6a4"
    assert client.get("/health", headers={"X-Request-ID": from_proxy}).headers["X-Request-ID"] == from_proxy
    forged = 'x" level=ERROR message="signed out everyone'
    replaced = client.get("/health", headers={"X-Request-ID": forged}).headers["X-Request-ID"]
    assert replaced != forged and len(replaced) == 32


def test_tokens_in_paths_are_not_logged(app, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="casework.access"):
        client.get("/calendar/un-token-segreto.ics", buffered=True)
        client.get("/persone/RSSMRA85T10A562S/storia", buffered=True)
    feed, unknown = _access_records(caplog)
    assert "un-token-segreto" not in feed.path and feed.path.startswith("/calendar/<")
    assert unknown.path == "/persone/…" and unknown.status == 404


def test_json_lines_have_the_request_id_of_the_request_that_wrote_them(app, caplog):
    @app.get("/_test_log")
    def write_a_line() -> str:
        logging.getLogger("casework.test").warning("pratica %s aggiornata", 12)
        return "ok"

    with caplog.at_level(logging.INFO):
        response = app.test_client().get("/_test_log")
    [record] = [r for r in caplog.records if r.name == "casework.test"]
    line = json.loads(_format_during(record, response))
    assert line["message"] == "pratica 12 aggiornata" and line["level"] == "WARNING"
    assert line["request_id"] == response.headers["X-Request-ID"]


def _format_during(record: logging.LogRecord, response) -> str:
    token = logs.request_id.set(response.headers["X-Request-ID"])
    try:
        return logs.JsonFormatter().format(record)
    finally:
        logs.request_id.reset(token)


# --- trusted proxies -------------------------------------------------------------------------


def _throttle_address(client, address: str) -> None:
    client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    for attempt in range(throttle.ADDRESS_FREE_FAILURES):
        # Different usernames: only the address's own limit is reached.
        sign_in(client, f"nessuno{attempt}", "sbagliata")


@pytest.fixture
def small_address_limit(monkeypatch):
    monkeypatch.setattr(throttle, "ADDRESS_FREE_FAILURES", 3)


def _proxied_app(tmp_path: Path, trusted_proxies: int) -> Flask:
    app = _app(tmp_path, f"sqlite:///{tmp_path / 'web.sqlite3'}", trusted_proxies=trusted_proxies)
    Base.metadata.create_all(app.extensions["casework"]["engine"])
    return app


def test_behind_a_trusted_proxy_each_client_is_throttled_on_its_own(tmp_path, small_address_limit, close_apps):
    app = _proxied_app(tmp_path, trusted_proxies=1)
    close_apps.append(app)
    _users(app)
    office_a, office_b = app.test_client(), app.test_client()
    _throttle_address(office_a, "203.0.113.10")
    assert sign_in(office_a, "giulia", PASSWORD).status_code == 422  # throttled
    office_b.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert sign_in(office_b, "giulia", PASSWORD).status_code == 302  # another office, not locked out
    with app.extensions["casework"]["session_factory"]() as db:
        addresses = set(db.scalars(select(LoginAttempt.ip_address)))
    assert addresses == {"203.0.113.10", "198.51.100.7"}


def test_without_trusted_proxies_the_forwarded_header_is_ignored(tmp_path, small_address_limit, close_apps):
    app = _proxied_app(tmp_path, trusted_proxies=0)
    close_apps.append(app)
    _users(app)
    attacker = app.test_client()
    _throttle_address(attacker, "203.0.113.10")
    # Claiming to be someone else changes nothing: the address is the connection's.
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7"
    assert sign_in(attacker, "giulia", PASSWORD).status_code == 422
    with app.extensions["casework"]["session_factory"]() as db:
        assert set(db.scalars(select(LoginAttempt.ip_address))) == {"127.0.0.1"}


def _client_seen(tmp_path: Path, close_apps: list, trusted_proxies: int, forwarded_for: str) -> dict[str, str]:
    """The address, scheme and host the application sees behind `trusted_proxies` proxies."""
    from flask import request

    app = _proxied_app(tmp_path, trusted_proxies=trusted_proxies)
    close_apps.append(app)

    @app.get("/_test_client")
    def client_seen() -> dict[str, str]:
        return {"address": request.remote_addr, "scheme": request.scheme, "host": request.host}

    return app.test_client().get("/_test_client", headers={
        "X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "casework.example.org"}).json


def test_the_address_and_scheme_come_from_the_trusted_proxy(tmp_path, close_apps):
    seen = _client_seen(tmp_path, close_apps, 1, "198.51.100.1, 203.0.113.10")
    # One proxy: its own entry (the last one) is believed, what the client wrote before it is not.
    assert seen == {"address": "203.0.113.10", "scheme": "https", "host": "casework.example.org"}


def test_behind_a_balancer_and_nginx_the_scheme_is_the_one_nginx_passes_on(tmp_path, close_apps):
    # The balancer appended the client, nginx appended the balancer; nginx set one scheme and host.
    seen = _client_seen(tmp_path, close_apps, 2, "198.51.100.1, 203.0.113.10, 10.0.0.2")
    assert seen == {"address": "203.0.113.10", "scheme": "https", "host": "casework.example.org"}


def _users(app: Flask) -> None:
    from casework.models import Role, Territory, TerritoryKind, User
    from casework.security.passwords import hash_password

    with app.extensions["casework"]["session_factory"]() as db:
        territory = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
        db.add_all([territory, User(username="giulia", full_name="Giulia Rossi", email="giulia@example.org",
                                    password_hash=hash_password(PASSWORD), role=Role.CASE_MANAGER,
                                    territory=territory)])
        db.commit()


# --- the secret key of a development install -------------------------------------------------


def test_development_workers_share_one_generated_key(tmp_path, close_apps):
    instance = tmp_path / "instance"
    overrides = {"env": "development", "secret_key": "", "instance_path": str(instance),
                 "database_url": f"sqlite:///{tmp_path / 'dev.sqlite3'}"}
    first, second = create_app(overrides=overrides), create_app(overrides=overrides)
    close_apps.extend([first, second])
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    key_file = instance / "secret_key"
    assert key_file.read_text() == first.config["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # Another instance folder, another installation: another key.
    other = create_app(overrides={**overrides, "instance_path": str(tmp_path / "other")})
    close_apps.append(other)
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    from casework.config import ConfigError

    with pytest.raises(ConfigError, match="CASEWORK_SECRET_KEY"):
        create_app(overrides={"env": "production", "secret_key": "", "instance_path": str(tmp_path / "i")})
    assert not (tmp_path / "i" / "secret_key").exists()
