"""Probes for a process manager or load balancer.

`/health`: the process is alive and answers (no database: a slow database must not get healthy
workers restarted). `/ready`: this process can serve pages — the database answers, its schema is
at the migrations' head (not mid-upgrade, not an old release's code on a new schema or the
reverse) and the workflow files on disk are valid (what the next restart would load). 200 when
ready, 503 otherwise. Both answer anyone: they name no version, revision, file or path (what a
release runs is an attacker's first question); the reason a process is not ready goes to the log.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app
from sqlalchemy import inspect, text

from casework import migrate
from casework.workflow import check_directory

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@blueprint.get("/health")
def health() -> tuple[str, int, dict[str, str]]:
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8"}


@blueprint.get("/ready")
def ready() -> tuple[dict[str, object], int]:
    casework = current_app.extensions["casework"]
    checks = {"database": _database(casework["engine"]), "workflows": _workflows(casework["settings"])}
    problems = {name: result for name, result in checks.items() if result != "ok"}
    body: dict[str, object] = {"status": "ready" if not problems else "not ready", **checks}
    return body, 200 if not problems else 503


def _database(engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            # Read directly, not through Alembic's MigrationContext, which logs two lines a probe.
            current = (set(connection.scalars(text("SELECT version_num FROM alembic_version")))
                       if inspect(connection).has_table("alembic_version") else set())
    except Exception as error:  # noqa: BLE001 - the probe exists to report exactly this
        log.warning("not ready: database unreachable (%s)", error.__class__.__name__)
        return "unreachable"
    expected = set(migrate.heads())
    if current != expected:
        log.warning("not ready: schema at revision %s, expected %s: run `casework db upgrade`",
                    ", ".join(sorted(current)) or "none", ", ".join(sorted(expected)))
        return "schema not at this release's migrations"
    return "ok"


def _workflows(settings) -> str:
    try:
        _, problems = check_directory(settings.workflows_dir)
    except OSError as error:
        log.warning("not ready: workflow folder unreadable (%s)", error.__class__.__name__)
        return "unreadable"
    if problems:
        for problem in problems:
            log.warning("not ready: invalid workflow file %s:%s: %s", problem.file, problem.line, problem.message)
        return "invalid"
    return "ok"
