"""The pact's "Servizi" part: its referrals to services, their steps, consent and contacts.

The pact page's view gets the part from `services_part(pact)` (the core's `pact_services_panel`
with this part's forms) and includes `services/_pact_services.html`. Each
POST parses one form, calls one core operation with the version the person read, and goes
back to the part with a message naming the service; bad input answers 422 and a stale form
409, on a page of their own showing the part with the person's input and the errors next to
the fields (like the case file's forms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.models import ConsentLegalBasis, Pact, ServiceReferral
from casework.models.labels import SERVICE_REFERRAL_STATUSES
from casework.security import log_access
from casework.services import (
    ReferralRefused,
    advance_referral,
    link_action,
    pact_services_panel,
    propose_referral,
    record_consent,
    set_provider_contact,
    withdraw_consent,
)
from casework.services.pact_services import (
    Choice,
    ReferralView,
    ServicesPanel,
    StepView,
    SuggestionView,
)
from casework.services.referrals import next_status
from casework.web import context, saving
from casework.web.form_limits import row_id
from casework.web.filters import in_sentence
from casework.web.services import referral_forms as forms

blueprint = Blueprint("service_referrals", __name__)
ANCHOR = "services"

CONFLICT_MESSAGE = _l(
    "Someone else changed this referral while you were working on it. Nothing was saved: "
    "check it below and submit again."
)
STALE_FORM_MESSAGE = _l("This form is incomplete or out of date: reload the page and try again.")


# --- What the template loops over ---------------------------------------------------------


@dataclass(frozen=True)
class StepCard:
    step: StepView
    form: forms.StepForm
    url: str
    opened: bool  # the refused one: shown opened


@dataclass(frozen=True)
class ReferralCard:
    view: ReferralView
    steps: tuple[StepCard, ...]
    consent_form: forms.ConsentForm | None  # None when a consent is recorded or nothing may change
    consent_url: str
    withdraw_form: forms.WithdrawConsentForm | None
    withdraw_url: str
    contact_form: forms.ContactForm | None
    contact_url: str
    link_form: forms.LinkForm | None
    link_url: str
    alerts: tuple[str, ...]  # messages about a refused form of this referral, no field of its own
    consent_open: bool  # the refused form is shown opened
    contact_open: bool
    link_open: bool


@dataclass(frozen=True)
class SuggestionCard:
    view: SuggestionView
    form: forms.ProposeForm
    url: str


@dataclass(frozen=True)
class ServicesPart:
    pact_id: int
    panel: ServicesPanel
    cards: tuple[ReferralCard, ...]
    suggestions: tuple[SuggestionCard, ...]


def _locale() -> str:
    return str(get_locale())


def _panel(pact: Pact) -> ServicesPanel:
    return pact_services_panel(context.db(), context.actor(), pact, context.now(), context.settings().zone, _locale(),
                               registry=context.registry())


def _part(pact: Pact, bound: dict[str, Any] | None = None, alerts: dict[int, list[str]] | None = None) -> ServicesPart:
    """The part's data; `bound` holds the refused form (by prefix) to show with the person's input."""
    panel = _panel(pact)
    bound = bound or {}
    alerts = alerts or {}
    today = context.now().astimezone(context.settings().zone).date()
    cards = []
    for view in panel.referrals:
        changeable = panel.may_act and view.is_open

        def pick(prefix: str, fresh: Callable[[], Any]) -> Any:
            return bound.get(prefix) or fresh()

        steps = tuple(
            StepCard(step=step, form=pick(f"referral-{view.id}-{step.event}",
                                          lambda step=step: forms.step_form(view.id, step, version=view.version)),
                     url=url_for("service_referrals.step", pact_id=pact.id, referral_id=view.id, event=step.event),
                     opened=f"referral-{view.id}-{step.event}" in bound)
            for step in view.steps
        )
        cards.append(ReferralCard(
            view=view, steps=steps,
            consent_form=pick(f"consent-{view.id}", lambda view=view: forms.consent_form(
                view.id, given_on=today, purpose=view.consent_purpose, version=view.version,
                legal_basis=ConsentLegalBasis.CONSENT.value))
            if changeable and view.consent is None else None,
            consent_url=url_for("service_referrals.consent", pact_id=pact.id, referral_id=view.id),
            withdraw_form=forms.withdraw_form(view.id, consent=view.consent.id, version=view.version)
            if panel.may_act and view.consent is not None else None,
            withdraw_url=url_for("service_referrals.withdraw", pact_id=pact.id, referral_id=view.id),
            contact_form=pick(f"contact-{view.id}", lambda view=view: forms.contact_form(
                view.id, version=view.version, provider_contact=view.provider_contact)) if changeable else None,
            contact_url=url_for("service_referrals.contact", pact_id=pact.id, referral_id=view.id),
            link_form=pick(f"link-{view.id}", lambda view=view: forms.link_form(
                view.id, panel.actions, version=view.version, action=str(view.action_id or "")))
            if changeable and panel.actions else None,
            link_url=url_for("service_referrals.link", pact_id=pact.id, referral_id=view.id),
            alerts=tuple(alerts.get(view.id, ())),
            consent_open=f"consent-{view.id}" in bound, contact_open=f"contact-{view.id}" in bound,
            link_open=f"link-{view.id}" in bound,
        ))
    propose_url = url_for("service_referrals.propose", pact_id=pact.id)
    suggestions = tuple(
        SuggestionCard(view=view, form=forms.propose_form(view.service_id, need_area=view.need_area), url=propose_url)
        for view in panel.suggestions
    )
    return ServicesPart(pact_id=pact.id, panel=panel, cards=tuple(cards), suggestions=suggestions)


def services_part(pact: Pact) -> ServicesPart:
    """The pact page's services part, for a pact the view already found visible to the reader."""
    return _part(pact)


