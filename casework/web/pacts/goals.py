"""Editing a goal or an action of a pact on a page of its own, with what it said before.

GET shows the form filled with the item as it is and the item's history under it; POST
calls one core operation (casework.pacts.goals) with the pact version read: 422 with every
wrong field marked, 409 with the person's input kept and the item as saved now, success back
to the item on the pact page. Administrators get 403; a pact the user may not see, or an item
not of the pact, 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.models import Action, Goal, Pact, Performer, Role
from casework.pacts import goals as core
from casework.pacts.page import Choice, need_area_choices
from casework.security.audit import log_access
from casework.web import context, saving
from casework.web.filters import local_date
from casework.web.form_limits import too_long_message
from casework.web.pacts import forms
from casework.web.pacts.page import STALE_FORM_MESSAGE
from casework.web.roles import role_required

blueprint = Blueprint("goals", __name__)

FIELD_LABELS = {
    "description": _l("Description"),
    "need_area": _l("Need area"),
    "target_date": _l("Target date"),
    "performer": _l("Who does it"),
    "performer_detail": _l("Which service or person"),
    "due_on": _l("Due by"),
    "goal": _l("Goal it serves"),
}
CLOSED = _l("This pact is closed: its goals and actions change only after it is reopened.")
CONFLICT = _l("Someone else changed this pact while you were editing. Nothing was saved: your input is "
              "below, the item as saved now above it. Check and save again.")
ERRORS = {
    "required": forms.REQUIRED,
    "not_an_option": forms.ERROR_MESSAGES["not_an_option"],
    "not_in_pact": forms.ERROR_MESSAGES["not_in_pact"],
}


@dataclass(frozen=True)
class HistoryRow:
    at: datetime
    actor: str
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class StoredValue:
    label: str
    value: str


def _locale() -> str:
    return str(get_locale())


def _goal_choices(pact: Pact) -> list[Choice]:
    return [Choice(str(goal.id), goal.description) for goal in pact.goals]


def _need_areas(pact: Pact) -> tuple[Choice, ...]:
    return need_area_choices(context.registry().engine_for(pact).definition.questionnaire, _locale())


def _shown(pact: Pact, field: str, value: str) -> str:
    """A stored value as a person reads it: dates dd/mm/yyyy, codes by their words."""
    if not value:
        return "—"
    if field in ("target_date", "due_on"):
        try:
            return local_date(date.fromisoformat(value))
        except ValueError:
            return value
    if field == "need_area":
        return context.registry().engine_for(pact).definition.label_of("need_area", value, _locale())
    if field == "performer" and value in {performer.value for performer in Performer}:
        return str(forms.PERFORMERS[Performer(value)])
    return value


def _history(pact: Pact, kind: str, item_id: int) -> list[HistoryRow]:
    rows = []
    for record in core.item_history(context.db(), pact, kind, item_id):
        change = core.item_change(record.field)
        name = change.field if change else record.field
        rows.append(HistoryRow(
            at=record.at, actor=record.actor.full_name if record.actor else "", field=str(FIELD_LABELS.get(name, name)),
            before=_shown(pact, name, record.old_value), after=_shown(pact, name, record.new_value),
        ))
    return rows


def _stored_goal(pact: Pact, goal: Goal) -> list[StoredValue]:
    return [
        StoredValue(str(FIELD_LABELS["description"]), goal.description),
        StoredValue(str(FIELD_LABELS["need_area"]), _shown(pact, "need_area", goal.need_area)),
        StoredValue(str(FIELD_LABELS["target_date"]), local_date(goal.target_date) or "—"),
    ]


def _stored_action(pact: Pact, action: Action) -> list[StoredValue]:
    return [
        StoredValue(str(FIELD_LABELS["description"]), action.description),
        StoredValue(str(FIELD_LABELS["performer"]), _shown(pact, "performer", action.performer.value)),
        StoredValue(str(FIELD_LABELS["performer_detail"]), action.performer_detail or "—"),
        StoredValue(str(FIELD_LABELS["due_on"]), local_date(action.due_on) or "—"),
        StoredValue(str(FIELD_LABELS["goal"]), action.goal.description if action.goal else "—"),
    ]


def _item(items: list, item_id: int) -> Any:
    found = next((item for item in items if item.id == item_id), None)
    if found is None:
        abort(404)
    return found


def _show_errors(form: Any, error: InvalidInput) -> list[str]:
    """Each core error next to its field; those about no field (a closed pact) come back to be shown on top."""
    others = []
    for name, code in error.errors.items():
        field = getattr(form, name, None)
        if code == "too_long" and field is not None:
            limit = core.MAX_PERFORMER_DETAIL if name == "performer_detail" else core.MAX_DESCRIPTION
            message = too_long_message(limit, len((field.data or "").strip()))
        elif name == "pact" and code == "closed":
            message = str(CLOSED)
        else:
            message = str(ERRORS.get(code, forms.error_message(code)))
        if field is not None and hasattr(field, "errors") and name != "pact":
            field.errors = [*field.errors, message]
        else:
            others.append(message)
    return others


def _page(template: str, pact: Pact, kind: str, item: Goal | Action, form: Any, *, status: int = 200,
          messages: list[str] | None = None, stored: list[StoredValue] | None = None):
    saving.roll_back()  # whatever a refused save left in the session must not ride along with the log
    pact = context.visible_pact(pact.id)
    log_access(context.db(), context.actor(), "view", "pact", pact.id, now=context.now(),
               ip_address=context.client_ip(), detail=f"edit {kind} {item.id}")
    history = _history(pact, kind, item.id)
    saving.commit()
    return render_template(
        template, pact=pact, item=item, form=form, history=history, messages=messages or [], stored=stored or [],
        editable=pact.is_open, back_url=url_for("pacts.show", pact_id=pact.id, _anchor=f"{kind}-{item.id}"),
    ), status


def _saved(pact_id: int, kind: str, item_id: int, message: str):
    def done(changes: list) -> Response:
        flash(message if changes else _("Nothing was changed."), "success" if changes else "info")
        return redirect(url_for("pacts.show", pact_id=pact_id, _anchor=f"{kind}-{item_id}"))

    return done


@blueprint.route("/pacts/<int:pact_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER, Role.SUPERVISOR)
def edit_goal(pact_id: int, goal_id: int):
    pact = context.visible_pact(pact_id)
    goal = _item(pact.goals, goal_id)
    template = "pacts/goals/edit_goal.html"
    if request.method == "GET":
        form = forms.goal_form(_need_areas(pact), version=pact.version, description=goal.description,
                               need_area=goal.need_area, target_date=goal.target_date)
        return _page(template, pact, core.GOAL, goal, form)
    form = forms.goal_form(_need_areas(pact), request.form)
    if not form.validate():
        messages = [str(STALE_FORM_MESSAGE)] if form.version.errors else []
        return _page(template, pact, core.GOAL, goal, form, status=422, messages=messages)

    def conflict(error: Conflict):
        current = context.visible_pact(pact_id)
        form.keep_input_at(current.version)
        return _page(template, current, core.GOAL, goal, form, messages=[str(CONFLICT)],
                     stored=_stored_goal(current, _item(current.goals, goal_id)))

    def invalid(error: InvalidInput):
        return _page(template, pact, core.GOAL, goal, form, messages=_show_errors(form, error))

    details = core.GoalDetails(description=form.description.data or "", need_area=form.need_area.data or "",
                               target_date=form.target_date.data)
    return saving.save(
        lambda: core.edit_goal(context.db(), context.registry(), pact, goal_id, details, actor=context.actor(),
                               clock=context.clock(), expected_version=form.version.data),
        done=_saved(pact_id, core.GOAL, goal_id, _("Goal changed.")), conflict=conflict, invalid=invalid,
    )


@blueprint.route("/pacts/<int:pact_id>/actions/<int:action_id>/edit", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER, Role.SUPERVISOR)
def edit_action(pact_id: int, action_id: int):
    pact = context.visible_pact(pact_id)
    action = _item(pact.actions, action_id)
    template = "pacts/goals/edit_action.html"
    if request.method == "GET":
        form = forms.action_form(_goal_choices(pact), version=pact.version, description=action.description,
                                 performer=action.performer.value, performer_detail=action.performer_detail,
                                 due_on=action.due_on, goal=str(action.goal_id) if action.goal_id else "")
        return _page(template, pact, core.ACTION, action, form)
    form = forms.action_form(_goal_choices(pact), request.form)
    if not form.validate():
        messages = [str(STALE_FORM_MESSAGE)] if form.version.errors else []
        return _page(template, pact, core.ACTION, action, form, status=422, messages=messages)

    def conflict(error: Conflict):
        current = context.visible_pact(pact_id)
        form.keep_input_at(current.version)
        return _page(template, current, core.ACTION, action, form, messages=[str(CONFLICT)],
                     stored=_stored_action(current, _item(current.actions, action_id)))

    def invalid(error: InvalidInput):
        return _page(template, pact, core.ACTION, action, form, messages=_show_errors(form, error))

    details = core.ActionDetails(
        description=form.description.data or "", performer=Performer(form.performer.data),
        performer_detail=form.performer_detail.data or "", due_on=form.due_on.data,
        goal_id=int(form.goal.data) if form.goal.data else None,
    )
    return saving.save(
        lambda: core.edit_action(context.db(), pact, action_id, details, actor=context.actor(), clock=context.clock(),
                                 expected_version=form.version.data),
        done=_saved(pact_id, core.ACTION, action_id, _("Action changed.")), conflict=conflict, invalid=invalid,
    )
