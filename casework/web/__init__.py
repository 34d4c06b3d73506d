"""Flask application factory. The web layer is thin: it parses input, calls the core, renders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from casework import PROJECT_ROOT
from casework.config import Settings, load_settings
from casework.db import make_engine, make_session_factory
from casework.workflow.engine import WorkflowRegistry


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; raises ConfigError or WorkflowFileError instead of starting half-valid."""
    settings = settings or load_settings(overrides)
    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(settings.instance_dir),
        instance_relative_config=True,
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or None,
        TESTING=settings.env == "testing",
    )
    settings.instance_dir.mkdir(parents=True, exist_ok=True)

    engine = make_engine(settings.sqlalchemy_url)
    app.extensions["casework"] = {
        "settings": settings,
        "engine": engine,
        "session_factory": make_session_factory(engine),
        "registry": registry,
    }

    from casework.web import health

    app.register_blueprint(health.blueprint)
    return app
