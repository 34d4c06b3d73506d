"""Choosing a password from an e-mailed link (invitation, reset) and asking for one (forgotten password).

These pages are for people who are not signed in. A refused link (unknown or altered, used,
superseded, expired) gets a page that says so and how to get a new one; nothing tells whether
an account exists.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.administration import tokens
from casework.errors import InvalidInput
from casework.models import TokenPurpose, User
from casework.security import MIN_PASSWORD_LENGTH
from casework.web import context, saving
from casework.web.administration.user_forms import ChoosePasswordForm, ForgottenPasswordForm

blueprint = Blueprint("passwords", __name__)

# What the one password policy (casework.security.password_problem) refuses beyond the length.
POLICY_ERRORS = {
    "too_common": _l("This password is among the first ones anyone would try: choose another."),
    "too_simple": _l("Use at least 5 different characters."),
    "contains_username": _l("The password must not contain the username."),
}
PASSWORD_ERRORS = {
    **POLICY_ERRORS,
    "too_short": _l("Choose a password of at least %(num)d characters.", num=MIN_PASSWORD_LENGTH),
    "too_long": _l("This is too long."),
    "required": _l("Fill in this field."),
}
REFUSALS = {
    "unknown": _l("This link is not valid: check that it was copied whole from the e-mail."),
    "used": _l("This link was already used, or a newer one was sent: each link works only once."),
    "expired": _l("This link has expired."),
}
ENDPOINTS = {TokenPurpose.INVITATION: "passwords.invitation", TokenPurpose.RESET: "passwords.reset"}


def link_for(purpose: TokenPurpose, token: str) -> str:
    """The address an e-mail gives: from the configured public address, never from the request's
    Host header (which a stranger could set to their own site)."""
    return context.settings().base_url + url_for(ENDPOINTS[purpose], token=token)


def _refused(reason: str, purpose: TokenPurpose):
    status = 404 if reason == "unknown" else 410
    return render_template("security/link_refused.html", message=REFUSALS[reason], purpose=purpose.value), status


def _choose(token: str, purpose: TokenPurpose):
    db = context.db()
    try:
        record = tokens.check_token(db, token, purpose, now=context.now())
    except tokens.TokenRefused as refused:
        return _refused(refused.reason, purpose)
    form = ChoosePasswordForm()

    def page(status: int = 200):
        return render_template("security/choose_password.html", form=form, purpose=purpose.value,
                               username=record.user.username, min_length=MIN_PASSWORD_LENGTH), status

    if not form.validate_on_submit():
        return page(422 if request.method == "POST" else 200)

    def invalid(error: InvalidInput):
        form.password.errors = [*form.password.errors, PASSWORD_ERRORS.get(error.errors.get("password", ""),
                                                                           _l("This value is not accepted."))]
        return page()[0]

    def done(user: User):
        # Every session of the account ended with the new password: it signs in again.
        flash(_("Your password is set. Sign in with your username, %(username)s, and the new password.",
                username=user.username), "success")
        return redirect(url_for("auth.login"))

    return saving.save(
        lambda: tokens.set_password_with_token(db, token, purpose, form.password.data, now=context.now(),
                                               ip_address=context.client_ip()),
        done=done, invalid=invalid,
        refused={tokens.TokenRefused: lambda refused: _refused(refused.reason, purpose)},
    )


@blueprint.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):
    return _choose(token, TokenPurpose.INVITATION)


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    return _choose(token, TokenPurpose.RESET)


@blueprint.route("/password/forgotten", methods=["GET", "POST"])
def forgotten():
    form = ForgottenPasswordForm()
    if not form.validate_on_submit():
        return render_template("security/forgotten_password.html", form=form), 422 if request.method == "POST" else 200

    def throttled(_refusal: tokens.TooManyRequests):
        form.identifier.errors = [*form.identifier.errors,
                                  _("Too many requests from this connection. Wait an hour and try again.")]
        return render_template("security/forgotten_password.html", form=form), 429

    def done(_result: None):
        return render_template("security/forgotten_password_sent.html")

    return saving.save(
        lambda: tokens.request_password_reset(context.db(), form.identifier.data, ip_address=context.client_ip(),
                                              now=context.now(), link_for=link_for),
        done=done, refused={tokens.TooManyRequests: throttled},
    )
