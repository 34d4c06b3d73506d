"""The quick actions of Oggi: a follow-up contact and a reminder put off, each for one pact."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from casework.reminders import MAX_SNOOZE_REASON
from casework.web.form_limits import SensibleDay
from casework.web.pacts.forms import REQUIRED, ContactForm


class QuickContactForm(ContactForm):
    """The pact page's contact form, without the pact's version: a contact added from a list
    conflicts with nothing another person saved meanwhile."""

    version = None
    next = HiddenField()


class SnoozeForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has checked the request already

    # Hidden: blank or foreign only when the page's deadline is gone (or the request forged).
    rule_id = HiddenField(validators=[InputRequired(
        message=_l("This deadline has changed meanwhile: go back to the list and look at it again."))])
    until_on = DateField(_l("Remind me again on"), validators=[InputRequired(message=REQUIRED), SensibleDay()])
    reason = TextAreaField(_l("Reason (optional)"), validators=[
        Optional(), Length(max=MAX_SNOOZE_REASON, message=_l("At most %(max)d characters.", max=MAX_SNOOZE_REASON)),
    ])
    next = HiddenField()


def quick_contact_form(formdata: Any = None, **data: Any) -> QuickContactForm:
    return QuickContactForm(formdata=formdata, prefix="contact", data=data)


def snooze_form(formdata: Any = None, *, first_day: date | None = None, **data: Any) -> SnoozeForm:
    """`first_day`: the earliest day the date picker offers (tomorrow)."""
    form = SnoozeForm(formdata=formdata, prefix="snooze", data=data)
    if first_day is not None:
        form.until_on.render_kw = {"min": first_day.isoformat()}
    return form
