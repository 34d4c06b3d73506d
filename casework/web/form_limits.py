"""What every web form shares about the person's input: limits said in numbers, one-time keys.

`TextLimit` refuses a text over its limit saying both the limit and what was written ("At most
10.000 characters (you wrote 100.000)"); WTForms puts the limit in the field's `maxlength`,
which forms.js turns into a live counter. `SubmissionKey` is the hidden one-time key of a form
that adds a record: a new one each time the form is shown, so the same form sent twice adds
one record (casework.pacts.submissions). `OptionalInput` is WTForms' `Optional` for a field whose
value a view converts: a value of only spaces is no value at all. `refuse_unstorable_characters`
answers 400 to a request carrying a character no one types (see there). `SensibleDay` refuses a
date no case could carry (year 1 or 9999), before a view turns it into UTC and overflows.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from flask import Flask, request
from flask import render_template as _render_template
from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import Length, Optional, Regexp, StopValidation, ValidationError

from casework.models.base import MAX_ID
from casework.web import context

TOO_LONG = _l("At most %(max)s characters (you wrote %(length)s).")
OUT_OF_RANGE_DAY = _l("Choose a date between %(first)s and %(last)s.")
EARLIEST_DAY = date(1900, 1, 1)  # as the birth dates and the indicators' periods
YEARS_AHEAD = 10  # a pact's goals, actions and reminders look a few years ahead at most


def row_id(value: Any) -> int | None:
    """A chosen row's id as a form sent it: None for none chosen (empty, or "None" as WTForms
    writes a choice of None); for anything no row can have (not a number, not positive, beyond
    the id columns' range) 0, which no choice and no row has, so the field's check or the core
    refuses it. Never a number the database cannot hold: it would fail there, not here."""
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= MAX_ID else 0


class TextLimit(Length):
    """Length(max=...) whose message gives the limit and the length written, as numbers are read here."""

    def __init__(self, limit: int):
        super().__init__(max=limit)

    def __call__(self, form: Any, field: Any) -> None:
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(too_long_message(self.max, length))


def too_long_message(limit: int, length: int) -> str:
    return str(TOO_LONG) % {"max": format_number(limit), "length": format_number(length)}


class OptionalInput(Optional):
    """`Optional()` that also forgets the blank it let through.

    WTForms' Optional stops the checks on a value of only spaces (and clears their errors, the
    choice check's included) but leaves the spaces in `.data`: a view that then converts it
    (`int(" ")`, an enum, a filter on stage "  ") fails or filters on nothing. Here the
    value becomes the empty string, as if the field had been left empty.
    """

    def __call__(self, form: Any, field: Any) -> None:
        try:
            super().__call__(form, field)
        except StopValidation:
            if isinstance(field.data, str):
                field.data = ""
            raise


class SensibleDay:
    """A date (or date and time) from 1900 to the end of the tenth year from now.

    Outside it a date is a typing slip (2205 for 2025), and at the extremes (0001-01-01,
    9999-12-31) a value the conversion to UTC or a count of working days cannot hold: without
    this check those answered 500. An unreadable date is its field's own error; nothing to add.
    """

    def __call__(self, form: Any, field: Any) -> None:
        value = field.data
        if not isinstance(value, date):
            return
        day = value.date() if isinstance(value, datetime) else value
        last = date(context.now().year + YEARS_AHEAD, 12, 31)
        if not EARLIEST_DAY <= day <= last:
            raise StopValidation(str(OUT_OF_RANGE_DAY) % {
                "first": f"{EARLIEST_DAY:%d/%m/%Y}", "last": f"{last:%d/%m/%Y}"})


def _new_key() -> str:
    return uuid.uuid4().hex


def submission_key_field() -> HiddenField:
    return HiddenField(default=_new_key, validators=[OptionalInput(), Regexp(r"^[0-9a-f]{32}$")])


# NUL: PostgreSQL refuses it in any text, so a filter or a note holding one failed as a 500.
# In an address (filters, links: one line each) the other control characters are never typed
# either; in a form's text they may come pasted from a word processor (a vertical tab for a
# line break) and are stored as they are.
_NOT_IN_FORMS = re.compile("\x00")
_NOT_IN_ADDRESSES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_unstorable_characters(app: Flask) -> None:
    """Before any view: a request whose parameters or form hold such a character is answered 400
    with a page saying so, and nothing is read or saved (no view runs, so nothing is half-saved)."""

    @app.before_request
    def _refuse():
        if _holds(request.args, _NOT_IN_ADDRESSES) or (request.method == "POST" and _holds(request.form, _NOT_IN_FORMS)):
            return _render_template("errors/invalid_characters.html"), 400
        return None


def _holds(values: Any, pattern: re.Pattern[str]) -> bool:
    return any(pattern.search(name) or any(pattern.search(value) for value in values.getlist(name)) for name in values)
