"""Own account: change password, language and e-mail preferences, signed-in devices.

Every signed-in person has one, whatever their role. Bad input answers 422 with the error
next to the field; nothing is saved.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField
from wtforms.fields.choices import SelectChoice

from casework.administration import own_account as core
from casework.errors import InvalidInput
from casework.security import MIN_PASSWORD_LENGTH
from casework.web import context, saving
from casework.web.administration.passwords import POLICY_ERRORS

blueprint = Blueprint("account", __name__)

ERROR_MESSAGES = {
    **POLICY_ERRORS,
    "wrong": _l("This is not your current password."),
    "required": _l("Fill in this field."),
    "too_short": _l("Use at least %(count)d characters.", count=MIN_PASSWORD_LENGTH),
    "too_long": _l("This is too long."),
    "same_as_current": _l("Choose a password different from the current one."),
    "mismatch": _l("The two passwords are not the same."),
    "unknown_locale": _l("Choose one of the languages in the list."),
}


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("New password"), render_kw={"autocomplete": "new-password"})
    repeated = PasswordField(_l("New password again"), render_kw={"autocomplete": "new-password"})


class PreferencesForm(FlaskForm):
    # Any value reaches the core, which says which languages exist.
    locale = SelectField(_l("Language"), choices=[SelectChoice("it", "Italiano"), SelectChoice("en", "English")],
                         validate_choice=False)
    email_digest = BooleanField(_l("Send me the daily digest by e-mail"))
    email_reminders = BooleanField(_l("Send me an e-mail for each reminder and overdue deadline as it comes"))


class SignOutOthersForm(FlaskForm):
    pass


def _current_session_id() -> int:
    return current_user.record.id


def _page(password_form: PasswordForm | None = None, preferences_form: PreferencesForm | None = None):
    user = context.actor()
    if preferences_form is None:
        preferences = core.preferences_of(user)
        preferences_form = PreferencesForm(formdata=None, data={
            "locale": preferences.locale, "email_digest": preferences.email_digest,
            "email_reminders": preferences.email_reminders,
        })
    config = context.settings()
    sessions = core.active_sessions(
        context.db(), user, current_session_id=_current_session_id(), now=context.now(),
        idle_timeout=timedelta(minutes=config.session_idle_minutes),
        max_age=timedelta(hours=config.session_max_hours),
    )
    return render_template(
        "administration/account/index.html", user=user, password_form=password_form or PasswordForm(formdata=None),
        preferences_form=preferences_form, sign_out_form=SignOutOthersForm(), sessions=sessions,
        min_length=MIN_PASSWORD_LENGTH,
    )


def _show_errors(form, error: InvalidInput) -> None:
    saving.show_errors(form, error, ERROR_MESSAGES)


@blueprint.get("/account")
@login_required
def index():
    return _page()


@blueprint.post("/account/password")
@login_required
def password():
    form = PasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form), 422

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return _page(password_form=form)

    def done(ended: int):
        flash(_("Your password has been changed."), "success")
        if ended:
            flash(ngettext("%(num)d other session was signed out.", "%(num)d other sessions were signed out.", ended),
                  "info")
        return redirect(url_for("account.index"))

    return saving.save(lambda: core.change_password(
        context.db(), context.actor(), current=form.current.data or "", new=form.new.data or "",
        repeated=form.repeated.data or "", current_session_id=_current_session_id(), now=context.now(),
        ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.post("/account/preferences")
@login_required
def preferences():
    form = PreferencesForm()
    if not form.validate_on_submit():
        return _page(preferences_form=form), 422

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        return _page(preferences_form=form)

    def done(changes: dict):
        if "locale" in changes:
            session["locale"] = form.locale.data
        flash(_("Your preferences have been saved.") if changes else _("Nothing changed."), "success")
        return redirect(url_for("account.index"))

    return saving.save(lambda: core.update_preferences(
        context.db(), context.actor(), core.Preferences(form.locale.data or "", form.email_digest.data,
                                                        form.email_reminders.data),
        now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    form = SignOutOthersForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.index"))

    def done(ended: int):
        flash(ngettext("%(num)d other session was signed out.", "%(num)d other sessions were signed out.", ended),
              "success")
        return redirect(url_for("account.index"))

    return saving.save(lambda: core.sign_out_everywhere_else(
        context.db(), context.actor(), current_session_id=_current_session_id(), now=context.now(),
        ip_address=context.client_ip(),
    ), done=done)
