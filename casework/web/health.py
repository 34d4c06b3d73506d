from __future__ import annotations

from flask import Blueprint, current_app
from sqlalchemy import text

blueprint = Blueprint("health", __name__)


def _status() -> dict[str, object]:
    casework = current_app.extensions["casework"]
    try:
        with casework["engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception as error:  # the page exists to report exactly this
        database = f"error: {error.__class__.__name__}"
    return {
        "status": "ok" if database == "ok" else "degraded",
        "database": database,
        "workflows": [f"{e.name} v{e.version}" for e in casework["registry"].engines()],
    }


@blueprint.get("/health")
def health() -> tuple[dict[str, object], int]:
    status = _status()
    return status, 200 if status["status"] == "ok" else 503
