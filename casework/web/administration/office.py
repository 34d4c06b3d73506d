"""The office's identity (administrators): the ente's name, logo and letterhead text, shown on
printed pacts, funder reports and e-mails. The logo is served from the database by its own route."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from casework.administration import (
    MAX_LOGO_BYTES,
    OfficeIdentity,
    OfficeInput,
    office_identity,
    office_logo,
    update_office_identity,
)
from casework.errors import Conflict, InvalidInput
from casework.models import Role
from casework.web import context, saving
from casework.web.administration.office_forms import OfficeForm
from casework.web.roles import role_required

blueprint = Blueprint("office", __name__)

ERROR_MESSAGES = {
    ("ente_name", "too_long"): _l("This is too long."),
    ("letterhead", "too_long"): _l("This is too long."),
    ("logo", "too_big"): _l("The logo is too large: at most %(size)s KB.", size=MAX_LOGO_BYTES // 1024),
    ("logo", "bad_type"): _l("Choose a PNG, JPEG or SVG image (an SVG without scripts or external links)."),
}
# The logo may be shown on any page, but never run anything: an SVG opened on its own gets no script.
LOGO_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, max-age=300",
    "Content-Disposition": "inline; filename=logo",
}


@blueprint.app_context_processor
def _office_globals() -> dict:
    """`office()` in every template: the identity, read once per request and only when used."""

    def office() -> OfficeIdentity:
        if "office_identity" not in g:
            g.office_identity = office_identity(context.db())
        return g.office_identity

    return {"office": office}


def _page(form: OfficeForm, identity: OfficeIdentity, *, conflict: bool = False) -> str:
    return render_template("administration/office/edit.html", form=form, identity=identity, conflict=conflict,
                           max_logo_kb=MAX_LOGO_BYTES // 1024)


@blueprint.route("/admin/office", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit():
    db = context.db()
    identity = office_identity(db)
    form = OfficeForm()
    if request.method == "GET":
        form.ente_name.data = identity.ente_name
        form.letterhead.data = identity.letterhead
        form.version.data = str(identity.version) if identity.version is not None else ""
        return _page(form, identity)
    if not form.validate_on_submit():
        return _page(form, identity), 422

    data = OfficeInput(ente_name=form.ente_name.data or "", letterhead=form.letterhead.data or "",
                       logo=form.read_logo(), remove_logo=bool(form.remove_logo.data))

    def invalid(error: InvalidInput) -> str:
        for name, code in error.errors.items():
            message = ERROR_MESSAGES.get((name, code), _l("This value is not accepted."))
            field = getattr(form, name)
            field.errors = [*field.errors, message]
        return _page(form, office_identity(db))

    def conflict(_error: Conflict) -> str:
        stored = office_identity(db)
        form.version.data = str(stored.version) if stored.version is not None else ""
        return _page(form, stored, conflict=True)

    def done(_identity: OfficeIdentity):
        flash(_("The office's identity is saved."), "success")
        return redirect(url_for("office.edit"))

    return saving.save(
        lambda: update_office_identity(db, data, expected_version=form.expected_version(),
                                       actor=context.actor(), now=context.now(), ip_address=context.client_ip()),
        done=done, invalid=invalid, conflict=conflict,
    )


@blueprint.get("/office/logo")
@login_required
def logo():
    """The logo, for every signed-in person's printed pages; 404 without one."""
    found = office_logo(context.db())
    if found is None:
        abort(404)
    data, content_type = found
    return Response(data, mimetype=content_type, headers=LOGO_HEADERS)