def _form_page(pact: Pact, status: int, *, referral_id: int | None = None, form: Any = None,
               messages: list[str] | None = None) -> tuple[str, int]:
    """The part again, the refused form opened with its errors, on a page of its own."""
    saving.roll_back()  # nothing half-done may ride along with the access-log commit
    log_access(context.db(), context.actor(), "view", "pact", pact.id, now=context.now(),
               ip_address=context.client_ip(), detail="services form")
    saving.commit()
    bound = {form._prefix.rstrip("-"): form} if form is not None else {}
    alerts = {referral_id: messages or []} if referral_id is not None else {}
    return render_template(
        "services/form_page.html", pact=pact, services=_part(pact, bound, alerts),
        messages=messages if referral_id is None else [],
        back_url=url_for("pacts.show", pact_id=pact.id, _anchor=ANCHOR),
    ), status


def _referral(pact: Pact, referral_id: int) -> ServiceReferral:
    referral = context.db().get(ServiceReferral, referral_id)
    if referral is None or referral.pact_id != pact.id:
        abort(404)
    return referral


def _attach(form: Any, error: InvalidInput, field_names: dict[str, str] | None = None) -> list[str]:
    """The core's errors next to their fields; returns those of no field of the form."""
    general = []
    for field, code in error.errors.items():
        name = (field_names or {}).get(field, field)
        message = forms.error_message(field, code)
        if name in form and getattr(form[name].widget, "input_type", "") != "hidden":
            form[name].errors = [*form[name].errors, message]
        else:
            general.append(str(message))
    return general


def _forbidden(error: ReferralRefused) -> ResponseReturnValue:
    abort(403)


def _save(pact: Pact, referral: ServiceReferral | None, form: Any, write: Callable[[], object], *,
          success: Callable[[], str], field_names: dict[str, str] | None = None) -> ResponseReturnValue:
    referral_id = referral.id if referral is not None else None
    if not form.validate():
        # A hidden field refused (the version, the consent's id) is a page out of date or tampered with.
        hidden = [field for field in form if getattr(field.widget, "input_type", "") == "hidden" and field.errors]
        stale = [str(STALE_FORM_MESSAGE)] if hidden else []
        return _form_page(pact, 422, referral_id=referral_id, form=form, messages=stale)

    def conflict(error: Conflict) -> tuple[str, int]:
        current = context.db().get(ServiceReferral, referral_id) if referral_id is not None else None
        if current is not None and hasattr(form, "keep_input_at"):
            form.keep_input_at(current.version)
        return _form_page(pact, 409, referral_id=referral_id, form=form, messages=[str(CONFLICT_MESSAGE)])

    def invalid(error: InvalidInput) -> tuple[str, int]:
        general = _attach(form, error, field_names)
        return _form_page(pact, 422, referral_id=referral_id, form=form, messages=general)

    def done(saved: object) -> Response:
        flash(success(), "success")
        return redirect(url_for("pacts.show", pact_id=pact.id, _anchor=ANCHOR))

    return saving.save(write, done=done, conflict=conflict, invalid=invalid, refused={ReferralRefused: _forbidden})


# --- Pages and actions ----------------------------------------------------------------


