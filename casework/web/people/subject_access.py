"""A copy of everything held about a person, with the reason recorded: a page to print (or
save as PDF from the browser) or a JSON file (casework.people.subject_access)."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.errors import InvalidInput
from casework.models import Role
from casework.people.readable_copy import readable_sections
from casework.people.subject_access import may_copy_person_data, person_dossier
from casework.security import get_visible_beneficiary
from casework.web import context, saving
from casework.web.filters import request_locale
from casework.web.people.forms import PersonCopyForm
from casework.web.roles import role_required
from casework.web.security.access_history import shown_access

blueprint = Blueprint("subject_access", __name__)

REASON_ERRORS = {"required": _l("Write why the copy is made: it is recorded with it."),
                 "too_long": _l("At most 500 characters.")}


@blueprint.route("/beneficiaries/<int:beneficiary_id>/copy", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER, Role.SUPERVISOR)
def copy(beneficiary_id: int):
    person = get_visible_beneficiary(context.db(), context.actor(), beneficiary_id, context.now())
    if person is None or not may_copy_person_data(context.actor()):
        abort(404)
    form = PersonCopyForm()
    if not form.validate_on_submit():
        return _form_page(form, person, 422 if form.errors else 200)
    try:
        dossier = person_dossier(context.db(), context.actor(), beneficiary_id, reason=form.reason.data or "",
                                 now=context.now(), ip_address=context.client_ip())
    except InvalidInput as refused:
        form.reason.errors = [*form.reason.errors, str(REASON_ERRORS[refused.errors["reason"]])]
        return _form_page(form, person, 422)
    if dossier is None:
        abort(404)
    saving.commit()  # the access log entry: the copy and its reason
    if form.output.data == "json":
        body = json.dumps(dossier.as_json(), ensure_ascii=False, indent=2)
        return Response(body, mimetype="application/json", headers={
            "Content-Disposition": f'attachment; filename="persona-{beneficiary_id}.json"'})
    sections = readable_sections(context.db(), context.registry(), dossier, locale=request_locale(),
                                 zone=context.settings().zone)
    return render_template("people/copy.html", dossier=dossier, sections=sections,
                           accesses=[shown_access(row) for row in dossier.accesses],
                           record_url=url_for("beneficiaries.show", beneficiary_id=beneficiary_id))


def _form_page(form: PersonCopyForm, person, status: int):
    title = _("Copy of the data of %(name)s", name=person.full_name)
    return render_template("people/copy_form.html", form=form, title=title,
                           record_url=url_for("beneficiaries.show", beneficiary_id=person.id)), status
