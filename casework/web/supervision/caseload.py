"""Caseload review for supervisors: managers' open pacts, flags, drill-down, reassignment.

The overview and the drill-down read the filters from the URL (GET); the reassignment posts
to a URL carrying the same arguments, so that an error shows the same list again and a
success returns to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.figure_cache import FigureCache
from casework.models import Role
from casework.supervision.caseload import (
    DEFAULT_PAGE_SIZE,
    CaseloadChoices,
    CaseloadCounts,
    CaseloadOverview,
    CaseloadPact,
    ManagerCaseload,
    caseload_choices,
    caseload_overview,
    caseload_pacts,
)
from casework.supervision.reassignment import reassign_pacts
from casework.web import context, saving
from casework.web.kept_parts import KeptPart, address_key, end_of_today, kept_part
from casework.web.roles import role_required
from casework.web.supervision.caseload_forms import (
    PRIORITY_LABELS,
    CaseloadFilterForm,
    DrillDownForm,
    ReassignForm,
    drill_down_form,
    filter_form,
    reassign_form,
    selection_value,
)

blueprint = Blueprint("caseload", __name__)

FIELD_ERRORS = {
    ("pacts", "required"): _l("Select at least one pact."),
    ("pacts", "not_found"): _l("One of the selected pacts can no longer be reassigned by you: reload the page."),
    ("to_manager", "required"): _l("Choose the case manager who takes the pacts over."),
    ("to_manager", "not_eligible"): _l("Choose an active case manager of your territory."),
    ("to_manager", "same_manager"): _l("One of the selected pacts is already managed by this case manager."),
    ("reason", "required"): _l("Write why the pacts are reassigned."),
    ("reason", "too_long"): _l("The reason is too long: at most 2,000 characters."),
}


# --- What the templates loop over ------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """A number of the overview; linked to the pacts behind it when there are any."""

    value: str
    url: str = ""
    description: str = ""  # read by screen readers after the number: whose and which


@dataclass(frozen=True)
class OverviewRow:
    name: str
    note: str  # e.g. "no longer active": why someone outside the team is listed
    stages: list[Figure]
    open_pacts: Figure
    overdue: Figure
    due_this_week: Figure
    flagged: Figure
    longest_without_contact: str
    weight: str


@dataclass(frozen=True)
class PactRow:
    pact_url: str
    selection: str
    checkbox_id: str
    selected: bool
    item: CaseloadPact
    priority: str
    days_since_contact: str


@dataclass(frozen=True)
class PageLink:
    number: int
    url: str
    current: bool = False


# --- Helpers --------------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale())


def _choices() -> CaseloadChoices:
    return caseload_choices(context.db(), context.registry(), context.actor(), locale=_locale())


def _days(days: int | None) -> str:
    return "" if days is None else ngettext("%(num)d day", "%(num)d days", days)


def _figure(count: int, description: str, args: dict[str, Any], **narrower: Any) -> Figure:
    if not count:
        return Figure(str(count))
    return Figure(str(count), url_for("caseload.pacts", **{**args, **narrower}), description)


def _row(name: str, note: str, counts: CaseloadCounts, overview: CaseloadOverview, args: dict[str, Any]) -> OverviewRow:
    def about(what: str) -> str:
        return f"{name}: {what}"

    return OverviewRow(
        name=name, note=note,
        stages=[_figure(count, about(column.label), args, stage=column.state)
                for column, count in zip(overview.stages, counts.by_stage, strict=True)],
        open_pacts=_figure(counts.open_pacts, about(_("open pacts")), args),
        overdue=_figure(counts.overdue, about(_("overdue")), args, deadline="overdue"),
        due_this_week=_figure(counts.due_this_week, about(_("due this week")), args, deadline="this_week"),
        flagged=_figure(counts.flagged, about(_("without a recent contact")), args, flagged="y"),
        longest_without_contact=_days(counts.longest_without_contact),
        weight=format_decimal(counts.weight, format="#,##0.0#"),
    )


def _note(manager: ManagerCaseload) -> str:
    if manager.in_team:
        return ""
    return _("no longer active") if not manager.active else _("outside your territory")


def _overview_rows(overview: CaseloadOverview, form: CaseloadFilterForm) -> tuple[list[OverviewRow], OverviewRow]:
    args = form.query_args()
    rows = [_row(m.name, _note(m), m.counts, overview, {**args, "manager": m.manager_id}) for m in overview.managers]
    return rows, _row(_("All case managers"), "", overview.totals, overview, args)


# --- Pages ----------------------------------------------------------------------------------


@blueprint.get("/caseload")
@role_required(Role.SUPERVISOR)
def index():
    form = filter_form(request.args, _choices())
    overview = caseload_overview(
        context.db(), context.registry(), context.actor(), form.filters(), now=context.now(),
        zone=context.settings().zone, locale=_locale(), weights=context.settings().caseload,
    )
    rows, totals = _overview_rows(overview, form)
    status = 422 if form.errors else 200
    return render_template("supervision/caseload/index.html", form=form, overview=overview, rows=rows, totals=totals), status


def _pacts_page(
    choices: CaseloadChoices, reassign: ReassignForm, *, status: int = 200, message: str = "",
    selected: set[int] | frozenset[int] = frozenset(),
) -> tuple[str, int]:
    """The drill-down list for the URL's filters, with the reassignment form as submitted: drawn
    for this request only, since it carries what was chosen."""
    part, _holds_until = _draw_pacts(choices, reassign, status=status, message=message, selected=selected)
    return render_template("supervision/caseload/pacts.html", part=part), int(part.facts["status"])


def _draw_pacts(
    choices: CaseloadChoices, reassign: ReassignForm, *, status: int = 200, message: str = "",
    selected: set[int] | frozenset[int] = frozenset(),
) -> tuple[KeptPart, datetime]:
    form: DrillDownForm = drill_down_form(request.args, choices)
    page = form.page_number
    found = caseload_pacts(
        context.db(), context.registry(), context.actor(), form.filters(), case_manager_id=form.manager_id,
        flagged_only=bool(form.flagged.data), deadline=form.deadline_filter, now=context.now(),
        zone=context.settings().zone, locale=_locale(), limit=DEFAULT_PAGE_SIZE,
        offset=(page - 1) * DEFAULT_PAGE_SIZE,
    )
    rows = [
        PactRow(
            pact_url=url_for("pacts.show", pact_id=item.pact_id),
            selection=selection_value(item.pact_id, item.version), checkbox_id=f"select-pact-{item.pact_id}",
            selected=item.pact_id in selected, item=item,
            priority=str(PRIORITY_LABELS[item.priority]) if item.priority else "",
            days_since_contact=_days(item.days_since_contact),
        )
        for item in found.rows
    ]
    args = form.query_args()
    pages = max(1, -(-found.total // DEFAULT_PAGE_SIZE))
    # The first, the last and those around the current page: an office's list has hundreds.
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    links = [PageLink(number, url_for("caseload.pacts", page=number, **args), number == page)
             for number in shown] if pages > 1 else []
    status = 422 if form.errors and status == 200 else status
    html = render_template(
        "supervision/caseload/_pacts_main.html", form=form, rows=rows, total=found.total, page_links=links, reassign=reassign,
        reassign_url=url_for("caseload.reassign", **args), overview_url=url_for("caseload.index", **{
            key: value for key, value in args.items() if key in ("programme", "comune", "stage", "priority")}),
        message=message,
    )
    return KeptPart(Markup(html), facts={"status": status}), end_of_today()


@blueprint.get("/caseload/pacts")
@role_required(Role.SUPERVISOR)
def pacts():
    def draw() -> tuple[KeptPart, datetime]:
        choices = _choices()
        return _draw_pacts(choices, reassign_form(choices.managers, formdata=None))

    part = kept_part(_DRILL_DOWNS, address_key(), draw)
    return render_template("supervision/caseload/pacts.html", part=part), int(part.facts["status"])


_DRILL_DOWNS: FigureCache[KeptPart] = FigureCache(size=128)


@blueprint.post("/caseload/reassign")
@role_required(Role.SUPERVISOR)
def reassign():
    db = context.db()
    choices = _choices()
    form = reassign_form(choices.managers)
    chosen = form.selection or {}
    if not form.validate_on_submit():
        return _pacts_page(choices, form, status=422, selected=set(chosen))

    def invalid(error: InvalidInput) -> tuple[str, int]:
        for field_name, code in error.errors.items():
            form[field_name].errors = [*form[field_name].errors,
                                       str(FIELD_ERRORS.get((field_name, code), _l("This value is not accepted.")))]
        return _pacts_page(choices, form, status=422, selected=set(chosen))

    def conflict(error: Conflict) -> tuple[str, int]:
        if error.record_id is None:  # known only by its table, from a write that escaped the core's guard
            message = _("A pact was changed by someone else while you were choosing: nothing was reassigned. "
                        "Check the list below and submit again.")
        else:
            message = _("Pact no. %(number)s was changed by someone else while you were choosing: nothing was "
                        "reassigned. Check the list below and submit again.", number=error.record_id)
        return _pacts_page(choices, form, status=409, message=message, selected=set(chosen))

    def done(moved: list) -> Response:
        target = next(option.label for option in choices.managers if option.value == str(form.to_manager_id))
        flash(ngettext("%(num)d pact reassigned to %(name)s.", "%(num)d pacts reassigned to %(name)s.", len(moved),
                       name=target), "success")
        return redirect(url_for("caseload.pacts", **drill_down_form(request.args, choices).query_args()))

    return saving.save(lambda: reassign_pacts(
        db, context.registry(), context.actor(), form.selection or {}, form.to_manager_id, form.reason.data,
        now=context.now(), zone=context.settings().zone,
    ), done=done, conflict=conflict, invalid=invalid)
