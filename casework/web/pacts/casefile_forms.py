"""Forms of the case file: journal, équipe, documents.

Each form has a prefix, so its fields keep distinct names and ids on the pact page next
to the pact's own forms.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired

from casework.models import DocumentKind, JournalKind
from casework.models import labels as model_labels
from casework.pacts.casefile import MAX_JOURNAL_TEXT
from casework.web.filters import lazy_labels
from casework.web.form_limits import SensibleDay, TextLimit, submission_key_field

JOURNAL_KINDS = lazy_labels(model_labels.JOURNAL_KINDS)
DOCUMENT_KINDS = lazy_labels(model_labels.DOCUMENT_KINDS)
ACCEPTED_FILES = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"


class VersionedForm(FlaskForm):
    """A form that changes the pact: it carries the version the person read."""

    version = HiddenField()

    @property
    def expected_version(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None


class JournalForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in JOURNAL_KINDS.items()],
                       default=JournalKind.NOTE.value, validators=[InputRequired()])
    at = DateTimeLocalField(_l("Date and time"), format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                            validators=[InputRequired(_l("Give the date and time.")), SensibleDay()])
    text = TextAreaField(_l("What happened"), render_kw={"rows": 4},
                         validators=[DataRequired(_l("Write what happened.")), TextLimit(MAX_JOURNAL_TEXT)])
    submission_key = submission_key_field()


class ColleagueForm(VersionedForm):
    user = SelectField(_l("Colleague"), coerce=int, validators=[InputRequired(_l("Choose a colleague."))])
    role = StringField(_l("Role in the équipe"),
                       validators=[DataRequired(_l("Write the role in the équipe.")), TextLimit(80)])


class ExternalMemberForm(VersionedForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Write the name.")), TextLimit(160)])
    role = StringField(_l("Role (e.g. teacher, mediator)"),
                       validators=[DataRequired(_l("Write the role in the équipe.")), TextLimit(80)])
    organisation = StringField(_l("Organisation"), validators=[TextLimit(200)])
    contact = StringField(_l("Phone or e-mail"), validators=[TextLimit(200)])


class RemoveMemberForm(VersionedForm):
    member = HiddenField(validators=[InputRequired()])

    @property
    def member_id(self) -> int | None:
        try:
            return int(self.member.data)
        except (TypeError, ValueError):
            return None


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), choices=[SelectChoice(k.value, label) for k, label in DOCUMENT_KINDS.items()],
                       default=DocumentKind.OTHER.value, validators=[InputRequired()])
    file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ACCEPTED_FILES})


def journal_form(**kwargs) -> JournalForm:
    return JournalForm(prefix="journal", **kwargs)


def colleague_form(**kwargs) -> ColleagueForm:
    return ColleagueForm(prefix="colleague", **kwargs)


def external_member_form(**kwargs) -> ExternalMemberForm:
    return ExternalMemberForm(prefix="external", **kwargs)


def remove_member_form(**kwargs) -> RemoveMemberForm:
    return RemoveMemberForm(prefix="remove", **kwargs)


def document_form(**kwargs) -> DocumentForm:
    return DocumentForm(prefix="document", **kwargs)
