"""Accounts: the administrator manages every account, a supervisor the case managers of their
territory and below. Someone else's account outside one's reach answers 404 (ids leak nothing);
other roles get 403; bad input answers 422 with the errors next to the fields."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from casework.administration import accounts
from casework.errors import InvalidInput
from casework.models import Role, TokenPurpose, User
from casework.web import context, saving
from casework.web.administration.passwords import link_for
from casework.web.administration.user_forms import ROLE_LABELS, UserFilterForm, UserForm
from casework.web.paging import page_number
from casework.web.roles import role_required

blueprint = Blueprint("users", __name__)

PER_PAGE = 50
MANAGERS = (Role.ADMIN, Role.SUPERVISOR)
ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "invalid_username": _l("Use lower-case letters, digits, dots, hyphens and underscores, e.g. mario.rossi."),
    "invalid_email": _l("Write an e-mail address, e.g. mario.rossi@comune.example.it."),
    "not_allowed": _l("Choose one of the values in the list."),
    "unknown": _l("Choose one of the values in the list."),
    "own_account": _l("You cannot demote or deactivate your own account: ask another administrator."),
    "last_admin": _l("This is the last active administrator: make someone else an administrator first."),
    "no_password": _l("This person has not chosen a password yet: send the invitation again instead."),
    "inactive": _l("The account is deactivated: reactivate it first."),
}
ALREADY_USED = {
    "username": _l("Another account already has this username (capitals do not count)."),
    "email": _l("Another account already has this e-mail address (capitals do not count)."),
}
STATUS_LABELS = {"active": _l("Active"), "invited": _l("Invitation pending"), "deactivated": _l("Deactivated")}


def _message(field: str, code: str):
    if code == "already_used":
        return ALREADY_USED.get(field, _l("This value is not accepted."))
    return ERROR_MESSAGES.get(code, _l("This value is not accepted."))


def _show_errors(form: UserForm, error: InvalidInput) -> None:
    for name, code in error.errors.items():
        field = getattr(form, name, None)
        if field is not None and name in form._fields:
            field.errors = [*field.errors, _message(name, code)]
        else:
            flash(str(_message(name, code)), "error")


def _offered(form: UserForm) -> UserForm:
    db, actor = context.db(), context.actor()
    return form.offer(accounts.role_choices(actor), accounts.territory_choices(db, actor),
                      accounts.organisation_choices(db))


def _manageable_or_404(user_id: int) -> User:
    user = accounts.get_manageable_user(context.db(), context.actor(), user_id)
    if user is None:
        abort(404)
    return user


@blueprint.get("/admin/users")
@role_required(*MANAGERS)
def index():
    db, actor = context.db(), context.actor()
    filters = UserFilterForm(request.args).offer(accounts.role_choices(actor), accounts.territory_choices(db, actor))
    chosen = accounts.UserFilters(role=filters.chosen_role(), territory_id=filters.chosen_territory(),
                                  active=filters.chosen_state(), signed_in=filters.chosen_sign_in())
    found = accounts.list_users(db, actor, chosen, now=context.now(), page=page_number(),
                                per_page=PER_PAGE)
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("administration/users/index.html", found=found, filters=filters, query=query,
                           role_labels=ROLE_LABELS, status_labels=STATUS_LABELS, status=accounts.account_status)


@blueprint.route("/admin/users/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new():
    db = context.db()
    form = _offered(UserForm())
    if not form.validate_on_submit():
        return render_template("administration/users/new.html", form=form), 422 if request.method == "POST" else 200

    def invalid(error: InvalidInput) -> str:
        _show_errors(form, error)
        return render_template("administration/users/new.html", form=_offered(form))

    def done(user: User) -> Response:
        flash(_("Invitation sent to %(email)s: the link to choose a password is valid for 72 hours.",
                email=user.email), "success")
        return redirect(url_for("users.edit", user_id=user.id))

    return saving.save(lambda: accounts.invite_user(
        db, context.actor(), form.user_input(), now=context.now(), link_for=link_for, ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


def _edit_page(user: User, form: UserForm | None = None, status: int = 200):
    db = context.db()
    form = form or _offered(UserForm(formdata=None, data=UserForm.values_of(user)))
    return render_template(
        "administration/users/edit.html", user=user, form=form, status=accounts.account_status(user),
        status_labels=STATUS_LABELS, role_labels=ROLE_LABELS, sign_ins=accounts.recent_sign_ins(db, user),
        is_self=user.id == context.actor().id,
    ), status


@blueprint.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit(user_id: int):
    db = context.db()
    user = _manageable_or_404(user_id)
    if request.method == "GET":
        return _edit_page(user)
    form = _offered(UserForm())
    if not form.validate_on_submit():
        return _edit_page(user, form, 422)

    def invalid(error: InvalidInput) -> str:
        _show_errors(form, error)
        return _edit_page(_manageable_or_404(user_id), form)[0]

    def done(changes: dict) -> Response:
        flash(_("Account %(username)s saved.", username=user.username) if changes else _("Nothing was changed."),
              "success" if changes else "info")
        return redirect(url_for("users.edit", user_id=user_id))

    return saving.save(lambda: accounts.update_user(
        db, context.actor(), user, form.user_input(), now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


def _action(user_id: int, write, message) -> Response | tuple:
    """One of the buttons of an account's page: do it, or show the page again with why not."""
    user = _manageable_or_404(user_id)

    def invalid(error: InvalidInput) -> str:
        for field, code in error.errors.items():
            flash(str(_message(field, code)), "error")
        return _edit_page(_manageable_or_404(user_id))[0]

    def done(result) -> Response:
        flash(message(user, result), "success")
        return redirect(url_for("users.edit", user_id=user_id))

    return saving.save(lambda: write(user), done=done, invalid=invalid)


@blueprint.post("/admin/users/<int:user_id>/deactivate")
@role_required(*MANAGERS)
def deactivate(user_id: int):
    return _action(user_id, lambda user: accounts.deactivate(
        context.db(), context.actor(), user, now=context.now(), ip_address=context.client_ip()),
        lambda user, _result: _("%(name)s is deactivated and signed out everywhere.", name=user.full_name))


@blueprint.post("/admin/users/<int:user_id>/reactivate")
@role_required(*MANAGERS)
def reactivate(user_id: int):
    return _action(user_id, lambda user: accounts.reactivate(
        context.db(), context.actor(), user, now=context.now(), ip_address=context.client_ip()),
        lambda user, _result: _("%(name)s can sign in again.", name=user.full_name))


@blueprint.post("/admin/users/<int:user_id>/password-link")
@role_required(*MANAGERS)
def password_link(user_id: int):
    def message(user: User, purpose: TokenPurpose) -> str:
        if purpose == TokenPurpose.INVITATION:
            return _("A new invitation was sent to %(email)s (valid for 72 hours).", email=user.email)
        return _("A link to choose a new password was sent to %(email)s (valid for 1 hour).", email=user.email)

    return _action(user_id, lambda user: accounts.send_password_link(
        context.db(), context.actor(), user, now=context.now(), link_for=link_for, ip_address=context.client_ip()),
        message)
