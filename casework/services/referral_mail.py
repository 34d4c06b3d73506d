"""The e-mail asking a provider to take a referral: queued in the outbox with the request.

It goes to the service's contact address (none: no e-mail, and the pact page says so),
always in Italian (the provider is an Italian service, not a user with a language), once per
referral: its outbox key is "service_referral_request:<referral id>", so asking again after a
failure queues nothing new; a new referral after a drop is a new message. Data minimisation:
it names the beneficiary and their phone only (what the consent covers), never the
screening; the rest is who refers, to what, and how to reach them. The outbox's sender
(casework.reminders' delivery) adds the office's signature. A withdrawn consent cancels the
request e-mails to that organisation about that person which have not gone yet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.db import fit_to_column
from casework.i18n import N_, gettext
from casework.models import (
    OFFICE_SETTINGS_ID,
    ConsentLegalBasis,
    DataSharingConsent,
    EmailStatus,
    OfficeSettings,
    OutboundEmail,
    Pact,
    Service,
    ServiceReferral,
    User,
)
from casework.models.labels import CONSENT_LEGAL_BASES

KIND = "service_referral_request"
PROVIDER_LOCALE = "it"

_SUBJECT = N_("Referral request: {service} (pact no. {pact})")
_BODY = N_(
    "Good morning,\n\n"
    "{referrer}{office} asks you to take on a person for the service “{service}” ({organisation}), "
    "within the personalised pact no. {pact}.\n\n"
    "Person referred: {person}\n"
    "Phone: {phone}\n"
    "Purpose of the referral: {purpose}\n\n"
    "The person agreed on {given_on} that these data be shared with {organisation} for this purpose. "
    "Other information about the person will be given by the case manager if needed.\n\n"
    "Please answer {sender}, saying whether you can take on the person and from when:\n"
    "{sender_contact}\n\n"
    "Thank you."
)
# When the data go on another basis than the person's consent (a public task, a legal duty, vital
# interests), the provider is told that basis, not that the person agreed.
_BODY_ON_BASIS = N_(
    "Good morning,\n\n"
    "{referrer}{office} asks you to take on a person for the service “{service}” ({organisation}), "
    "within the personalised pact no. {pact}.\n\n"
    "Person referred: {person}\n"
    "Phone: {phone}\n"
    "Purpose of the referral: {purpose}\n\n"
    "These data are shared with {organisation} for this purpose on this legal basis: {basis} (recorded on "
    "{given_on}). Other information about the person will be given by the case manager if needed.\n\n"
    "Please answer {sender}, saying whether you can take on the person and from when:\n"
    "{sender_contact}\n\n"
    "Thank you."
)
_OF_OFFICE = N_(" of {office}")
_NO_PHONE = N_("not given")


def request_key(referral: ServiceReferral) -> str:
    return f"{KIND}:{referral.id}"


def queue_request_email(
    session: Session, referral: ServiceReferral, *, consent: DataSharingConsent, sender: User, now: datetime,
) -> OutboundEmail | None:
    """Queue the request e-mail of `referral` once, sent on behalf of `sender` under `consent`;
    None when the service has no address or the message is queued already."""
    service = referral.service
    address = service.contact_email.strip()
    if not address:
        return None
    key = request_key(referral)
    if session.scalar(select(OutboundEmail.id).where(OutboundEmail.dedupe_key == key)) is not None:
        return None
    pact = referral.pact
    person = pact.beneficiary
    office = session.get(OfficeSettings, OFFICE_SETTINGS_ID)
    office_name = office.ente_name if office is not None and office.ente_name else ""
    locale = PROVIDER_LOCALE
    on_consent = consent.legal_basis in (None, ConsentLegalBasis.CONSENT)  # None: not flushed yet, the default
    body = gettext(
        locale, _BODY if on_consent else _BODY_ON_BASIS, referrer=sender.full_name,
        office=gettext(locale, _OF_OFFICE, office=office_name) if office_name else "",
        service=service.name, organisation=service.organisation.name, pact=pact.id, person=person.full_name,
        phone=person.phone or gettext(locale, _NO_PHONE), purpose=consent.purpose,
        given_on=consent.given_on.strftime("%d/%m/%Y"),
        basis="" if on_consent else gettext(locale, CONSENT_LEGAL_BASES[consent.legal_basis]),
        sender=sender.full_name, sender_contact=sender.email or sender.full_name,
    )
    email = OutboundEmail(
        dedupe_key=key, kind=KIND, recipient_id=None, to_address=address,
        subject=fit_to_column(OutboundEmail.subject, gettext(locale, _SUBJECT, service=service.name, pact=pact.id)),
        body=body, created_at=now, status=EmailStatus.PENDING, attempts=0, next_attempt_at=now, claimed_by="",
        sent_at=None, last_error="",
    )
    session.add(email)
    session.flush()
    return email


def cancel_unsent_requests(session: Session, beneficiary_id: int, organisation_id: int) -> int:
    """Cancel the request e-mails about this person to this organisation not sent yet; how many."""
    keys = [f"{KIND}:{referral_id}" for referral_id in session.scalars(
        select(ServiceReferral.id).join(Pact, Pact.id == ServiceReferral.pact_id)
        .join(Service, Service.id == ServiceReferral.service_id)
        .where(Pact.beneficiary_id == beneficiary_id, Service.organisation_id == organisation_id))]
    if not keys:
        return 0
    result = session.execute(
        update(OutboundEmail).where(
            OutboundEmail.dedupe_key.in_(keys),
            OutboundEmail.status.in_((EmailStatus.PENDING, EmailStatus.FAILED)),
        ).values(status=EmailStatus.CANCELLED).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
