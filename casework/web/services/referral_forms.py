"""Forms of the pact's "Servizi" part: a step of a referral, consent, provider contact, linked
action, proposing a suggested service.

Each form has a prefix naming its referral (and step), so the many forms of the one page
never share an element id. Like the pact page's forms they check no CSRF token of their own:
CSRFProtect checks the request's token on every POST before the view runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import HiddenInput

from casework.models import ConsentLegalBasis
from casework.models.base import MAX_ID
from casework.models.labels import CONSENT_LEGAL_BASES
from casework.services.pact_services import Choice, StepView
from casework.services.referrals import MAX_NOTE, MAX_PROVIDER_CONTACT, MAX_PURPOSE
from casework.web.filters import lazy_labels
from casework.web.form_limits import SensibleDay, TextLimit

REQUIRED = _l("This field is required.")
CHOOSE = _l("Choose…")
LEGAL_BASIS_LABELS = lazy_labels(CONSENT_LEGAL_BASES)

# The core's InvalidInput codes, per field, in words.
ERROR_MESSAGES = {
    ("reason", "required"): _l("Choose the reason."),
    ("reason", "not_an_option"): _l("Choose one of the reasons listed."),
    ("on", "required"): _l("Give the day the service started."),
    ("note", "too_long"): _l("The note is too long: at most 2,000 characters."),
    ("consent", "required"): _l(
        "The beneficiary's consent to share data with this organisation is needed before the request: record it first."
    ),
    ("consent", "unknown"): _l("This consent is not one of this referral's."),
    ("consent", "already_withdrawn"): _l("This consent was already withdrawn."),
    ("event", "not_possible"): _l("This step is not possible at the referral's current status: reload the page."),
    ("pact", "closed"): _l("The pact is closed: its referrals no longer change."),
    ("given_on", "required"): _l("Give the day the consent was given."),
    ("given_on", "in_future"): _l("The day the consent was given cannot be in the future."),
    ("on", "in_future"): _l("The service cannot have started on a day still to come."),
    ("on", "before_request"): _l("The service cannot have started before the request was sent."),
    ("on", "in_past"): _l("The agreed start cannot be a day already past."),
    ("purpose", "required"): _l("Write what the data are shared for."),
    ("purpose", "too_long"): _l("The purpose is too long: at most 1,000 characters."),
    ("legal_basis", "required"): _l("Choose the legal basis of the sharing."),
    ("legal_basis", "not_an_option"): _l("Choose one of the legal bases listed."),
    ("provider_contact", "too_long"): _l("The contact is too long: at most 300 characters."),
    ("action", "not_in_pact"): _l("Choose an action of this pact."),
    ("service", "unknown"): _l("This service is not in the directory."),
    ("service", "inactive"): _l("This service is no longer active."),
    ("service", "already_open"): _l("The pact already has an open referral to this service."),
}


def error_message(field: str, code: str) -> Any:
    return ERROR_MESSAGES.get((field, code), _l("This value is not accepted."))


class ServicesForm(FlaskForm):
    class Meta:
        csrf = False  # CSRFProtect has checked the request already


class ReferralVersionForm(ServicesForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def keep_input_at(self, version: int) -> None:
        """Keep what the person typed, against the referral as it is now, for them to save again."""
        self.version.data = version
        self.version.raw_data = [str(version)]


class StepForm(ReferralVersionForm):
    # Choices and whether they are required are the step's (see step_form).
    reason = SelectField(_l("Reason"), choices=[], validate_choice=False)
    on = DateField(_l("Day"), validators=[Optional(), SensibleDay()])
    note = TextAreaField(_l("Note (optional)"), render_kw={"rows": 2}, validators=[Optional(), TextLimit(MAX_NOTE)])


class ConsentForm(ServicesForm):
    # The referral's version as the page showed it: a consent recorded from an old page is a conflict.
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])
    given_on = DateField(_l("Consent given on"), validators=[InputRequired(_l("Give the day the consent was given.")), SensibleDay()])
    purpose = TextAreaField(_l("Purpose of sharing the data"), render_kw={"rows": 2},
                            validators=[InputRequired(_l("Write what the data are shared for.")),
                                        TextLimit(MAX_PURPOSE)])
    # Checked by the core (its codes in ERROR_MESSAGES): a missing or unknown basis gets its
    # message next to the field like any other refusal.
    legal_basis = SelectField(
        _l("Legal basis"), validate_choice=False,
        choices=[SelectChoice("", CHOOSE), *(SelectChoice(basis.value, LEGAL_BASIS_LABELS[basis])
                                              for basis in ConsentLegalBasis)],
    )


class WithdrawConsentForm(ServicesForm):
    consent = IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=1, max=MAX_ID)])
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])


class ContactForm(ReferralVersionForm):
    provider_contact = StringField(_l("Contact person at the service"),
                                   validators=[Optional(), TextLimit(MAX_PROVIDER_CONTACT)])


class LinkForm(ReferralVersionForm):
    action = SelectField(_l("Action of the pact"), choices=[], validate_choice=False)


class ProposeForm(ServicesForm):
    # The service comes in a field of its own ("service"): it names the form's prefix too.
    need_area = StringField(widget=HiddenInput(), validators=[Optional()])


def _options(choices: Iterable[Choice], blank: Any) -> list[SelectChoice]:
    return [SelectChoice("", blank), *(SelectChoice(choice.value, choice.label) for choice in choices)]


def step_form(referral_id: int, step: StepView, formdata: Any = None, **data: Any) -> StepForm:
    form = StepForm(formdata=formdata, prefix=f"referral-{referral_id}-{step.event}", data=data)
    form.reason.choices = _options(step.reasons, CHOOSE)
    if step.reasons:
        form.reason.validators = [InputRequired(_l("Choose the reason."))]
    if step.day_label:
        form.on.label.text = step.day_label
    if step.day_required:
        form.on.validators = [InputRequired(_l("Give the day the service started."))]
    return form


def consent_form(referral_id: int, formdata: Any = None, **data: Any) -> ConsentForm:
    """The form recording a consent; a fresh one proposes the person's consent as the basis (what
    the social worker collects at the desk), which they change for a public task or a legal duty."""
    return ConsentForm(formdata=formdata, prefix=f"consent-{referral_id}", data=data)


def withdraw_form(referral_id: int, formdata: Any = None, **data: Any) -> WithdrawConsentForm:
    return WithdrawConsentForm(formdata=formdata, prefix=f"withdraw-{referral_id}", data=data)


def contact_form(referral_id: int, formdata: Any = None, **data: Any) -> ContactForm:
    return ContactForm(formdata=formdata, prefix=f"contact-{referral_id}", data=data)


def link_form(referral_id: int, actions: Iterable[Choice], formdata: Any = None, **data: Any) -> LinkForm:
    form = LinkForm(formdata=formdata, prefix=f"link-{referral_id}", data=data)
    form.action.choices = _options(actions, _l("No action"))
    return form


def propose_form(service_id: int, formdata: Any = None, **data: Any) -> ProposeForm:
    return ProposeForm(formdata=formdata, prefix=f"propose-{service_id}", data=data)
