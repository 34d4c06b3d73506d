"""Forms of the notification list: snoozing one notification until a date and time."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms.validators import InputRequired

from casework.web.form_limits import SensibleDay

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class SnoozeForm(FlaskForm):
    until = DateTimeLocalField(_l("Snooze until"), format=LOCAL_FORMATS,
                               validators=[InputRequired(_l("Give the date and time.")), SensibleDay()])


def snooze_form(notification_id: int, **kwargs) -> SnoozeForm:
    """One form per notification on the list: the prefix keeps field names and ids distinct."""
    return SnoozeForm(prefix=f"snooze-{notification_id}", **kwargs)
