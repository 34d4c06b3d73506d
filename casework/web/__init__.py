"""Flask application factory. The web layer is thin: it parses input, calls the core, renders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter

from casework import PROJECT_ROOT
from casework.config import LOCALES, Settings, load_settings
from casework.db import Timeouts, make_engine, make_read_engine, make_session_factory
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
        SECRET_KEY=settings.secret_key or _development_key(settings),
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
    if settings.env != "testing":  # tests read records through pytest's capture instead
        from casework.logs import configure_logging

        configure_logging(settings.logs_as_json)

    timeouts = Timeouts.from_settings(settings)
    engine = make_engine(settings.sqlalchemy_url, timeouts)
    # The indicators' and exports' reads, on a replica when one is configured (context.read_db).
    read_engine = make_read_engine(settings.read_database_url, timeouts) if settings.read_database_url else None
    app.extensions["casework"] = {
        "settings": settings,
        "engine": engine,
        "session_factory": make_session_factory(engine),
        "registry": registry,
        "read_engine": read_engine,
        "read_session_factory": make_session_factory(read_engine) if read_engine is not None else None,
    }

    from casework.web import assets, errors, filters, health, production
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
    from casework.web.form_limits import refuse_unstorable_characters
    refuse_unstorable_characters(app)  # a NUL in a filter or a form: a 400 page, not PostgreSQL's error

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
    from casework.web.people import beneficiaries, erasure, restriction, search, subject_access
    from casework.web.reminders import calendar_feed, notifications
    from casework.web.reporting import exports, indicators
    from casework.web.reporting import service_mapping as service_mapping_pages
    from casework.web.security import access_history, auth
    from casework.web.supervision import approvals, caseload, covers, programmes

    app.url_map.converters["int"] = RowIdConverter
    for blueprint in (health.blueprint, assets.blueprint, auth.blueprint, today.blueprint,
                      beneficiaries.blueprint, page.blueprint, casefile.blueprint,
                      notifications.blueprint, calendar_feed.blueprint, failed_mail.blueprint,
                      caseload.blueprint, approvals.blueprint, indicators.blueprint,
                      exports.blueprint, programmes.blueprint, caseload_import.blueprint,
                      account.blueprint, covers.blueprint, office.blueprint, users.blueprint,
                      admin_log.blueprint, passwords.blueprint, territories.blueprint,
                      organisations.blueprint, search.blueprint, access_history.blueprint,
                      subject_access.blueprint, erasure.blueprint, restriction.blueprint):
        app.register_blueprint(blueprint)
    from casework.web.pacts import pdf as pact_pdf  # the pact as a PDF file (WeasyPrint)
    app.register_blueprint(pact_pdf.blueprint)
    # Browsers ask for /favicon.ico whatever the page links: answer with ours, not a 404.
    app.add_url_rule("/favicon.ico", "favicon", lambda: redirect(url_for("static", filename="favicon.svg"), 301))
    from casework.web.pacts import goals
    app.register_blueprint(goals.blueprint)
    from casework.web.services import manage as services_manage
    app.register_blueprint(services_manage.blueprint)
    app.register_blueprint(service_mapping_pages.blueprint)
    from casework.web.services import board as public_board
    app.register_blueprint(public_board.blueprint)
    from casework.web.services import referrals as service_referrals
    app.register_blueprint(service_referrals.blueprint)
    from casework.web.services import directory as services_directory
    app.register_blueprint(services_directory.blueprint)
    from casework.web.security import second_factor as second_factor_pages
    app.register_blueprint(second_factor_pages.blueprint)
    app.context_processor(_template_globals)
    assets.init_assets(app)
    production.install(app, settings)
    return app


class RowIdConverter(IntegerConverter):
    """`<int:...>` in a URL: a number larger than any id is no page (404), not a driver overflow."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _template_globals() -> dict[str, Any]:
    from flask_babel import get_locale

    from casework.web.page_header import has_search_box, page_header

    return {"current_locale": lambda: str(get_locale()), "main_menu": _main_menu, "page_header": page_header,
            "header_search": has_search_box}


