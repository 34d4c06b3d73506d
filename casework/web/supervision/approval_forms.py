"""Forms of the approvals queue: approve a pact's revision, or send it back saying what to change.

Like the pact page's forms they carry the pact version the supervisor read, and leave the
CSRF token to CSRFProtect (see casework.web.pacts.forms).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from casework.web.pacts.forms import PactForm, error_message

APPROVE = "approve"
SEND_BACK = "send_back"

ERROR_MESSAGES = {
    "own_revision": _l("You prepared this revision: another supervisor must approve it."),
    "not_waiting": _l("This pact is no longer waiting for approval: the queue below is up to date."),
    "required": _l("Say what needs to change: the case manager reads it."),
}


class ApproveForm(PactForm):
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=4000)])


class SendBackForm(PactForm):
    comment = TextAreaField(_l("What needs to change"),
                            validators=[DataRequired(message=ERROR_MESSAGES["required"]), Length(max=4000)])


FORMS = {APPROVE: ApproveForm, SEND_BACK: SendBackForm}


def decision_form(kind: str, pact_id: int, formdata: Any = None, **data: Any) -> ApproveForm | SendBackForm:
    """One form per pact and decision on the queue: the prefix keeps field names and ids distinct."""
    return FORMS[kind](formdata=formdata, prefix=f"{kind}-{pact_id}", data=data)


def approval_error(code: str) -> str:
    return str(ERROR_MESSAGES[code]) if code in ERROR_MESSAGES else error_message(code)
