"""Downloads for supervisors and evaluators: CSV, XLSX and the pseudonymised dataset.

Each download parses its GET form, calls one core export (which writes the access-log
entry), commits, and answers with the file. The exports read through `context.read_db()` (a read
replica when configured) and write their access-log entry through `context.db()`. Bad parameters re-render the export page with
the error next to the field (400), never a 500.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from casework.errors import InvalidInput
from casework.models import Role
from casework.reporting import exports
from casework.reporting.dataset_fields import dataset_fields_table
from casework.reporting.export_files import ExportFile
from casework.reporting.pseudonymised import export_pseudonymised
from casework.web import context, saving
from casework.web.reporting.export_forms import PactExportForm, pact_export_form
from casework.web.reporting.forms import IndicatorFilterForm
from casework.web.roles import role_required

blueprint = Blueprint("exports", __name__)

ERROR_MESSAGES = {"unknown_status": _l("Choose one of the options.")}
OTHER_ERROR = _l("This value is not valid.")


def _locale() -> str:
    return str(get_locale())


def _default_period() -> tuple[date, date]:
    """The current year so far, as on the indicators page."""
    today = context.now().astimezone(context.settings().zone).date()
    return today.replace(month=1, day=1), today


def _choices() -> exports.ExportChoices:
    return exports.export_choices(context.read_db(), context.registry(), context.actor(), _locale())


def _pseudonym_secret() -> str:
    # The configured key, which production requires; a development server without one signs
    # with a random key per process, so its pseudonyms change at each restart (the page says so).
    return context.settings().secret_key or current_app.config["SECRET_KEY"]


def _scope_form(choices: exports.ExportChoices) -> IndicatorFilterForm:
    """The indicators page's filter, read from the same query string (programme, territory,
    start, end), so a link from that page means the same scope here."""
    first_day, last_day = _default_period()
    form = IndicatorFilterForm.from_query(request.args, first_day=first_day, last_day=last_day)
    return form.offer(choices.programmes, choices.territories)


def _page(*, pacts_form: PactExportForm | None = None, scope: IndicatorFilterForm | None = None, status: int = 200):
    choices = _choices()
    return render_template(
        "reporting/exports/index.html",
        pacts_form=pacts_form or pact_export_form(choices),
        scope_form=scope or _scope_form(choices),
        failed=status != 200,
        stable_pseudonyms=bool(context.settings().secret_key),
        indicators_page="indicators.index" in current_app.view_functions,
    ), status


def _show_errors(form: PactExportForm, error: InvalidInput) -> None:
    """Each core error next to its field; one about no field of the form above the form."""
    for name, code in error.errors.items():
        message = ERROR_MESSAGES.get(code, OTHER_ERROR)
        if name in form:
            form[name].errors = [*form[name].errors, message]
        else:
            form.form_errors.append(message)


def _download(exported: ExportFile) -> Response:
    saving.commit()  # the access-log entry: no file leaves without it
    content = context.streamed(exported.chunks) if exported.chunks is not None else exported.content
    response = Response(content, content_type=exported.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _scoped_download(export):
    """Run `export(scope)` for the scope of the query string; a bad scope re-renders the page (400)."""
    form = _scope_form(_choices())
    if not form.validate():
        return _page(scope=form, status=400)
    try:
        exported = export(form.scope())
    except InvalidInput as error:
        if "table" in error.errors:
            abort(404)
        form.show_errors(error.errors)
        return _page(scope=form, status=400)
    return _download(exported)


@blueprint.get("/exports")
@role_required(Role.SUPERVISOR)
def index():
    return _page()


@blueprint.get("/exports/pseudonymised/fields")
@role_required(Role.SUPERVISOR)
def dataset_fields():
    return render_template("reporting/exports/fields.html", fields=dataset_fields_table(_locale()))


@blueprint.get("/exports/pacts.<any(csv, xlsx):fmt>")
@role_required(Role.SUPERVISOR)
def pacts(fmt: str):
    form = pact_export_form(_choices(), formdata=request.args)
    if not form.validate():
        return _page(pacts_form=form, status=400)
    filters = exports.PactFilters(programme_id=form.programme.data, stage=form.stage.data,
                                  case_manager_id=form.case_manager.data, status=form.status.data)
    try:
        exported = exports.export_pacts(
            context.read_db(), context.registry(), context.actor(), filters, fmt=fmt, now=context.now(),
            locale=_locale(), zone=context.settings().zone, ip_address=context.client_ip(), log_session=context.db(),
        )
    except InvalidInput as error:
        _show_errors(form, error)
        return _page(pacts_form=form, status=400)
    return _download(exported)


@blueprint.get("/exports/pseudonymised.<any(csv, xlsx):fmt>")
@role_required(Role.SUPERVISOR)
def pseudonymised(fmt: str):
    return _scoped_download(lambda scope: export_pseudonymised(
        context.read_db(), context.registry(), context.actor(), scope, fmt=fmt, now=context.now(),
        secret=_pseudonym_secret(), locale=_locale(), zone=context.settings().zone, ip_address=context.client_ip(),
        log_session=context.db(),
    ))


def _indicators(fmt: str, table_key: str | None):
    return _scoped_download(lambda scope: exports.export_indicators(
        context.read_db(), context.registry(), context.actor(), scope, fmt=fmt, table_key=table_key,
        now=context.now(), locale=_locale(), zone=context.settings().zone, ip_address=context.client_ip(),
        log_session=context.db(),
    ))


@blueprint.get("/exports/indicators.xlsx")
@role_required(Role.SUPERVISOR)
def indicators_xlsx():
    return _indicators("xlsx", None)


@blueprint.get("/exports/indicators/<key>.csv")
@role_required(Role.SUPERVISOR)
def indicator_csv(key: str):
    return _indicators("csv", key)
