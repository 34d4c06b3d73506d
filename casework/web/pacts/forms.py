"""The pact page's forms, the words for the pact's codes, and the messages for the core's error codes.

Every form carries the pact `version` the person read. Forms have a prefix, so that the
many forms of the one page never share an element id. They do not check a CSRF token of
their own: CSRFProtect checks the request's token on every POST before the view runs, and
a prefixed per-form token would only duplicate it under another name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from casework.models import labels as model_labels
from casework.pacts.page import Choice, QuestionView, SectionView
from casework.web.filters import lazy_labels
from casework.web.form_limits import SensibleDay, TextLimit, submission_key_field

REQUIRED = _l("This field is required.")
ANSWER_REQUIRED = _l("Answer this question.")
CHOOSE = _l("Choose…")
RADIO_LIMIT = 5  # more options than this read better as a drop-down list

REFERRAL_SOURCES = lazy_labels(model_labels.REFERRAL_SOURCES)
PERFORMERS = lazy_labels(model_labels.PERFORMERS)
ACTION_STATUSES = lazy_labels(model_labels.ACTION_STATUSES)
GOAL_STATUSES = lazy_labels(model_labels.GOAL_STATUSES)
CHANNELS = lazy_labels(model_labels.CONTACT_CHANNELS)
GOALS_ACHIEVED = lazy_labels(model_labels.GOALS_ACHIEVED)
PRIORITIES = lazy_labels(model_labels.PRIORITIES)


def code_labels() -> dict[str, dict[str, Any]]:
    """Code -> words for each kind of code the page shows (the templates look them up)."""
    kinds = {
        "referral_source": REFERRAL_SOURCES, "performer": PERFORMERS, "action_status": ACTION_STATUSES,
        "goal_status": GOAL_STATUSES, "channel": CHANNELS, "goals_achieved": GOALS_ACHIEVED, "priority": PRIORITIES,
    }
    return {kind: {member.value: label for member, label in labels.items()} for kind, labels in kinds.items()}


# The core's InvalidInput codes, in words.
ERROR_MESSAGES = {
    "required": REQUIRED,
    "in_future": _l("This date is in the future."),
    "before_opening": _l("This is before the pact was opened."),
    "before_contact": _l("The next contact cannot come before this contact."),
    "consent_required": _l("The beneficiary's consent to data processing is required."),
    "no_goal": _l("The pact has no goal yet: add at least one."),
    "no_action": _l("The pact has no action yet: add at least one."),
    "not_an_option": _l("Choose one of the options."),
    "not_a_number": _l("Enter a whole number."),
    "out_of_range": _l("Choose a value within the scale."),
    "not_boolean": _l("Answer yes or no."),
    "not_in_pact": _l("Choose a goal of this pact."),
    "unchanged": _l("Nothing has changed since the last signed revision: there is nothing new to sign."),
    "already_signed": _l("This version of the pact is already signed."),
    "before_draft": _l("The signature cannot come before the day the pact was prepared for signature."),
    "not_defined": _l("This workflow has no screening questionnaire."),
    "unknown_reason": _l("Choose one of the reasons listed."),
}
CHOOSE_REASON = _l("Choose a reason.")


def error_message(code: str) -> str:
    return str(ERROR_MESSAGES.get(code, _l("This value is not valid.")))


def _options(choices: Iterable[Choice], *, blank: Any = None) -> list[SelectChoice]:
    return ([SelectChoice("", blank)] if blank else []) + [SelectChoice(c.value, c.label) for c in choices]


def _choices(labels: Mapping[enum.Enum, Any], *, blank: bool = True) -> list[SelectChoice]:
    return _options((Choice(member.value, label) for member, label in labels.items()), blank=CHOOSE if blank else None)


class PactForm(FlaskForm):
    class Meta:
        csrf = False  # see the module docstring: CSRFProtect has checked the request already

    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def keep_input_at(self, version: int) -> None:
        """Keep what the person typed, but against the pact as it is now, for them to save again."""
        self.version.data = version
        self.version.raw_data = [str(version)]


class ReferralForm(PactForm):
    source = SelectField(_l("Referred by"), choices=_choices(REFERRAL_SOURCES),
                         validators=[InputRequired(message=REQUIRED)])
    reason = TextAreaField(_l("Reason for the referral"), validators=[InputRequired(message=REQUIRED), Length(max=4000)])
    referrer_name = StringField(_l("Name of the person who referred"), validators=[Optional(), Length(max=160)])
    referrer_contact = StringField(_l("Their phone or e-mail"), validators=[Optional(), Length(max=200)])
    referred_on = DateField(_l("Referred on"), validators=[InputRequired(message=REQUIRED), SensibleDay()])


class GoalForm(PactForm):
    description = TextAreaField(_l("Goal"), validators=[InputRequired(message=REQUIRED), Length(max=2000)])
    need_area = SelectField(_l("Need area"), choices=[])
    target_date = DateField(_l("Target date"), validators=[Optional(), SensibleDay()])


class ActionForm(PactForm):
    description = TextAreaField(_l("Action"), validators=[InputRequired(message=REQUIRED), Length(max=2000)])
    performer = SelectField(_l("Who does it"), choices=_choices(PERFORMERS), validators=[InputRequired(message=REQUIRED)])
    performer_detail = StringField(_l("Which service or person"), validators=[Optional(), Length(max=200)])
    due_on = DateField(_l("Due by"), validators=[Optional(), SensibleDay()])
    goal = SelectField(_l("Goal it serves"), choices=[])


class CommitmentForm(PactForm):
    party = SelectField(_l("Who commits"), choices=_choices(PERFORMERS), validators=[InputRequired(message=REQUIRED)])
    text = TextAreaField(_l("Commitment"), validators=[InputRequired(message=REQUIRED), Length(max=2000)])


class ActionStatusForm(PactForm):
    status = SelectField(_l("Status"), choices=_choices(ACTION_STATUSES, blank=False))


class GoalStatusForm(PactForm):
    status = SelectField(_l("Status"), choices=_choices(GOAL_STATUSES, blank=False))


class VersionForm(PactForm):
    """A change that needs nothing but the version read: preparing a revision, removing an item."""


class SignatureForm(PactForm):
    signed_on = DateField(_l("Signed on"), validators=[InputRequired(message=REQUIRED), SensibleDay()])
    signed_by = StringField(_l("Signed by (names of the people who signed)"),
                            validators=[InputRequired(message=REQUIRED), Length(max=300)])
    consent_given = BooleanField(
        _l("The beneficiary gave consent to the processing of their personal data, as described in the pact"),
        validators=[DataRequired(message=ERROR_MESSAGES["consent_required"])],
    )


class ContactForm(PactForm):
    contact_at = DateTimeLocalField(_l("Date and time of the contact"), format="%Y-%m-%dT%H:%M",
                                    validators=[InputRequired(message=REQUIRED), SensibleDay()])
    channel = SelectField(_l("Channel"), choices=_choices(CHANNELS), validators=[InputRequired(message=REQUIRED)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), TextLimit(4000)])
    next_contact_on = DateField(_l("Next contact planned on"), validators=[Optional(), SensibleDay()])
    submission_key = submission_key_field()


class OutcomeForm(PactForm):
    outcome = SelectField(_l("Outcome"), choices=[], validators=[InputRequired(message=REQUIRED)])
    goals_achieved = RadioField(_l("Goals achieved"), choices=_choices(GOALS_ACHIEVED, blank=False),
                                validators=[InputRequired(message=REQUIRED)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])


class TransitionForm(PactForm):
    event = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    # Choices and validators are the event's (see transition_form): the event is in the same form.
    reason = SelectField(_l("Reason"), choices=[], validate_choice=False)


def transition_form(reasons: Iterable[Choice], formdata: Any = None, **data: Any) -> TransitionForm:
    """The move form for one event: a reason from `reasons` is required when there are any, refused otherwise."""
    form = TransitionForm(formdata=formdata, data=data)
    reasons = list(reasons)
    form.reason.choices = _options(reasons, blank=CHOOSE)
    codes = [choice.value for choice in reasons]
    presence = InputRequired(message=CHOOSE_REASON) if codes else Optional()
    form.reason.validators = [presence, AnyOf(codes, message=ERROR_MESSAGES["unknown_reason"])]
    return form


def referral_form(formdata: Any = None, **data: Any) -> ReferralForm:
    return ReferralForm(formdata=formdata, prefix="referral", data=data)


def goal_form(need_areas: Iterable[Choice], formdata: Any = None, **data: Any) -> GoalForm:
    form = GoalForm(formdata=formdata, prefix="goal", data=data)
    form.need_area.choices = _options(need_areas, blank=_l("No particular area"))
    return form


def action_form(goals: Iterable[Choice], formdata: Any = None, **data: Any) -> ActionForm:
    form = ActionForm(formdata=formdata, prefix="action", data=data)
    form.goal.choices = _options(goals, blank=_l("No particular goal"))
    return form


def commitment_form(formdata: Any = None, **data: Any) -> CommitmentForm:
    return CommitmentForm(formdata=formdata, prefix="commitment", data=data)


def signature_form(formdata: Any = None, **data: Any) -> SignatureForm:
    return SignatureForm(formdata=formdata, prefix="signature", data=data)


def contact_form(formdata: Any = None, **data: Any) -> ContactForm:
    return ContactForm(formdata=formdata, prefix="contact", data=data)


def outcome_form(outcomes: Iterable[Choice], formdata: Any = None, **data: Any) -> OutcomeForm:
    form = OutcomeForm(formdata=formdata, prefix="outcome", data=data)
    form.outcome.choices = _options(outcomes, blank=CHOOSE)
    return form


@dataclass(frozen=True)
class FormSection:
    label: str
    fields: tuple[str, ...]  # names of the form's fields, one per question


BOOLEAN_CHOICES = [SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))]


def question_field_name(question_id: str) -> str:
    # Question ids come from a file: a prefix keeps them clear of the form's own attributes.
    return f"q_{question_id}"


def _question_field(question: QuestionView) -> Any:
    presence = InputRequired(message=ANSWER_REQUIRED) if question.required else Optional()
    description = question.need_area_label
    if question.type == "choice":
        if len(question.options) > RADIO_LIMIT:
            return SelectField(question.label, choices=_options(question.options, blank=CHOOSE),
                               validators=[presence], description=description)
        return RadioField(question.label, choices=_options(question.options), validators=[presence],
                          description=description)
    if question.type == "boolean":
        return RadioField(question.label, choices=BOOLEAN_CHOICES, validators=[presence], description=description)
    if question.type == "scale":
        return SelectField(question.label, choices=_options(question.steps, blank=CHOOSE), validators=[presence],
                           description=description)
    if question.type == "number":
        return IntegerField(question.label, validators=[presence], description=description)
    return TextAreaField(question.label, validators=[presence, Length(max=4000)], description=description)


def _initial(question: QuestionView, answer: Any) -> Any:
    if answer is None:
        return None
    if question.type == "boolean":
        return "yes" if answer else "no"
    if question.type == "scale":
        return str(answer)
    return answer


def screening_form(sections: tuple[SectionView, ...], answers: Mapping[str, Any] | None, formdata: Any = None,
                   *, version: int | None = None) -> PactForm:
    """The scheda di screening as the workflow file defines it, pre-filled with the last answers."""
    fields: dict[str, Any] = {}
    data: dict[str, Any] = {"version": version}
    layout = []
    for section in sections:
        names = []
        for question in section.questions:
            name = question_field_name(question.id)
            fields[name] = _question_field(question)
            data[name] = _initial(question, (answers or {}).get(question.id))
            names.append(name)
        layout.append(FormSection(label=section.label, fields=tuple(names)))
    form_class = type("ScreeningForm", (PactForm,), fields)
    form = form_class(formdata=formdata, prefix="screening", data=data)
    form.layout = tuple(layout)
    return form


def screening_answers(form: PactForm, sections: tuple[SectionView, ...]) -> dict[str, Any]:
    """The answers as the core scores them (it checks them against the questionnaire again)."""
    answers = {}
    for section in sections:
        for question in section.questions:
            value = form[question_field_name(question.id)].data
            if value is not None and value != "":
                answers[question.id] = value
    return answers
