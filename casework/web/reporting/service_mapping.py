"""Mappatura dei servizi: what the territory's services are used for, refused for, or missing,
for supervisors (administrators see no case data); its CSV and XLSX downloads; the key figures the indicators
page and the funder report repeat in their "Servizi del territorio" section."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, render_template, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from casework.errors import InvalidInput
from casework.models import Role
from casework.reporting.charts import chart_svg
from casework.reporting.export_files import ExportFile
from casework.reporting.period import IndicatorScope
from casework.reporting.report_tables import Table
from casework.reporting.service_mapping import (
    MappingFigures,
    ServiceMappingReport,
    compute_service_mapping,
    export_service_mapping,
)
from casework.web import context, saving
from casework.web.reporting.forms import IndicatorFilterForm
from casework.web.reporting.indicators import (
    ShownCell,
    ShownFigure,
    ShownRow,
    ShownTable,
    _chart_text,
    _filter_form,
    _format,
)
from casework.web.roles import role_required

blueprint = Blueprint("service_mapping", __name__)

# Columns the page leaves to the exports: codes for scripts, and the label's parts.
_CODE_COLUMNS = {"code", "istat_code", "service_id", "organisation", "reason", "need_area", "gap", "comune"}


@dataclass(frozen=True)
class ServicesSummary:
    """The "Servizi del territorio" section of the indicators page and the funder report."""

    figures: list[ShownFigure]
    url: str  # the mapping page for the same scope


def _locale() -> str:
    return str(get_locale())


def mapping_figures(figures: MappingFigures) -> list[ShownFigure]:
    """The key figures in words; each links to the table that details it."""
    return [
        ShownFigure("referrals", _("Service referrals"), format_decimal(figures.referrals),
                    _("added in the period"), "outcomes"),
        ShownFigure("acceptance", _("Acceptance rate"), _format(figures.acceptance_rate, "share"),
                    ngettext("%(num)s accepted of %(answered)s answered", "%(num)s accepted of %(answered)s answered",
                             figures.accepted, answered=format_decimal(figures.answered)) if figures.answered
                    else _("no service has answered yet"), "services"),
        ShownFigure("completion", _("Completion rate"), _format(figures.completion_rate, "share"),
                    ngettext("%(num)s completed of %(started)s started", "%(num)s completed of %(started)s started",
                             figures.completed, started=format_decimal(figures.started)) if figures.started
                    else _("no referral has started yet"), "services"),
        ShownFigure("median", _("Median days from request to start"), _format(figures.median_days_to_start, "days"),
                    _("calendar days") if figures.median_days_to_start is not None
                    else _("no referral has started after a request"), "services"),
        ShownFigure("gaps", _("Gaps"), format_decimal(figures.gaps),
                    ngettext("comune and need area with demand but no service or no places",
                             "comuni and need areas with demand but no service or no places", figures.gaps),
                    "gaps"),
    ]


def services_summary(scope: IndicatorScope, query: dict[str, str]) -> ServicesSummary:
    """The mapping's key figures for the indicators' scope (already validated by the indicators)."""
    # On the indicators page: read where the indicators read.
    report = compute_service_mapping(context.read_db(), context.registry(), context.actor(), scope, now=context.now(),
                                     locale=_locale(), zone=context.settings().zone)
    return ServicesSummary(mapping_figures(report.key_figures), url_for("service_mapping.index", **query))


def _shown(table: Table, csv_url: str) -> ShownTable:
    """The label as row header, then every column but the codes, as text."""
    keys = [column.key for column in table.columns]
    label_at = keys.index("label")
    shown = [i for i, key in enumerate(keys) if key not in _CODE_COLUMNS and i != label_at]
    return ShownTable(
        key=table.key, title=table.title, note=table.note,
        chart=chart_svg(table, locale=_locale(), text=_chart_text()),
        header=table.columns[label_at].label, columns=[table.columns[i].label for i in shown],
        rows=[ShownRow(str(row[label_at]), [ShownCell(_format(row[i], table.columns[i].kind)) for i in shown])
              for row in table.rows],
        csv_url=csv_url, numeric=[table.columns[i].kind != "text" for i in shown],
    )


def _compute(form: IndicatorFilterForm) -> ServiceMappingReport | None:
    try:
        return compute_service_mapping(context.db(), context.registry(), context.actor(), form.scope(),
                                       now=context.now(), locale=_locale(), zone=context.settings().zone)
    except InvalidInput as invalid:
        form.show_errors(invalid.errors)
        return None


@blueprint.get("/mappatura")
@role_required(Role.SUPERVISOR)
def index():
    form = _filter_form()
    report = _compute(form) if form.validate() else None
    query = form.query_args() if report is not None else {}
    tables = [_shown(table, url_for("service_mapping.table_csv", key=table.key, **query))
              for table in report.tables] if report is not None else []
    return render_template(
        "reporting/service_mapping.html", form=form, report=report, tables=tables,
        figures=mapping_figures(report.key_figures) if report is not None else [],
        xlsx_url=url_for("service_mapping.tables_xlsx", **query) if report is not None else "",
    ), 200 if report is not None else 400


def _download(export) -> Response:
    """Run `export(scope)` for the query string's scope; a bad scope re-renders the page (400)."""
    form = _filter_form()
    if not form.validate():
        return index()
    try:
        exported: ExportFile = export(form.scope())
    except InvalidInput as error:
        if "table" in error.errors:
            abort(404)
        return index()
    saving.commit()  # the access-log entry: no file leaves without it
    response = Response(exported.content, content_type=exported.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export(fmt: str, key: str | None):
    return lambda scope: export_service_mapping(
        context.db(), context.registry(), context.actor(), scope, fmt=fmt, table_key=key, now=context.now(),
        locale=_locale(), zone=context.settings().zone, ip_address=context.client_ip(),
    )


@blueprint.get("/mappatura/mappatura-servizi.xlsx")
@role_required(Role.SUPERVISOR)
def tables_xlsx():
    return _download(_export("xlsx", None))


@blueprint.get("/mappatura/<key>.csv")
@role_required(Role.SUPERVISOR)
def table_csv(key: str):
    return _download(_export("csv", key))
