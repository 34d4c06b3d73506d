"""Impact indicators per programme, territory and period, and the printable funder report.

Their queries read through `context.read_db()` (a read replica when configured); the funder
report's access-log entry is written through `context.db()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale, ngettext, pgettext
from flask_babel import gettext as _
from markupsafe import Markup

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache
from casework.models import Programme, Role
from casework.reporting.charts import ChartText, chart_svg
from casework.reporting.indicators import (
    IndicatorReport,
    KeyFigures,
    compute,
    selectable_territories,
)
from casework.reporting.report_tables import SMALL_COUNT, Cell, Table
from casework.security.access import visible_programmes
from casework.security.audit import log_access
from casework.web import context, saving
from casework.web.filters import local_date
from casework.web.kept_parts import KeptPart, address_key, end_of_today, kept_part
from casework.web.reporting.forms import IndicatorFilterForm
from casework.web.roles import role_required

blueprint = Blueprint("indicators", __name__)

XLSX_EXPORT = "exports.indicators_xlsx"
CSV_EXPORT = "exports.indicator_csv"
NOT_AVAILABLE = "—"


@dataclass(frozen=True)
class ShownCell:
    text: str
    css: str = ""


@dataclass(frozen=True)
class ShownRow:
    header: str
    cells: list[ShownCell]


@dataclass(frozen=True)
class ShownTable:
    """A table as the page shows it: its chart, its header cells and its figures as text."""

    key: str
    title: str
    note: str
    chart: Markup
    columns: list[str]  # after the row header column
    header: str  # the row header column's label
    rows: list[ShownRow]
    csv_url: str = ""
    numeric: list[bool] = field(default_factory=list)


@dataclass(frozen=True)
class ShownFigure:
    """One key figure: what it counts, the figure, a line saying what it is measured against,
    and the table that details it."""

    key: str
    label: str
    value: str
    detail: str
    table: str  # the key of the table section it links to
    # (value, maximum) for a meter beside the words, or None
    meter: tuple[int, int] | None = None


def _locale() -> str:
    return str(get_locale())


def _format(value: Cell, kind: str) -> str:
    if value is None:
        return NOT_AVAILABLE
    if kind == "count":
        return value if isinstance(value, str) else format_decimal(value)  # "<5": a small count withheld
    if kind == "share":
        return format_percent(value, "#,##0.#%")
    if kind == "days":
        return format_decimal(value, "#,##0.0")
    if kind == "date" and isinstance(value, date):
        return local_date(value)
    return str(value)


def _figures(table: Table, csv_url: str) -> ShownTable:
    """Every table but the targets: the label as row header, then each figure; codes are for exports."""
    label_at = [column.key for column in table.columns].index("label")
    shown = [i for i, column in enumerate(table.columns) if column.kind != "text"]
    return ShownTable(
        key=table.key, title=table.title, note=table.note, chart=chart_svg(table, locale=_locale(), text=_chart_text()),
        header=table.columns[label_at].label, columns=[table.columns[i].label for i in shown],
        rows=[ShownRow(str(row[label_at]), [ShownCell(_format(row[i], table.columns[i].kind)) for i in shown])
              for row in table.rows],
        csv_url=csv_url, numeric=[True] * len(shown),
    )


def _targets(table: Table, csv_url: str) -> ShownTable:
    """Targets against results: a count or a share each, and a met / not met marker in words."""
    at = {column.key: index for index, column in enumerate(table.columns)}
    rows = []
    for row in table.rows:
        measure = row[at["measure"]]
        if measure == "share":
            target, actual = _format(row[at["target_share"]], "share"), _format(row[at["actual_share"]], "share")
        else:
            target, actual = _format(row[at["target_count"]], "count"), _format(row[at["actual_count"]], "count")
        if measure == "not_measured":
            actual, met = _("not measured by Casework"), ShownCell(NOT_AVAILABLE)
        else:
            met = {
                "yes": ShownCell("✓ " + _("Met"), "badge bg-success"),
                "no": ShownCell("✗ " + _("Not met"), "badge bg-danger"),
            }.get(row[at["met"]], ShownCell(_("Cannot be judged yet")))
        rows.append(ShownRow(str(row[at["label"]]), [ShownCell(target), ShownCell(actual), met]))
    return ShownTable(
        key=table.key, title=table.title, note=table.note, chart=Markup(""), header=_("Target"),
        columns=[_("Expected"), _("Result"), _("Reached?")], rows=rows, csv_url=csv_url, numeric=[True, True, False],
    )


def _key_figures(figures: KeyFigures, *, programme_chosen: bool, last_day: date) -> list[ShownFigure]:
    """The row the page opens with, every figure in words (the meter only repeats the first)."""
    people = figures.people_reached

    def count(name: str) -> str:
        return SMALL_COUNT if name in figures.withheld else format_decimal(getattr(figures, name))

    def measure(name: str, kind: str) -> str:
        return NOT_AVAILABLE if name in figures.withheld else _format(getattr(figures, name), kind)

    if figures.people_target is not None:
        reached = ShownFigure(
            "people", _("People reached"), count("people_reached"),
            _("target %(target)s (%(share)s reached)", target=format_decimal(figures.people_target),
              share=NOT_AVAILABLE if "people_reached" in figures.withheld else
              _format(people / figures.people_target if figures.people_target else None, "share")),
            "targets", meter=None if "people_reached" in figures.withheld else
            (min(people, figures.people_target), figures.people_target),
        )
    else:
        reached = ShownFigure(
            "people", _("People reached"), count("people_reached"),
            _("no target set") if programme_chosen else _("choose a programme to compare with its target"),
            "reached",
        )
    if figures.median_days_to_signature is None:
        signature = _("no pact signed yet")
    elif "pacts_signed" in figures.withheld:
        signature = _("from referral, fewer than 5 pacts signed")
    else:
        signature = ngettext("from referral, %(num)s pact signed", "from referral, %(num)s pacts signed",
                             figures.pacts_signed)
    if {"women", "people_reached"} & figures.withheld:
        women = _("%(num)s women of %(total)s people reached", num=count("women"), total=count("people_reached"))
    else:
        women = ngettext("%(num)s woman of %(total)s people reached", "%(num)s women of %(total)s people reached",
                         figures.women, total=format_decimal(people))
    return [
        reached,
        ShownFigure("women", _("Share of women"), measure("share_women", "share"), women, "gender"),
        ShownFigure("open", _("Pacts open"), count("pacts_open"),
                    pgettext("key figure", "on %(date)s", date=local_date(last_day)), "reached"),
        ShownFigure("deadlines", _("Deadlines met on time"), measure("share_deadlines_met", "share"),
                    _("%(met)s of %(due)s deadlines fallen due", met=count("deadlines_met"),
                      due=count("deadlines_decided"))
                    if figures.deadlines_decided else _("no deadline fell due in the period"), "deadlines"),
        ShownFigure("signature", _("Median days to signature"), measure("median_days_to_signature", "days"),
                    signature, "durations"),
    ]


def _chart_text() -> ChartText:
    return ChartText(no_data=_("No data for this period."))


def _exports_available() -> bool:
    # The exports are another blueprint's routes: links appear once they exist.
    return XLSX_EXPORT in current_app.view_functions


def _shown(report: IndicatorReport, query: dict[str, str], *, with_exports: bool) -> list[ShownTable]:
    present: dict[str, Callable[[Table, str], ShownTable]] = {"targets": _targets}
    return [
        present.get(table.key, _figures)(table, url_for(CSV_EXPORT, key=table.key, **query) if with_exports else "")
        for table in report.tables
    ]


def _filter_form() -> IndicatorFilterForm:
    today = context.now().astimezone(context.settings().zone).date()
    user, db = context.actor(), context.read_db()
    form = IndicatorFilterForm.from_query(request.args, first_day=today.replace(month=1, day=1), last_day=today)
    programmes = db.scalars(visible_programmes(user).order_by(Programme.name, Programme.id))
    return form.offer(programmes, selectable_territories(db, user))


def _compute(form: IndicatorFilterForm) -> IndicatorReport | None:
    """The indicators for a validated filter; None, with the core's errors next to the fields, if refused."""
    try:
        return compute(context.read_db(), context.registry(), context.actor(), form.scope(), now=context.now(),
                       locale=_locale(), zone=context.settings().zone)
    except InvalidInput as invalid:
        form.show_errors(invalid.errors)
        return None