def _main_menu() -> list[MenuEntry]:
    """The signed-in user's menu: the entries of their role whose endpoint exists, the
    administration ones grouped under one dropdown when there are enough others to crowd the bar."""
    from flask import current_app

    from casework.web.context import header_user

    signed_in = header_user()
    role = signed_in.role if signed_in is not None else None
    allowed = [
        (endpoint, str(label), grouped)
        for endpoint, label, roles, grouped in MAIN_MENU
        if role in roles and endpoint in current_app.view_functions
    ]
    group = [MenuEntry(endpoint, label) for endpoint, label, grouped in allowed if grouped]
    if len(allowed) <= MENU_ROOM or not group:
        return [MenuEntry(endpoint, label) for endpoint, label, _ in allowed]
    entries = [MenuEntry(endpoint, label) for endpoint, label, grouped in allowed if not grouped]
    return [*entries, MenuEntry("", str(_l("Administration")), tuple(group))]


@dataclass(frozen=True)
class MenuEntry:
    endpoint: str
    label: str
    children: tuple[MenuEntry, ...] = ()

    def holds(self, endpoint: str | None) -> bool:
        return endpoint == self.endpoint or any(child.endpoint == endpoint for child in self.children)


# As many entries as fit on one line of a 1366-px laptop, in Italian, beside the search box.
MENU_ROOM = 8
_CASEWORK = (Role.CASE_MANAGER, Role.SUPERVISOR)
# (endpoint, label, roles, grouped under "Administration" when the menu is crowded)
MAIN_MENU: list[tuple[str, Any, tuple[Role, ...], bool]] = [
    ("home.today", _l("Today"), _CASEWORK, False),
    ("beneficiaries.index", _l("Beneficiaries"), _CASEWORK, False),
    ("beneficiaries.new", _l("New beneficiary"), _CASEWORK, False),
    ("calendar.index", _l("Calendar feed"), _CASEWORK, False),
    ("services.index", _l("Services"), (*_CASEWORK, Role.ADMIN), False),
    ("caseload.index", _l("Caseloads"), (Role.SUPERVISOR,), False),
    ("approvals.index", _l("Approvals"), (Role.SUPERVISOR,), False),
    ("indicators.index", _l("Indicators"), (Role.SUPERVISOR,), False),
    ("exports.index", _l("Exports"), (Role.SUPERVISOR,), False),
    ("service_mapping.index", _l("Mapping of the services"), (Role.SUPERVISOR,), True),
    ("programmes.index", _l("Programmes"), (Role.SUPERVISOR,), True),
    ("caseload_import.index", _l("Import cases"), (Role.SUPERVISOR,), True),
    ("covers.index", _l("Covers"), (Role.SUPERVISOR,), True),
    ("users.index", _l("Users"), (Role.SUPERVISOR, Role.ADMIN), True),
    ("admin_log.index", _l("Administrative log"), (Role.ADMIN,), True),
    ("admin.failed_mail", _l("Failed e-mail"), (Role.ADMIN,), True),
    ("territories.index", _l("Territories"), (Role.ADMIN,), True),
    ("organisations.index", _l("Organisations"), (Role.ADMIN, Role.SUPERVISOR), True),
    ("services_manage.index", _l("Manage services"), (Role.ADMIN, Role.SUPERVISOR), True),
    ("office.edit", _l("Office identity"), (Role.ADMIN,), True),
]


def _select_locale() -> str:
    from flask_login import current_user

    from casework.web.context import rendering_error_page

    # The public board takes its language from the address: its visitors have no session.
    if request.blueprint == "public_board" and request.args.get("lang") in LOCALES:
        return request.args["lang"]
    # A signed-in person reads their account's language (chosen on any device); an error page
    # touches no database, so it keeps the one of the browser's session.
    if not rendering_error_page() and current_user.is_authenticated:
        chosen = current_user.user.locale
    else:
        chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _development_key(settings: Settings) -> str:
    from casework.web.production import instance_secret_key

    # Development without a configured key: one kept in the instance folder, the same for
    # every worker process (each inventing its own would sign users out on every other request).
    return instance_secret_key(settings.instance_dir)
