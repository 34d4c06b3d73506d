"""Erasing a person (casework.people.erasure): on request from the person's record, or from the
list of those whose retention period ran out. Supervisors only; each erasure needs a reason and
a deliberate confirmation, and is written to the access and administrative logs."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.errors import InvalidInput
from casework.models import Role
from casework.pacts.documents import documents_dir
from casework.people.erasure import erase_person, erasure_candidates, remove_stored_files
from casework.security import get_visible_beneficiary
from casework.web import context, saving
from casework.web.people.forms import ErasureForm
from casework.web.roles import role_required

blueprint = Blueprint("erasure", __name__)

ERRORS = {
    "required": _l("Write why the person is erased: it is recorded with the erasure."),
    "too_long": _l("At most 500 characters."),
    "open_pact": _l("A pact of this person is still open: close it before erasing the person."),
    "already_erased": _l("This person was already erased."),
    "restricted": _l("The processing of this person's data is restricted: lift the restriction before erasing the person."),
}


@blueprint.route("/beneficiaries/<int:beneficiary_id>/erase", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def erase(beneficiary_id: int):
    person = get_visible_beneficiary(context.db(), context.actor(), beneficiary_id, context.now())
    if person is None:
        abort(404)
    form = ErasureForm()
    record_url = url_for("beneficiaries.show", beneficiary_id=beneficiary_id)
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("people/erase.html", form=form, person=person, record_url=record_url), status
    try:
        erased = erase_person(context.db(), context.actor(), beneficiary_id, reason=form.reason.data or "",
                              now=context.now(), ip_address=context.client_ip())
    except InvalidInput as refused:
        form.reason.errors = [*form.reason.errors, str(ERRORS[refused.errors["reason"]])]
        saving.roll_back()
        return render_template("people/erase.html", form=form, person=person, record_url=record_url), 422
    if erased is None:
        abort(404)
    saving.commit()
    remove_stored_files(documents_dir(context.settings().instance_dir), erased.stored_files)
    flash(_("Person no. %(num)d was erased: only the anonymous figures stay.", num=beneficiary_id), "success")
    return redirect(url_for("erasure.due"))


@blueprint.get("/beneficiaries/erasures")
@role_required(Role.SUPERVISOR)
def due() -> str:
    """Who may be erased because their retention period ran out: a list, nobody is erased from it
    without opening the person's erasure page."""
    candidates = erasure_candidates(context.db(), context.actor(), now=context.now())
    return render_template("people/erasures.html", candidates=candidates)