def _services_summary(report: IndicatorReport, query: dict[str, str]):
    # Imported here: the mapping page imports this module's pieces.
    from casework.web.reporting.service_mapping import services_summary

    return services_summary(report.scope, query)


def _index_page(form: IndicatorFilterForm, report: IndicatorReport | None, status: int) -> tuple[str, int]:
    return render_template("reporting/indicators/index.html", part=_draw_index(form, report)), status


def _draw_index(form: IndicatorFilterForm, report: IndicatorReport | None) -> KeptPart:
    with_exports = report is not None and _exports_available()
    query = form.query_args() if report is not None else {}
    return KeptPart(Markup(render_template(
        "reporting/indicators/_index_main.html", form=form, report=report,
        tables=_shown(report, query, with_exports=with_exports) if report is not None else [],
        figures=_key_figures(report.key_figures, programme_chosen=report.programme is not None,
                             last_day=report.scope.end) if report is not None else [],
        xlsx_url=url_for(XLSX_EXPORT, **query) if with_exports else "",
        report_url=url_for("indicators.report", **query) if report is not None and report.programme else "",
        services=_services_summary(report, query) if report is not None else None,
    )))


@blueprint.get("/indicators")
@role_required(Role.SUPERVISOR)
def index():
    def draw() -> tuple[KeptPart, datetime]:
        form = _filter_form()
        found = _compute(form) if form.validate() else None
        part = _draw_index(form, found)
        return KeptPart(part.html, facts={"status": 200 if found is not None else 400}), end_of_today()

    # The indicators read from the replica when one is set: the part is kept under its data version.
    part = kept_part(_PAGES, address_key(), draw, session=context.read_db())
    return render_template("reporting/indicators/index.html", part=part), int(part.facts["status"])


_PAGES: FigureCache[KeptPart] = FigureCache(size=64)


@blueprint.get("/indicators/report")
@role_required(Role.SUPERVISOR)
def report():
    form = _filter_form()
    if not form.validate():
        return _index_page(form, None, 400)
    if form.programme.data is None:
        form.show_errors({"programme": "programme_required"})
        return _index_page(form, None, 400)
    found = _compute(form)
    if found is None or found.programme is None:
        return _index_page(form, None, 400)
    db, user, now = context.db(), context.actor(), context.now()
    territory = f"territory {found.territory.id}" if found.territory else "all territories"
    # A funder report leaves Casework on paper or as a PDF: recorded like an export.
    log_access(db, user, "export", "programme", found.programme.id, now=now, ip_address=context.client_ip(),
               detail=f"funder report {found.scope.start.isoformat()}..{found.scope.end.isoformat()}, {territory}")
    saving.commit()
    return render_template(
        "reporting/indicators/report.html", report=found, tables=_shown(found, {}, with_exports=False),
        figures=_key_figures(found.key_figures, programme_chosen=True, last_day=found.scope.end),
        produced_at=now, produced_by=user.full_name, back_url=url_for("indicators.index", **form.query_args()),
        services=_services_summary(found, form.query_args()),
    )
