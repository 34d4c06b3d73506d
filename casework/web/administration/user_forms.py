"""Forms of the accounts pages and of the password links.

The forms only turn text into values; what makes an account valid is checked by
casework.administration.accounts, whose error codes the views show next to the fields.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Form, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from casework.administration.accounts import SIGN_IN_FILTERS, UserInput
from casework.models import Organisation, Role, Territory, User
from casework.web.form_limits import SensibleDay, row_id

ROLE_LABELS = {
    Role.CASE_MANAGER: _l("Case manager"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("Administrator"),
}
SIGN_IN_LABELS = {
    "recent": _l("Signed in within 30 days"),
    "stale": _l("Not signed in for 90 days"),
    "never": _l("Never signed in"),
}
SUBJECT_TYPE_LABELS = {
    "user": _l("Accounts"),
    "territory": _l("Territories"),
    "organisation": _l("Organisations"),
    "programme": _l("Programmes"),
    "setting": _l("Settings"),
    "sign_in": _l("Sign-in attempts"),
}


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class UserForm(FlaskForm):
    """No validators beyond the text's shape: the core's codes are shown next to the fields."""

    full_name = StringField(_l("Full name"), render_kw={"autocomplete": "off"})
    username = StringField(_l("Username"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    email = StringField(_l("E-mail address"), render_kw={"type": "email", "autocomplete": "off"})
    role = SelectField(_l("Role"), validate_choice=False)
    territory_id = SelectField(_l("Territory"), validate_choice=False)
    organisation_id = SelectField(_l("Organisation"), validate_choice=False)

    def offer(self, roles: list[Role], territories: list[Territory], organisations: list[Organisation]) -> UserForm:
        self.role.choices = _choices((role.value, ROLE_LABELS[role]) for role in roles)
        self.territory_id.choices = _choices([("", _l("Choose…"))] + [(str(t.id), t.name) for t in territories])
        self.organisation_id.choices = _choices([("", _l("None"))] + [(str(o.id), o.name) for o in organisations])
        return self

    @classmethod
    def values_of(cls, user: User) -> dict[str, Any]:
        return {"full_name": user.full_name, "username": user.username, "email": user.email, "role": user.role.value,
                "territory_id": str(user.territory_id),
                "organisation_id": str(user.organisation_id) if user.organisation_id else ""}

    def user_input(self) -> UserInput:
        return UserInput(
            username=self.username.data or "", full_name=self.full_name.data or "", email=self.email.data or "",
            role=self.role.data or "", territory_id=row_id(self.territory_id.data),
            organisation_id=row_id(self.organisation_id.data),
        )


class UserFilterForm(Form):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    role = SelectField(_l("Role"), validate_choice=False)
    territory = SelectField(_l("Territory"), validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False, choices=_choices([
        ("", _l("Any")), ("active", _l("Active")), ("inactive", _l("Not active"))]))
    signed_in = SelectField(_l("Last sign-in"), validate_choice=False)

    def offer(self, roles: list[Role], territories: list[Territory]) -> UserFilterForm:
        self.role.choices = _choices([("", _l("Any"))] + [(role.value, ROLE_LABELS[role]) for role in roles])
        self.territory.choices = _choices([("", _l("Any"))] + [(str(t.id), t.name) for t in territories])
        self.signed_in.choices = _choices([("", _l("Any"))] + [(key, SIGN_IN_LABELS[key]) for key in SIGN_IN_FILTERS])
        return self

    def chosen_role(self) -> Role | None:
        return next((role for role in Role if role.value == self.role.data), None)

    def chosen_territory(self) -> int | None:
        return row_id(self.territory.data)

    def chosen_state(self) -> bool | None:
        return {"active": True, "inactive": False}.get(self.state.data or "")

    def chosen_sign_in(self) -> str | None:
        return self.signed_in.data if self.signed_in.data in SIGN_IN_FILTERS else None


class LogFilterForm(Form):
    """The administrative log's filters (GET)."""

    actor = SelectField(_l("Who"), validate_choice=False)
    subject_type = SelectField(_l("About"), validate_choice=False, choices=_choices([("", _l("Anything"))] + list(
        SUBJECT_TYPE_LABELS.items())))
    start = DateField(_l("From"), validators=[Optional(), SensibleDay()])
    end = DateField(_l("To"), validators=[Optional(), SensibleDay()])

    def offer(self, actors: list[User]) -> LogFilterForm:
        self.actor.choices = _choices([("", _l("Anyone"))] + [(str(u.id), f"{u.full_name} ({u.username})")
                                                             for u in actors])
        return self

    def dates(self) -> tuple[date | None, date | None]:
        start = self.start.data if not self.start.errors else None
        end = self.end.data if not self.end.errors else None
        return start, end


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ForgottenPasswordForm(FlaskForm):
    identifier = StringField(_l("Username or e-mail address"), validators=[DataRequired(), Length(max=254)],
                             render_kw={"autocomplete": "username", "autofocus": True})
