"""The indicators filter: programme, territory and period, sent by GET so a view can be bookmarked.

The form turns text into values; whether the programme and territory are the reader's and
the period runs forwards is decided by casework.reporting.indicators, whose codes are shown here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired
from wtforms.widgets import TextInput

from casework.models import Programme, Territory
from casework.reporting.period import IndicatorScope
from casework.web.form_limits import row_id

REQUIRED_DATE = _l("Enter a date as dd/mm/yyyy.")
ERROR_MESSAGES = {
    "before_start": _l("The end of the period cannot come before its start."),
    "out_of_range": _l("Choose a date between 1900 and 2999."),
    "period_too_long": _l("The period can last at most 10 years."),
    "not_an_option": _l("Choose one of the options."),
    "programme_required": _l("Choose a programme to produce its funder report."),
}
FIELDS = ("programme", "territory", "start", "end")


def error_message(code: str) -> str:
    return str(ERROR_MESSAGES.get(code, _l("This value is not valid.")))


class PeriodDayField(DateField):
    """A required day typed as Italians write it (dd/mm/yyyy); ISO dates (as in links) too."""

    widget = TextInput()

    def __init__(self, label: Any, **kwargs: Any):
        super().__init__(
            label, format=["%d/%m/%Y", "%Y-%m-%d"], validators=[InputRequired(message=REQUIRED_DATE)],
            invalid_value_message=_l("Write the date as dd/mm/yyyy, e.g. 17/05/1990."),
            render_kw={"autocomplete": "off", "inputmode": "numeric"}, **kwargs,
        )

    def _value(self) -> str:
        # Shown back as dd/mm/yyyy whichever way it was typed or linked.
        if self.raw_data and self.errors:
            return self.raw_data[0]
        return self.data.strftime("%d/%m/%Y") if isinstance(self.data, date) else ""


class IndicatorFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads: nothing to forge, and its address can be shared

    programme = SelectField(_l("Programme"), coerce=row_id, choices=[],
                            invalid_choice_message=_l("Choose one of the programmes in the list."))
    territory = SelectField(_l("Territory"), coerce=row_id, choices=[],
                            invalid_choice_message=_l("Choose one of the territories in the list."))
    start = PeriodDayField(_l("From"))
    end = PeriodDayField(_l("To"))

    @classmethod
    def from_query(cls, args: Mapping[str, Any], *, first_day: date, last_day: date) -> IndicatorFilterForm:
        """The filter as the address gives it; a period not given at all is `first_day`..`last_day`."""
        formdata: MultiDict[str, str] = MultiDict({"start": first_day.isoformat(), "end": last_day.isoformat()})
        for name in FIELDS:
            if name in args:
                formdata.setlist(name, args.getlist(name) if hasattr(args, "getlist") else [args[name]])
        return cls(formdata=formdata)

    def offer(self, programmes: Iterable[Programme], territories: Iterable[Territory]) -> IndicatorFilterForm:
        self.programme.choices = [SelectChoice("", _l("All programmes")),
                                  *(SelectChoice(str(p.id), p.name) for p in programmes)]
        self.territory.choices = [SelectChoice("", _l("All territories")),
                                  *(SelectChoice(str(t.id), t.name) for t in territories)]
        return self

    def scope(self) -> IndicatorScope:
        return IndicatorScope(programme_id=self.programme.data, territory_id=self.territory.data,
                              start=self.start.data, end=self.end.data)

    def query_args(self) -> dict[str, str]:
        """The filter as address parameters, for links to exports and the funder report."""
        args = {"start": self.start.data.isoformat(), "end": self.end.data.isoformat()}
        if self.programme.data is not None:
            args["programme"] = str(self.programme.data)
        if self.territory.data is not None:
            args["territory"] = str(self.territory.data)
        return args

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Put the core's error codes next to their fields."""
        for name, code in errors.items():
            field = self[name] if name in FIELDS else self.end
            field.errors = [*field.errors, error_message(code)]
