"""Sign in, sign out, language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from casework.config import LOCALES
from casework.models import Role, User
from casework.security import auth
from casework.web import context, saving
from casework.web.session_security import SignedIn

blueprint = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


def _landing() -> str:
    """Where a signed-in user starts: an administrator sees no case data, so not on Today."""
    if current_user.is_authenticated and context.actor().role == Role.ADMIN:
        return url_for("users.index")
    return url_for("home.today")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would turn the login page into a lure."""
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return _landing()


@blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_landing())
    form = LoginForm()
    if form.validate_on_submit():
        db = context.db()
        try:
            user = auth.authenticate(db, form.username.data, form.password.data,
                                     ip_address=context.client_ip(), now=context.now())
        except auth.LoginRefused as refused:
            saving.commit()  # the attempt is logged, and counts towards throttling if checked
            if refused.reason == "throttled":
                form.username.errors.append(ngettext(
                    "Too many failed attempts: wait %(num)d second and try again.",
                    "Too many failed attempts: wait %(num)d seconds and try again.", refused.wait_seconds))
            else:
                form.username.errors.append(_("Wrong username or password."))
        else:
            if auth.has_second_factor(db, user):
                saving.commit()
                return second_step(user, request.args.get("next"))
            return finish_sign_in(user, request.args.get("next"))
    return render_template("security/login.html", form=form), 200 if not form.errors else 422


# The password was right; the code must follow within this time, from the same browser.
SECOND_STEP_MINUTES = 5


def second_step(user: User, next_page: str | None):
    """Ask for the second factor: the browser's (signed) cookie remembers whose password was right."""
    locale = session.get("locale")
    session.clear()
    if locale:
        session["locale"] = locale
    session["second_factor"] = {"user_id": user.id, "at": context.now().timestamp(), "next": next_page or ""}
    return redirect(url_for("second_factor.code"))


def finish_sign_in(user: User, next_page: str | None):
    """A server-side session for the user, a fresh cookie (no fixation), then where they were going."""
    token, record = auth.start_session(context.db(), user, now=context.now(), ip_address=context.client_ip(),
                                       user_agent=request.user_agent.string)
    saving.commit()
    session.clear()
    session["locale"] = user.locale
    login_user(SignedIn(record, token))
    return redirect(_safe_next(next_page))


@blueprint.post("/logout")
@login_required
def logout():
    auth.end_session(context.db(), current_user.get_id(), now=context.now())
    saving.commit()
    locale = session.get("locale")
    logout_user()
    session.clear()
    if locale:
        session["locale"] = locale  # the sign-in page stays in the language the person reads
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@blueprint.post("/language")
def language():
    locale = request.form.get("locale", "")
    if locale in LOCALES:
        session["locale"] = locale
        if current_user.is_authenticated:
            context.actor().locale = locale
            saving.commit()
    return redirect(_safe_next(request.form.get("next")))
