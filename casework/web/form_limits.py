"""What every web form shares about the person's input: limits said in numbers, one-time keys.

`TextLimit` refuses a text over its limit saying both the limit and what was written ("At most
10.000 characters (you wrote 100.000)"); WTForms puts the limit in the field's `maxlength`,
which forms.js turns into a live counter. `SubmissionKey` is the hidden one-time key of a form
that adds a record: a new one each time the form is shown, so the same form sent twice adds
one record (casework.pacts.submissions). `OptionalInput` is WTForms' `Optional` for a field whose
value a view converts: a value of only spaces is no value at all.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField
from wtforms.validators import Length, Optional, Regexp, StopValidation, ValidationError

TOO_LONG = _l("At most %(max)s characters (you wrote %(length)s).")


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


def _new_key() -> str:
    return uuid.uuid4().hex


def submission_key_field() -> HiddenField:
    return HiddenField(default=_new_key, validators=[OptionalInput(), Regexp(r"^[0-9a-f]{32}$")])
