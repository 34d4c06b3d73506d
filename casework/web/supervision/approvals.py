"""The approvals queue: supervisors approve a co-designed pact or send it back.

Each decision form carries the pact version the supervisor read: a pact changed meanwhile
answers 409 with the comment kept; bad input answers 422 with the error next to the field;
success redirects back to the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.models import ApprovalDecision, Role
from casework.supervision.approvals import QueueItem, approval_queue, decide
from casework.web import context, saving
from casework.web.pacts.page import CONFLICT_MESSAGE, STALE_FORM_MESSAGE
from casework.web.roles import role_required
from casework.web.supervision.approval_forms import (
    APPROVE,
    SEND_BACK,
    approval_error,
    decision_form,
)

blueprint = Blueprint("approvals", __name__)

DECISIONS = {APPROVE: ApprovalDecision.APPROVED, SEND_BACK: ApprovalDecision.SENT_BACK}


@dataclass(frozen=True)
class Row:
    """A pact of the queue with its two decision forms, and what went wrong with them."""

    item: QueueItem
    approve: Any
    send_back: Any
    alerts: tuple[str, ...]


@dataclass(frozen=True)
class Submitted:
    """The form the supervisor sent, to show again with their input and its errors."""

    pact_id: int
    kind: str
    form: Any
    alerts: tuple[str, ...] = ()


def _render(*, status: int = 200, submitted: Submitted | None = None, alerts: list[str] | None = None):
    queue = approval_queue(context.db(), context.registry(), context.actor(), now=context.now(),
                           locale=str(get_locale()), zone=context.settings().zone)
    rows = []
    alerts = list(alerts or [])
    for item in queue:
        forms = {kind: decision_form(kind, item.pact_id, version=item.pact_version) for kind in DECISIONS}
        row_alerts: tuple[str, ...] = ()
        if submitted is not None and submitted.pact_id == item.pact_id:
            forms[submitted.kind] = submitted.form
            row_alerts = submitted.alerts
        rows.append(Row(item=item, approve=forms[APPROVE], send_back=forms[SEND_BACK], alerts=row_alerts))
    if submitted is not None and not any(row.item.pact_id == submitted.pact_id for row in rows):
        # The pact left the queue meanwhile: what was said about it goes to the top.
        alerts.extend(message for message in submitted.alerts if message not in alerts)
    return render_template("supervision/approvals/index.html", rows=rows, alerts=alerts), status


@blueprint.get("/approvals")
@role_required(Role.SUPERVISOR)
def index():
    return _render()


def _decide(pact_id: int, kind: str) -> Response | tuple[str, int]:
    db = context.db()
    pact = context.visible_pact(pact_id)
    form = decision_form(kind, pact_id, request.form)
    if not form.validate():
        alerts = (str(STALE_FORM_MESSAGE),) if form.version.errors else ()
        return _render(status=422, submitted=Submitted(pact_id, kind, form, alerts))

    def conflict(error: Conflict) -> tuple[str, int]:
        form.keep_input_at(pact.version)
        return _render(submitted=Submitted(pact_id, kind, form, (str(CONFLICT_MESSAGE),)))

    def invalid(error: InvalidInput) -> tuple[str, int]:
        general = []
        for field, code in error.errors.items():
            if field == "comment":
                form.comment.errors = [*form.comment.errors, approval_error(code)]
            else:
                general.append(approval_error(code))
        return _render(submitted=Submitted(pact_id, kind, form, tuple(general)))

    def done(saved: object) -> Response:
        if kind == APPROVE:
            flash(_("Pact approved: the case manager has been notified."), "success")
        else:
            flash(_("Pact sent back to the case manager with your comment."), "success")
        return redirect(url_for("approvals.index"))

    return saving.save(lambda: decide(
        db, context.registry(), context.actor(), pact, expected_version=form.version.data, decision=DECISIONS[kind],
        comment=form.comment.data or "", now=context.now(),
    ), done=done, conflict=conflict, invalid=invalid)


@blueprint.post("/approvals/<int:pact_id>/approve")
@role_required(Role.SUPERVISOR)
def approve(pact_id: int):
    return _decide(pact_id, APPROVE)


@blueprint.post("/approvals/<int:pact_id>/send-back")
@role_required(Role.SUPERVISOR)
def send_back(pact_id: int):
    return _decide(pact_id, SEND_BACK)
