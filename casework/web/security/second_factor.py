"""The second factor: the code asked after the password, enrolment with a QR code made on the
server, recovery codes shown once, and the roles that must enrol (`require_second_factor_for`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from casework.errors import InvalidInput
from casework.models import User
from casework.security import auth
from casework.security import second_factor as factor
from casework.web import context, saving
from casework.web.security.auth import SECOND_STEP_MINUTES, finish_sign_in

blueprint = Blueprint("second_factor", __name__)

# Where a user who must enrol may still go before having done so.
OPEN_ENDPOINTS = {"second_factor.enrol", "auth.logout", "auth.language", "static", "favicon"}


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True})


class EnrolForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    code = StringField(_l("Code from the app"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class DisableForm(FlaskForm):
    password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


def _pending_user() -> User | None:
    """Whose password this browser gave right, if it did so in the last few minutes."""
    pending = session.get("second_factor")
    if not isinstance(pending, dict) or not isinstance(pending.get("user_id"), int):
        return None
    if context.now().timestamp() - float(pending.get("at", 0)) > SECOND_STEP_MINUTES * 60:
        return None
    user = context.db().get(User, pending["user_id"])
    return user if user is not None and user.active else None


@blueprint.route("/login/code", methods=["GET", "POST"])
def code():
    if current_user.is_authenticated:
        return redirect(url_for("home.today"))
    user = _pending_user()
    if user is None:
        session.pop("second_factor", None)
        flash(_("Sign in again: the code must follow the password within a few minutes."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        db = context.db()
        try:
            used = factor.check_second_factor(db, user, form.code.data, ip_address=context.client_ip(),
                                              now=context.now())
        except auth.LoginRefused as refused:
            saving.commit()  # logged, and counted like a wrong password
            if refused.reason == "throttled":
                form.code.errors.append(ngettext(
                    "Too many failed attempts: wait %(num)d second and try again.",
                    "Too many failed attempts: wait %(num)d seconds and try again.", refused.wait_seconds))
            else:
                form.code.errors.append(_("This code is not right, or was already used."))
        else:
            next_page = session.get("second_factor", {}).get("next") or None
            response = finish_sign_in(user, next_page)
            if used == "recovery":
                flash(ngettext("You signed in with a recovery code: %(num)d is left. Enrol your app again if you lost it.",
                               "You signed in with a recovery code: %(num)d are left. Enrol your app again if you lost it.",
                               factor.unused_recovery_codes(context.db(), user)), "warning")
            return response
    return render_template("security/second_factor_code.html", form=form), 200 if not form.errors else 422


def _enrol_secret() -> str:
    """The secret being enrolled, kept in the signed session cookie until the user confirms a code."""
    secret = session.get("enrol_secret")
    if not isinstance(secret, str) or len(secret) != 32:
        secret = factor.new_secret()
        session["enrol_secret"] = secret
    return secret


def _errors(form: FlaskForm, error: InvalidInput) -> None:
    messages = {"password": _("This is not your current password."),
                "code": _("This code is not right: check the time on your phone and type the code shown now.")}
    for name in error.errors:
        getattr(form, name).errors.append(messages[name])


@blueprint.route("/account/second-factor", methods=["GET", "POST"])
@login_required
def enrol():
    db, user = context.db(), context.actor()
    enrolled = auth.has_second_factor(db, user)
    form = EnrolForm()
    if not enrolled and form.validate_on_submit():
        try:
            codes = factor.enable_second_factor(db, user, secret=_enrol_secret(), password=form.password.data,
                                                code=form.code.data, now=context.now(), ip_address=context.client_ip())
        except InvalidInput as error:
            _errors(form, error)
        else:
            saving.commit()
            session.pop("enrol_secret", None)
            return render_template("security/second_factor_codes.html", codes=codes)
    if enrolled:
        return render_template("security/second_factor.html", enrolled=True, form=DisableForm(),
                               unused=factor.unused_recovery_codes(db, user))
    secret = _enrol_secret()
    qr = Markup(factor.qr_svg(factor.provisioning_uri(secret, user.username)))  # our own SVG, made from our own URI
    spaced = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    required = user.role.value in context.settings().require_second_factor_for
    return render_template("security/second_factor.html", enrolled=False, form=form, qr=qr, secret=spaced,
                           required=required), 200 if not form.errors else 422


@blueprint.post("/account/second-factor/disable")
@login_required
def disable():
    db, user = context.db(), context.actor()
    form = DisableForm()
    if user.role.value in context.settings().require_second_factor_for:
        flash(_("Your role must sign in with a second factor: it cannot be turned off."), "warning")
        return redirect(url_for("second_factor.enrol"))
    if form.validate_on_submit():
        try:
            factor.disable_second_factor(db, user, password=form.password.data, now=context.now(),
                                         ip_address=context.client_ip())
        except InvalidInput as error:
            _errors(form, error)
        else:
            saving.commit()
            flash(_("The second factor is off: signing in takes only the password."), "info")
            return redirect(url_for("second_factor.enrol"))
    return render_template("security/second_factor.html", enrolled=True, form=form,
                           unused=factor.unused_recovery_codes(db, user)), 422


@blueprint.before_app_request
def send_to_enrolment():
    """A role that must use a second factor goes to enrolment until it has one."""
    required = context.settings().require_second_factor_for
    if not required or not current_user.is_authenticated or request.endpoint in OPEN_ENDPOINTS:
        return None
    if (request.endpoint or "").startswith("assets."):
        return None
    user = context.actor()
    if user.role.value in required and not auth.has_second_factor(context.db(), user):
        return redirect(url_for("second_factor.enrol"))
    return None
