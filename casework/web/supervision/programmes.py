"""Programmes: the territorial manager (supervisor) lists, creates and edits them.

Bad input answers 422 with the errors next to the fields; a concurrent change answers 409
with what the user typed kept and what is stored now shown beside it; a programme outside
the supervisor's territory answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from casework.errors import InvalidInput
from casework.models import Programme, Role
from casework.supervision import programmes as core
from casework.web import context, saving
from casework.web.filters import local_date
from casework.web.roles import role_required
from casework.web.supervision.programme_forms import ProgrammeForm

blueprint = Blueprint("programmes", __name__)

ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "invalid_code": _l("Use only capital letters, digits and underscores, e.g. TILDE_2026."),
    "already_used": _l("Another programme already has this code."),
    "outside_territory": _l("Choose your territory or one below it."),
    "ends_before_starts": _l("The end date cannot be before the start date."),
    "unknown_workflow": _l("Choose one of the workflows in the list."),
    "workflow_in_use": _l("This programme already has pacts, which keep the workflow they started with: "
                          "the workflow can no longer change."),
    "restriction_in_use": _l("This programme already has pacts: lifting the restriction would show them to "
                             "every supervisor of the territory."),
    "at_least_one": _l("Write at least 1 day."),
    "too_many_days": _l("Write at most %(days)d days.", days=core.MAX_NO_CONTACT_DAYS),
    "retention_out_of_range": _l("Write a number of months from 1 to %(months)d, or leave it empty.",
                                 months=core.MAX_RETENTION_MONTHS),
    "invalid_indicator": _l("Write the code in lower case, with underscores between words, e.g. courses_started."),
    "duplicate_indicator": _l("This indicator already has a target above."),
    "negative": _l("The value cannot be negative."),
    "share_out_of_range": _l("A share is between 0 and 1 (e.g. 0.80) or a percentage up to %(percentage)s.",
                             percentage="100%"),
    "not_whole": _l("A number of people is a whole number."),
    "too_large": _l("This number is too large."),
    "not_a_number": _l("Write a number, e.g. 300 or 0.80."),
    "describe_unmeasured": _l("Describe this target: Casework does not measure it, so readers will only see "
                              "these words."),
}
FIELD_LABELS = {
    "code": _l("Code"), "name": _l("Name"), "funder": _l("Funder"), "description": _l("Description"),
    "territory": _l("Territory"), "starts_on": _l("Starts on"), "ends_on": _l("Ends on"),
    "workflow_name": _l("Workflow"), "restricted": _l("Restricted cases"),
    "no_contact_days": _l("Days without contact before an alert"), "target": _l("Target"),
    "retention_months": _l("Months to keep a person after their last pact closed"),
}


@dataclass(frozen=True)
class TargetShown:
    label: str
    value: str
    description: str
    measured: bool


def _locale() -> str:
    return str(get_locale())


def _shown_value(line: core.TargetLine) -> str:
    if line.kind == "share":
        return format_percent(line.value, "#,##0.##%")
    return format_decimal(line.value, "#,##0.####")


def _targets_shown(lines: list[core.TargetLine]) -> list[TargetShown]:
    return [TargetShown(line.label, _shown_value(line), line.description, line.measured) for line in lines]


@blueprint.get("/programmes")
@role_required(Role.SUPERVISOR)
def index():
    rows = core.programme_overview(context.db(), context.registry(), context.actor(), locale=_locale())
    return render_template(
        "supervision/programmes/index.html", rows=[(row, _targets_shown(row.targets)) for row in rows],
    )


def _offered(form: ProgrammeForm) -> ProgrammeForm:
    return form.offer(
        core.territory_choices(context.db(), context.actor()), core.workflow_choices(context.registry(), _locale()),
        _locale(),
    )


def _show_errors(form, error: InvalidInput) -> None:
    saving.show_errors(form, error, ERROR_MESSAGES, field_for=form.field_for)


@blueprint.route("/programmes/new", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def new():
    db = context.db()
    form = _offered(ProgrammeForm())
    if not form.validate_on_submit():
        return render_template("supervision/programmes/new.html", form=form), 422 if request.method == "POST" else 200

    def invalid(error: InvalidInput) -> str:
        _show_errors(form, error)
        return render_template("supervision/programmes/new.html", form=form)

    def done(programme: Programme) -> Response:
        flash(_("Programme %(name)s created.", name=programme.name), "success")
        return redirect(url_for("programmes.index"))

    return saving.save(lambda: core.create_programme(
        db, context.registry(), context.actor(), form.programme_input(), now=context.now(),
        ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


def _visible_or_404(programme_id: int) -> Programme:
    programme = core.get_programme(context.db(), context.actor(), programme_id)
    if programme is None:
        abort(404)
    return programme


def _reread(programme_id: int) -> Programme:
    """After a refused change: drop whatever it left in the session and read the programme again."""
    saving.roll_back()
    return _visible_or_404(programme_id)


def _edit_page(programme: Programme, form: ProgrammeForm, *, status: int = 200, conflict: bool = False):
    return render_template(
        "supervision/programmes/edit.html", programme=programme, form=form,
        stored=_stored_values(programme) if conflict else [],
    ), status


@blueprint.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def edit(programme_id: int):
    db = context.db()
    programme = _visible_or_404(programme_id)
    if request.method == "GET":
        return _edit_page(programme, _offered(ProgrammeForm(formdata=None, data=ProgrammeForm.values_of(programme))))
    form = _offered(ProgrammeForm())
    if not form.validate_on_submit():
        return _edit_page(programme, form, status=422)
    read = form.fingerprint.data or ""

    def invalid(error: InvalidInput) -> tuple[str, int]:
        _show_errors(form, error)
        return _edit_page(_reread(programme_id), form)

    def not_found(error: core.ProgrammeNotFound) -> Response:
        abort(404)

    def done(saved: Programme) -> Response:
        if core.programme_fingerprint(saved) != read:
            flash(_("Programme %(name)s saved.", name=saved.name), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("programmes.index"))

    return saving.save(lambda: core.update_programme(
        db, context.registry(), context.actor(), programme_id, form.programme_input(), now=context.now(),
        read_fingerprint=read, ip_address=context.client_ip(),
    ), done=done, conflict=lambda error: _conflict(programme_id, form), invalid=invalid,
        refused={core.ProgrammeNotFound: not_found})


def _conflict(programme_id: int, form: ProgrammeForm):
    """Someone saved first: keep what the user typed, show what is stored now, and let them
    send it again knowingly (the typed form now carries the current fingerprint)."""
    programme = _reread(programme_id)
    form.fingerprint.data = core.programme_fingerprint(programme)
    flash(_("Someone else changed this programme while you were working on it. Nothing was saved: "
            "check the programme as saved now and send your changes again."), "warning")
    return _edit_page(programme, form, status=409, conflict=True)


@blueprint.get("/programmes/<int:programme_id>/history")
@role_required(Role.SUPERVISOR)
def history(programme_id: int):
    found = core.programme_history(context.db(), context.actor(), programme_id)
    if found is None:
        abort(404)
    rows = [
        {"at": change.at, "actor": change.actor.full_name if change.actor else "",
         "field": FIELD_LABELS.get(change.field, change.field),
         "old": _shown(change.field, change.old_value), "new": _shown(change.field, change.new_value)}
        for change in found.changes
    ]
    return render_template("supervision/programmes/history.html", programme=found.programme, rows=rows)


def _shown(field: str, value: str) -> str:
    """A stored history value as the reader expects it: dates dd/mm/yyyy, choices in words."""
    if not value:
        return ""
    if field in ("starts_on", "ends_on"):
        return local_date(date.fromisoformat(value))
    if field == "restricted":
        return _("Yes") if value == "True" else _("No")
    if field == "workflow_name":
        return core.workflow_label(context.registry(), value, _locale())
    return value


def _stored_values(programme: Programme) -> list[tuple[str, str]]:
    """The programme as saved now, shown beside the user's typed input after a conflict."""
    values = [
        ("code", programme.code), ("name", programme.name), ("funder", programme.funder),
        ("description", programme.description), ("territory", programme.territory.name),
        ("starts_on", local_date(programme.starts_on)), ("ends_on", local_date(programme.ends_on)),
        ("workflow_name", core.workflow_label(context.registry(), programme.workflow_name, _locale())),
        ("restricted", _("Yes") if programme.restricted else _("No")),
        ("no_contact_days", str(programme.no_contact_days)),
        ("retention_months", str(programme.retention_months) if programme.retention_months else "—"),
    ]
    shown = [(str(FIELD_LABELS[name]), value) for name, value in values]
    for target in _targets_shown(core.target_lines(programme, _locale())):
        text = f"{target.label}: {target.value}"
        shown.append((str(FIELD_LABELS["target"]), f"{text} ({target.description})" if target.description else text))
    return shown

