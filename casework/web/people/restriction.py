"""Restricting the processing of a person's data (casework.people.restriction): the person's
case manager or a supervisor who sees them restricts the record, with a reason; a supervisor
lifts it, with a reason. The person's page shows the restriction (who, when, why) and the forms.

A write attempted on a restricted record anywhere in the app is answered by casework.web.errors
with 409 and a page saying who restricted it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.errors import InvalidInput
from casework.models import Beneficiary, Role
from casework.people.restriction import (
    Restriction,
    current_restriction,
    lift_restriction,
    may_lift_restrictions,
    may_restrict_processing,
    restrict_processing,
)
from casework.security import get_visible_beneficiary
from casework.web import context, saving
from casework.web.people.restriction_forms import LiftRestrictionForm, RestrictionForm
from casework.web.roles import role_required

blueprint = Blueprint("restriction", __name__)

ERRORS = {
    "required": _l("Write why: it is recorded with the restriction."),
    "too_long": _l("At most 500 characters."),
    "already_restricted": _l("The processing of this person's data is already restricted."),
    "not_restricted": _l("The processing of this person's data is not restricted."),
    "erased": _l("This person was erased: there is nothing left to restrict."),
}


@dataclass(frozen=True)
class RestrictionPanel:
    """What the person's page shows about a restriction: the open one, and the form the reader may use."""

    restriction: Restriction | None
    restrict_form: RestrictionForm | None
    restrict_url: str
    lift_form: LiftRestrictionForm | None
    lift_url: str


def restriction_panel(person: Beneficiary) -> RestrictionPanel:
    """For a person the reader sees (the caller checked)."""
    restriction = current_restriction(context.db(), person.id)
    actor = context.actor()
    may_restrict = restriction is None and person.erased_at is None and may_restrict_processing(actor)
    return RestrictionPanel(
        restriction,
        RestrictionForm(formdata=None) if may_restrict else None,
        url_for("restriction.restrict", beneficiary_id=person.id),
        LiftRestrictionForm(formdata=None) if restriction is not None and may_lift_restrictions(actor) else None,
        url_for("restriction.lift", beneficiary_id=person.id),
    )


def restriction_notice(beneficiary_id: int) -> RestrictionPanel:
    """The banner alone, for a page about one of the person's pacts (the forms are on the person's page)."""
    return RestrictionPanel(current_restriction(context.db(), beneficiary_id), None, "", None, "")


def _visible_or_404(beneficiary_id: int) -> Beneficiary:
    person = get_visible_beneficiary(context.db(), context.actor(), beneficiary_id, context.now())
    if person is None:
        abort(404)
    return person


def _show_refusal(form: RestrictionForm | LiftRestrictionForm, refused: InvalidInput) -> None:
    form.reason.errors = [*form.reason.errors, str(ERRORS.get(refused.errors.get("reason", ""),
                                                              _l("This value is not accepted.")))]


@blueprint.route("/beneficiaries/<int:beneficiary_id>/restriction", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER, Role.SUPERVISOR)
def restrict(beneficiary_id: int):
    return _decide(beneficiary_id, RestrictionForm(), "people/restrict.html", restrict_processing,
                   _("The processing of this person's data is restricted: the record can be read but not changed "
                     "until a supervisor lifts the restriction."))


@blueprint.route("/beneficiaries/<int:beneficiary_id>/restriction/lift", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def lift(beneficiary_id: int):
    return _decide(beneficiary_id, LiftRestrictionForm(), "people/lift_restriction.html", lift_restriction,
                   _("The restriction was lifted: the record can be changed again."))


def _decide(beneficiary_id: int, form: RestrictionForm | LiftRestrictionForm, template: str,
            operation: Callable[..., object], done_message: str):
    """Restricting and lifting alike: the form with its reason, the core operation, back to the record."""
    person = _visible_or_404(beneficiary_id)
    record_url = url_for("beneficiaries.show", beneficiary_id=beneficiary_id)
    restriction = current_restriction(context.db(), beneficiary_id)

    def page(status: int):
        return render_template(template, form=form, person=person, record_url=record_url,
                               restriction=restriction), status

    if not form.validate_on_submit():
        return page(422 if form.errors else 200)
    try:
        done = operation(context.db(), context.actor(), beneficiary_id, reason=form.reason.data or "",
                         now=context.now(), ip_address=context.client_ip())
    except InvalidInput as refused:
        saving.roll_back()
        _show_refusal(form, refused)
        return page(422)
    if done is None:
        abort(404)
    saving.commit()
    flash(done_message, "success")
    return redirect(record_url)