@blueprint.post("/pacts/<int:pact_id>/services/propose")
@login_required
def propose(pact_id: int):
    pact = context.visible_pact(pact_id)
    service_id = row_id(request.form.get("service"))
    if not service_id:  # missing, not a number, or past any row's id
        abort(400)
    form = forms.propose_form(service_id, request.form)
    names: dict[str, str] = {}

    def write() -> ServiceReferral:
        referral = propose_referral(context.db(), context.actor(), pact, service_id, now=context.now(),
                                    need_area=form.need_area.data or "")
        names["service"] = referral.service.name
        return referral

    return _save(pact, None, form, write,
                 success=lambda: _("Referral to %(service)s proposed: record the consent, then send the request.",
                                   service=names["service"]))


def _step_form(pact: Pact, referral: ServiceReferral, event: str) -> forms.StepForm:
    view = next((view for view in _panel(pact).referrals if view.id == referral.id), None)
    step = next((step for step in view.steps if step.event == event), None) if view is not None else None
    if step is None:
        # Not a step from the referral's status (any more), or the person may not act: a plain form.
        step = StepView(event=event, label=event)
    return forms.step_form(referral.id, step, request.form)


@blueprint.post("/pacts/<int:pact_id>/services/<int:referral_id>/steps/<any(request, accept, refuse, start, complete, drop):event>")
@login_required
def step(pact_id: int, referral_id: int, event: str):
    pact = context.visible_pact(pact_id)
    referral = _referral(pact, referral_id)
    service = referral.service.name
    target = next_status(referral.status, event)
    form = _step_form(pact, referral, event)
    return _save(pact, referral, form, lambda: advance_referral(
        context.db(), context.actor(), referral, event, now=context.now(), expected_version=form.version.data,
        reason=form.reason.data or "", note=form.note.data or "", on=form.on.data, zone=context.settings().zone,
    ), success=lambda: _("Referral to %(service)s: %(status)s.", service=service,
                         status=in_sentence(SERVICE_REFERRAL_STATUSES[target]) if target else ""))


@blueprint.post("/pacts/<int:pact_id>/services/<int:referral_id>/consent")
@login_required
def consent(pact_id: int, referral_id: int):
    pact = context.visible_pact(pact_id)
    referral = _referral(pact, referral_id)
    service = referral.service.name
    form = forms.consent_form(referral.id, request.form)
    return _save(pact, referral, form, lambda: record_consent(
        context.db(), context.actor(), referral, given_on=form.given_on.data, purpose=form.purpose.data or "",
        legal_basis=form.legal_basis.data or "", now=context.now(), zone=context.settings().zone,
        expected_version=form.version.data,
    ), success=lambda: _("Consent to share data for %(service)s recorded.", service=service))


@blueprint.post("/pacts/<int:pact_id>/services/<int:referral_id>/consent/withdraw")
@login_required
def withdraw(pact_id: int, referral_id: int):
    pact = context.visible_pact(pact_id)
    referral = _referral(pact, referral_id)
    service = referral.service.name
    form = forms.withdraw_form(referral.id, request.form)
    return _save(pact, referral, form, lambda: withdraw_consent(
        context.db(), context.actor(), referral, form.consent.data, now=context.now(),
        expected_version=form.version.data,
    ), success=lambda: _("Consent to share data for %(service)s withdrawn.", service=service))


@blueprint.post("/pacts/<int:pact_id>/services/<int:referral_id>/contact")
@login_required
def contact(pact_id: int, referral_id: int):
    pact = context.visible_pact(pact_id)
    referral = _referral(pact, referral_id)
    service = referral.service.name
    form = forms.contact_form(referral.id, request.form)
    return _save(pact, referral, form, lambda: set_provider_contact(
        context.db(), context.actor(), referral, form.provider_contact.data or "", now=context.now(),
        expected_version=form.version.data,
    ), success=lambda: _("Contact at %(service)s saved.", service=service))


@blueprint.post("/pacts/<int:pact_id>/services/<int:referral_id>/action")
@login_required
def link(pact_id: int, referral_id: int):
    pact = context.visible_pact(pact_id)
    referral = _referral(pact, referral_id)
    service = referral.service.name
    actions = [Choice(str(action.id), action.description) for action in pact.actions]
    form = forms.link_form(referral.id, actions, request.form)
    chosen = form.action.data or ""
    if chosen and not chosen.isdigit():
        abort(400)
    return _save(pact, referral, form, lambda: link_action(
        context.db(), context.actor(), referral, int(chosen) if chosen else None, now=context.now(),
        expected_version=form.version.data,
    ), success=lambda: _("Action linked to the referral to %(service)s saved.", service=service))
