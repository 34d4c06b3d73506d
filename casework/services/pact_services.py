"""What the "Servizi" part of the pact page shows: the pact's referrals, each with its status,
dates, provider contact, consent, request e-mail and the steps possible now; and the services
suggested for the pact. Everything is computed here, in the reader's language, so the
template only lays it out; a fixed number of queries whatever the number of referrals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import String, cast, literal, select
from sqlalchemy.orm import Session, joinedload

from casework.i18n import N_, Message, gettext
from casework.models import (
    DataSharingConsent,
    EmailStatus,
    OutboundEmail,
    Pact,
    Service,
    ServiceReferral,
    User,
)
from casework.models.labels import (
    CONSENT_LEGAL_BASES,
    SERVICE_DROP_REASONS,
    SERVICE_REFERRAL_STATUSES,
    SERVICE_REFUSAL_REASONS,
)
from casework.pacts import may_edit_items
from casework.services.referral_mail import KIND as REQUEST_EMAIL_KIND
from casework.services.referrals import (
    ACCEPT,
    COMPLETE,
    DROP,
    OPEN_STATUSES,
    REFUSE,
    REQUEST,
    START,
    STEP_REASONS,
    reason_label,
    steps_from,
)
from casework.services.suggestions import Suggestion, reason_text, suggest_services
from casework.workflow import WorkflowDefinition, WorkflowRegistry

STEP_LABELS: dict[str, Message] = {
    REQUEST: N_("Send the request to the service"),
    ACCEPT: N_("The service accepted"),
    REFUSE: N_("The service refused"),
    START: N_("The service started"),
    COMPLETE: N_("The referral is completed"),
    DROP: N_("Drop the referral"),
}
_DAY_LABELS: dict[str, Message] = {ACCEPT: N_("Agreed start date"), START: N_("Start date")}
_NEEDS_CONSENT = N_("Record first the consent of the beneficiary to share data with {organisation}.")
_PURPOSE = N_("Referral to the service {service} for pact no. {pact}")
_EMAIL_NOTES: dict[str, Message] = {
    "queued": N_("The request e-mail to {address} is waiting to be sent."),
    "sent": N_("The request e-mail was sent to {address}."),
    "failed": N_("The request e-mail to {address} could not be delivered: contact the service directly."),
    "no_address": N_("The service has no e-mail address: send the request yourself (phone {phone})."),
}
_REASON_LISTS = {REFUSE: SERVICE_REFUSAL_REASONS, DROP: SERVICE_DROP_REASONS}
_STALE = N_("Not checked for over a year: call the service before sending someone.")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class StepView:
    """A step possible now; `blocked` says in words why it cannot be taken yet ("" when it can)."""

    event: str
    label: str
    reasons: tuple[Choice, ...] = ()  # a reason to choose from (refuse, drop)
    day_label: str = ""  # a day to give (accept: optional, start: required)
    day_required: bool = False
    blocked: str = ""
    destructive: bool = False  # refuse, drop: set apart, in red


@dataclass(frozen=True)
class ConsentView:
    id: int
    given_on: date
    purpose: str
    legal_basis: str  # in words
    collected_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class ReferralView:
    id: int
    version: int
    service_id: int
    service_name: str
    organisation_name: str
    service_contact: str  # the service's own e-mail and phone
    status: str
    status_label: str
    need_label: str  # the need area it answers, as the pact's workflow names it ("" for none)
    is_open: bool
    proposed_at: datetime
    requested_at: datetime | None
    answered_at: datetime | None
    agreed_start_on: date | None
    started_on: date | None
    ended_at: datetime | None
    reason_label: str  # why it was refused or dropped
    provider_contact: str
    action_id: int | None
    action_label: str
    consent: ConsentView | None
    consent_purpose: str  # what the consent form proposes
    email_note: str  # where the request e-mail stands, in words ("" before the request)
    steps: tuple[StepView, ...]


@dataclass(frozen=True)
class SuggestionView:
    """A service suggested for the pact, with each reason in words (casework.services.suggestions)."""

    service_id: int
    service_name: str
    organisation_name: str
    type_label: str
    need_area: str
    reasons: tuple[str, ...]
    stale_note: str  # "" when the service was checked within the year


@dataclass(frozen=True)
class ServicesPanel:
    pact_id: int
    may_act: bool
    referrals: tuple[ReferralView, ...]  # open ones first, then the ended, newest first in each
    actions: tuple[Choice, ...]  # the pact's actions a referral may be linked to
    suggestions: tuple[SuggestionView, ...] = ()  # only for whoever may propose one


def pact_services_panel(
    session: Session, actor: User, pact: Pact, now: datetime, zone: ZoneInfo, locale: str, *,
    registry: WorkflowRegistry | None = None, suggestions: int = 10,
) -> ServicesPanel:
    """The part for `actor`, who may see the pact (the caller checked, via casework.security.access).

    With the `registry`, need areas are named as the pact's workflow names them, and up to
    `suggestions` services are suggested to whoever may propose one.
    """
    # The request e-mail's state comes with each referral: its outbox key is unique (indexed).
    email_key = literal(f"{REQUEST_EMAIL_KIND}:") + cast(ServiceReferral.id, String)
    rows = session.execute(
        select(ServiceReferral, OutboundEmail.status)
        .outerjoin(OutboundEmail, OutboundEmail.dedupe_key == email_key)
        .where(ServiceReferral.pact_id == pact.id)
        .options(joinedload(ServiceReferral.service).joinedload(Service.organisation),
                 joinedload(ServiceReferral.action))
        .order_by(ServiceReferral.id.desc())
    ).tuples().all()
    referrals = [referral for referral, _ in rows]
    emails = {referral.id: status for referral, status in rows}
    organisations = {referral.service.organisation_id for referral in referrals}
    consents: dict[int, DataSharingConsent] = {}
    for consent in session.scalars(
        select(DataSharingConsent).where(
            DataSharingConsent.beneficiary_id == pact.beneficiary_id,
            DataSharingConsent.organisation_id.in_(organisations), DataSharingConsent.withdrawn_at.is_(None),
        ).options(joinedload(DataSharingConsent.collected_by))
        .order_by(DataSharingConsent.given_on, DataSharingConsent.id)
    ):
        consents[consent.organisation_id] = consent  # the latest wins
    # The caller checked that the actor sees the pact: what is left of may_act is the pact's rule.
    allowed = pact.is_open and may_edit_items(actor, pact)
    definition = registry.engine_for(pact).definition if registry is not None else None
    views = [
        _referral_view(referral, consents.get(referral.service.organisation_id),
                       emails.get(referral.id), allowed, locale, definition)
        for referral in referrals
    ]
    views.sort(key=lambda view: not view.is_open)  # stable: newest first within each group
    suggested = suggest_services(session, pact, now=now, zone=zone, limit=suggestions) if allowed and suggestions else []
    return ServicesPanel(
        pact_id=pact.id, may_act=allowed, referrals=tuple(views),
        actions=tuple(Choice(str(action.id), action.description) for action in pact.actions),
        suggestions=tuple(_suggestion_view(suggestion, definition, locale) for suggestion in suggested),
    )


def _suggestion_view(suggestion: Suggestion, definition: WorkflowDefinition | None, locale: str) -> SuggestionView:
    service = suggestion.service
    need_label = definition.label_of("need_area", suggestion.need_area, locale) if definition else ""
    service_type = service.service_type
    return SuggestionView(
        service_id=service.id, service_name=service.name, organisation_name=service.organisation.name,
        type_label=service_type.label_it if locale == "it" else service_type.label_en,
        need_area=suggestion.need_area,
        reasons=tuple(reason_text(reason, locale, need_label=need_label) for reason in suggestion.reasons),
        stale_note=gettext(locale, _STALE) if suggestion.stale else "",
    )


def _referral_view(referral: ServiceReferral, consent: DataSharingConsent | None, email: EmailStatus | None,
                   allowed: bool, locale: str, definition: WorkflowDefinition | None) -> ReferralView:
    service = referral.service
    organisation = service.organisation.name
    status = referral.status
    steps = tuple(_step(event, organisation, consent, locale) for event in steps_from(status)) if allowed else ()
    return ReferralView(
        id=referral.id, version=referral.version, service_id=service.id, service_name=service.name,
        organisation_name=organisation,
        service_contact=" · ".join(filter(None, (service.contact_email, service.contact_phone))),
        status=status.value, status_label=gettext(locale, SERVICE_REFERRAL_STATUSES[status]),
        need_label=(definition.label_of("need_area", referral.need_area, locale) if definition else referral.need_area)
        if referral.need_area else "",
        is_open=status in OPEN_STATUSES, proposed_at=referral.proposed_at, requested_at=referral.requested_at,
        answered_at=referral.answered_at, agreed_start_on=referral.agreed_start_on, started_on=referral.started_on,
        ended_at=referral.ended_at,
        reason_label=reason_label(referral.refusal_reason or referral.drop_reason, locale),
        provider_contact=referral.provider_contact, action_id=referral.action_id,
        action_label=referral.action.description if referral.action is not None else "",
        consent=ConsentView(id=consent.id, given_on=consent.given_on, purpose=consent.purpose,
                            legal_basis=gettext(locale, CONSENT_LEGAL_BASES[consent.legal_basis]),
                            collected_by=consent.collected_by.full_name if consent.collected_by else "",
                            recorded_at=consent.recorded_at) if consent is not None else None,
        consent_purpose=gettext(locale, _PURPOSE, service=service.name, pact=referral.pact_id),
        email_note=_email_note(referral, email, locale),
        steps=steps,
    )


def _step(event: str, organisation: str, consent: DataSharingConsent | None, locale: str) -> StepView:
    reasons = _REASON_LISTS.get(event, {})
    return StepView(
        event=event, label=gettext(locale, STEP_LABELS[event]),
        reasons=tuple(Choice(code, gettext(locale, label)) for code, label in reasons.items()
                      if code in STEP_REASONS.get(event, ())),
        day_label=gettext(locale, _DAY_LABELS[event]) if event in _DAY_LABELS else "",
        day_required=event == START,
        blocked=gettext(locale, _NEEDS_CONSENT, organisation=organisation)
        if event == REQUEST and consent is None else "",
        destructive=event in (REFUSE, DROP),
    )


def _email_note(referral: ServiceReferral, email: EmailStatus | None, locale: str) -> str:
    if referral.requested_at is None:
        return ""
    service = referral.service
    if email is None and not service.contact_email.strip():
        return gettext(locale, _EMAIL_NOTES["no_address"], phone=service.contact_phone or "—")
    if email is None:
        return ""
    state = {EmailStatus.SENT: "sent", EmailStatus.FAILED: "failed"}.get(email, "queued")
    return gettext(locale, _EMAIL_NOTES[state], address=service.contact_email)

