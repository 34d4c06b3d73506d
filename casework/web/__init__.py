"""Flask application factory. The web layer is thin: it parses input, calls the core, renders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from casework import PROJECT_ROOT
from casework.config import LOCALES, Settings, load_settings
from casework.db import make_engine, make_session_factory
from casework.models import Role
from casework.models.base import MAX_ID
from casework.workflow.engine import WorkflowRegistry

TRANSLATIONS = PROJECT_ROOT / "casework" / "web" / "translations"


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; raises ConfigError or WorkflowFileError instead of starting half-valid."""
    settings = settings or load_settings(overrides)
    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    if not settings.secret_key and settings.env != "development":
        from casework.config import ConfigError

        raise ConfigError("secret_key: set CASEWORK_SECRET_KEY (sessions and CSRF tokens are signed with it)")
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "casework" / "web" / "static"),
        instance_path=str(settings.instance_dir),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or _development_key(),
        TESTING=settings.env == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="casework_session",
        REMEMBER_COOKIE_SECURE=settings.is_production,
        # Long enough for a case manager writing a long note; the session timeout still applies.
        WTF_CSRF_TIME_LIMIT=settings.session_max_hours * 3600,
        MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    settings.instance_dir.mkdir(parents=True, exist_ok=True)

    engine = make_engine(settings.sqlalchemy_url)
    app.extensions["casework"] = {
        "settings": settings,
        "engine": engine,
        "session_factory": make_session_factory(engine),
        "registry": registry,
    }

    from casework.web import assets, errors, filters, health
    from casework.web.context import close_db
    from casework.web.extensions import babel, csrf, login_manager
    from casework.web.session_security import init_security

    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    init_security(app)
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    app.teardown_appcontext(close_db)
    filters.register(app)
    errors.register(app)

    from casework.web.administration import (
        account,
        admin_log,
        caseload_import,
        failed_mail,
        office,
        organisations,
        passwords,
        territories,
        users,
    )
    from casework.web.pacts import casefile, page, today
    from casework.web.people import beneficiaries
    from casework.web.reminders import calendar_feed, notifications
    from casework.web.reporting import exports, indicators
    from casework.web.security import auth
    from casework.web.supervision import approvals, caseload, covers, programmes

    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (health.blueprint, assets.blueprint, auth.blueprint, today.blueprint,
                      beneficiaries.blueprint, page.blueprint, casefile.blueprint,
                      notifications.blueprint, calendar_feed.blueprint, failed_mail.blueprint,
                      caseload.blueprint, approvals.blueprint, indicators.blueprint,
                      exports.blueprint, programmes.blueprint, caseload_import.blueprint,
                      account.blueprint, covers.blueprint, office.blueprint, users.blueprint,
                      admin_log.blueprint, passwords.blueprint, territories.blueprint,
                      organisations.blueprint):
        app.register_blueprint(blueprint)
    from casework.web.pacts import goals
    app.register_blueprint(goals.blueprint)
    app.context_processor(_template_globals)
    return app


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a URL: a number larger than any id is no page (404), not a driver overflow."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _template_globals() -> dict[str, Any]:
    from flask_babel import get_locale

    from casework.web.context import header_user

    return {"current_locale": lambda: str(get_locale()), "main_menu": _main_menu, "header_user": header_user}


def _main_menu() -> list[tuple[str, str]]:
    """Menu entries (endpoint, label) for the signed-in user's role whose endpoint exists."""
    from flask import current_app

    from casework.web.context import header_user

    signed_in = header_user()
    role = signed_in.role if signed_in is not None else None
    return [
        (endpoint, str(label))
        for endpoint, label, roles in MAIN_MENU
        if role in roles and endpoint in current_app.view_functions
    ]


_CASEWORK = (Role.CASE_MANAGER, Role.SUPERVISOR)
MAIN_MENU: list[tuple[str, Any, tuple[Role, ...]]] = [
    ("home.today", _l("Today"), _CASEWORK),
    ("beneficiaries.index", _l("Beneficiaries"), _CASEWORK),
    ("beneficiaries.new", _l("New beneficiary"), _CASEWORK),
    ("calendar.index", _l("Calendar feed"), _CASEWORK),
    ("caseload.index", _l("Caseloads"), (Role.SUPERVISOR,)),
    ("approvals.index", _l("Approvals"), (Role.SUPERVISOR,)),
    ("indicators.index", _l("Indicators"), (Role.SUPERVISOR,)),
    ("exports.index", _l("Exports"), (Role.SUPERVISOR,)),
    ("programmes.index", _l("Programmes"), (Role.SUPERVISOR,)),
    ("caseload_import.index", _l("Import cases"), (Role.SUPERVISOR,)),
    ("covers.index", _l("Covers"), (Role.SUPERVISOR,)),
    ("users.index", _l("Users"), (Role.SUPERVISOR, Role.ADMIN)),
    ("admin_log.index", _l("Administrative log"), (Role.ADMIN,)),
    ("admin.failed_mail", _l("Failed e-mail"), (Role.ADMIN,)),
    ("territories.index", _l("Territories"), (Role.ADMIN,)),
    ("organisations.index", _l("Organisations"), (Role.ADMIN, Role.SUPERVISOR)),
    ("office.edit", _l("Office identity"), (Role.ADMIN,)),
]


def _select_locale() -> str:
    from flask_login import current_user

    from casework.web.context import rendering_error_page

    # A signed-in person reads their account's language (chosen on any device); an error page
    # touches no database, so it keeps the one of the browser's session.
    if not rendering_error_page() and current_user.is_authenticated:
        chosen = current_user.user.locale
    else:
        chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _development_key() -> str:
    import secrets

    # Development without a configured key: a random one, so sessions end on restart.
    return secrets.token_urlsafe(48)
