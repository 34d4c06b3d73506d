"""Probes for a process manager or load balancer.

`/health`: the process is alive and answers (no database: a slow database must not get healthy
workers restarted). `/ready`: this process can serve pages — the database answers, its schema is
at the migrations' head (not mid-upgrade, not an old release's code on a new schema or the
reverse) and the workflow files on disk are valid (what the next restart would load). 200 when
ready, 503 with the reason otherwise. No personal data, no configuration values.
"""

from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import inspect, text

from casework import migrate
from casework.workflow import check_directory

blueprint = Blueprint("health", __name__)


@blueprint.get("/health")
def health() -> tuple[dict[str, object], int]:
    registry = current_app.extensions["casework"]["registry"]
    return {"status": "ok", "workflows": [f"{e.name} v{e.version}" for e in registry.engines()]}, 200


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
    except Exception as error:  # the probe exists to report exactly this, not to fail with it
        return f"unreachable: {error.__class__.__name__}"
    expected = set(migrate.heads())
    if current != expected:
        found = ", ".join(sorted(current)) or "none"
        return f"schema at revision {found}, expected {', '.join(sorted(expected))}: run `casework db upgrade`"
    return "ok"


def _workflows(settings) -> str:
    try:
        _, problems = check_directory(settings.workflows_dir)
    except OSError as error:
        return f"workflow folder unreadable: {error.__class__.__name__}"
    if problems:
        # The file's name, not its path: the probe answers anyone who asks.
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return f"invalid workflow file {first.file.name}:{first.line}: {first.message}{more}"
    return "ok"
