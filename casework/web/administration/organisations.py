"""Organisations: administrators manage all of them, a supervisor those of their own territory
(and below). Case managers get 403; an organisation outside the supervisor's territory, or none
at all, 404. Bad input answers 422 with the errors next to the fields, nothing saved."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from casework.administration import organisations as core
from casework.errors import InvalidInput
from casework.models import Organisation, Role
from casework.web import context, saving
from casework.web.administration.organisation_forms import ORGANISATION_KINDS, OrganisationForm
from casework.web.roles import role_required

blueprint = Blueprint("organisations", __name__)

MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "already_used": _l("Another organisation already has this name."),
    "invalid_kind": _l("Choose the type of organisation."),
    "outside_territory": _l("Choose your territory or one below it."),
}


def _show_errors(form, error: InvalidInput) -> None:
    saving.show_errors(form, error, ERROR_MESSAGES)


def _offered(form: OrganisationForm) -> OrganisationForm:
    actor = context.actor()
    return form.offer(core.territory_choices(context.db(), actor))


def _input(form: OrganisationForm) -> core.OrganisationInput:
    return core.OrganisationInput(name=form.name.data or "", kind=form.kind.data or None,
                                  territory_id=form.territory_id.data)


def _managed_or_404(organisation_id: int) -> Organisation:
    try:
        return core.get_organisation(context.db(), context.actor(), organisation_id)
    except core.OrganisationNotFound:
        abort(404)


@blueprint.get("/organisations")
@role_required(*MANAGERS)
def index():
    found = core.managed_organisations(context.db(), context.actor())
    return render_template("administration/organisations/index.html", organisations=found, kinds=ORGANISATION_KINDS)


@blueprint.route("/organisations/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new():
    db = context.db()
    form = _offered(OrganisationForm())
    if not form.validate_on_submit():
        return render_template("administration/organisations/form.html", form=form, organisation=None), \
            422 if request.method == "POST" else 200

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return render_template("administration/organisations/form.html", form=_offered(form), organisation=None)

    def done(organisation: Organisation) -> Response:
        flash(_("Organisation %(name)s created.", name=organisation.name), "success")
        return redirect(url_for("organisations.index"))

    return saving.save(lambda: core.create_organisation(
        db, context.actor(), _input(form), now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(organisation_id: int):
    db = context.db()
    organisation = _managed_or_404(organisation_id)
    if request.method == "GET":
        form = _offered(OrganisationForm(formdata=None, data={
            "name": organisation.name, "kind": organisation.kind.value, "territory_id": organisation.territory_id}))
        return render_template("administration/organisations/form.html", form=form, organisation=organisation)
    form = _offered(OrganisationForm())
    if not form.validate_on_submit():
        return render_template("administration/organisations/form.html", form=form, organisation=organisation), 422

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return render_template("administration/organisations/form.html", form=_offered(form),
                               organisation=_managed_or_404(organisation_id))

    def done(saved: Organisation) -> Response:
        flash(_("Organisation %(name)s saved.", name=saved.name), "success")
        return redirect(url_for("organisations.index"))

    return saving.save(lambda: core.update_organisation(
        db, context.actor(), organisation_id, _input(form), now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid, refused={core.OrganisationNotFound: lambda error: abort(404)})


@blueprint.post("/organisations/<int:organisation_id>/active")
@role_required(*MANAGERS)
def set_active(organisation_id: int):
    db = context.db()
    _managed_or_404(organisation_id)
    active = request.form.get("active") == "1"

    def done(saved: Organisation) -> Response:
        if saved.active:
            flash(_("Organisation %(name)s is active again.", name=saved.name), "success")
        else:
            flash(_("Organisation %(name)s is deactivated: it is no longer offered for new users.", name=saved.name), "success")
        return redirect(url_for("organisations.index"))

    return saving.save(lambda: core.set_organisation_active(
        db, context.actor(), organisation_id, active, now=context.now(), ip_address=context.client_ip(),
    ), done=done, refused={core.OrganisationNotFound: lambda error: abort(404)})
