"""Forms for restricting the processing of a person's data and lifting the restriction: a reason
each (casework.people.restriction checks it is given; these only bound its length)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField

from casework.models.restriction import MAX_RESTRICTION_REASON
from casework.web.form_limits import TextLimit


class RestrictionForm(FlaskForm):
    reason = StringField(_l("Reason for the restriction"), validators=[TextLimit(MAX_RESTRICTION_REASON)],
                         description=_l("E.g. the person contests the accuracy of their data (request of 3/12/2026)."))


class LiftRestrictionForm(FlaskForm):
    reason = StringField(_l("Reason for lifting the restriction"), validators=[TextLimit(MAX_RESTRICTION_REASON)],
                         description=_l("E.g. the data were corrected, or the person withdrew the request."))
