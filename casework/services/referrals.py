"""A pact's referral to a service, followed until it ends: proposed → requested → accepted or
refused → started → completed, or dropped on the way.

One definition-only `transitions` Machine says which step goes from where (built once at
import; referrals are never registered with it, their `status` column is the only state).
Every step writes a ServiceReferralEvent (the pact's timeline reads them), moves the
referral's version (a form read before someone else's step is a Conflict) and touches the
pact, so a pact form read before the step is stale too. Asking the provider ("request")
needs the beneficiary's consent to share data with the service's organisation, and queues
the request e-mail once (casework.services.referral_mail).

Like the pacts' operations, each operation takes the caller's session, the acting user and
the moment it happens, and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo

from sqlalchemy import event, inspect, select, update
from sqlalchemy.orm import Session
from transitions import Machine, MachineError

from casework.errors import CaseworkError, InvalidInput
from casework.i18n import N_, Message, gettext
from casework.models import (
    Action,
    ActionStatus,
    ConsentLegalBasis,
    DataSharingConsent,
    Pact,
    Service,
    ServiceReferral,
    ServiceReferralEvent,
    ServiceReferralStatus,
    User,
)
from casework.models.labels import ACTION_STATUSES, SERVICE_DROP_REASONS, SERVICE_REFUSAL_REASONS
from casework.pacts import may_edit_items
from casework.security import asked_by_the_person, can_see_pact, get_visible_beneficiary, record_changes
from casework.services.referral_mail import cancel_unsent_requests, queue_request_email
from casework.versioning import check_version, flush_checked, touch

Status = ServiceReferralStatus

REQUEST, ACCEPT, REFUSE, START, COMPLETE, DROP = "request", "accept", "refuse", "start", "complete", "drop"
EVENTS = (REQUEST, ACCEPT, REFUSE, START, COMPLETE, DROP)
OPEN_STATUSES = (Status.PROPOSED, Status.REQUESTED, Status.ACCEPTED, Status.STARTED)
CLOSED_STATUSES = (Status.REFUSED, Status.COMPLETED, Status.DROPPED)
REFUSAL_REASONS = tuple(SERVICE_REFUSAL_REASONS)
PACT_CLOSED = "pact_closed"
DROP_REASONS = tuple(reason for reason in SERVICE_DROP_REASONS if reason != PACT_CLOSED)
MAX_NOTE = 2000
MAX_PURPOSE = 1000
MAX_PROVIDER_CONTACT = 300
_LATEST_ZONE = timezone(timedelta(hours=14))  # where "today" comes first (Kiribati)
_EARLIEST_ZONE = timezone(timedelta(hours=-12))  # where it comes last

_TRANSITIONS = [
    {"trigger": REQUEST, "source": Status.PROPOSED.value, "dest": Status.REQUESTED.value},
    {"trigger": ACCEPT, "source": Status.REQUESTED.value, "dest": Status.ACCEPTED.value},
    {"trigger": REFUSE, "source": Status.REQUESTED.value, "dest": Status.REFUSED.value},
    {"trigger": START, "source": Status.ACCEPTED.value, "dest": Status.STARTED.value},
    {"trigger": COMPLETE, "source": Status.STARTED.value, "dest": Status.COMPLETED.value},
    # A proposal the person or the team decides against is dropped too, with its reason.
    {"trigger": DROP, "source": [Status.PROPOSED.value, Status.REQUESTED.value, Status.ACCEPTED.value,
                                 Status.STARTED.value],
     "dest": Status.DROPPED.value},
]
# Built once; referrals are never added to it (model=None): firing costs no machine per row.
MACHINE = Machine(
    model=None, states=[status.value for status in Status], transitions=_TRANSITIONS, initial=None,
    model_attribute="status", auto_transitions=False, send_event=True, queued=False,
)
# Which steps ask for a reason (from which list) and which for a day.
STEP_REASONS: dict[str, tuple[str, ...]] = {REFUSE: REFUSAL_REASONS, DROP: DROP_REASONS}

# What the event notes say when a step moved the linked action (in the actor's language).
_ACTION_MOVED = N_("The linked action “{action}” is now: {status}.")
_ACTION_LINKED = N_("Linked to the pact's action “{action}”.")
_ACTION_UNLINKED = N_("No longer linked to an action of the pact.")
_CONTACT_CHANGED = N_("Contact at the service: {contact}")
_CONSENT_RECORDED = N_("Consent to share data with {organisation} recorded (given on {day}): {purpose}")
_CONSENT_WITHDRAWN = N_("Consent to share data with {organisation} withdrawn.")
_REQUEST_EMAIL_CANCELLED = N_("The request e-mail not sent yet was cancelled.")


class ReferralRefused(CaseworkError):
    """The actor may not change this pact's referrals (not on the pact, or no longer active)."""


@dataclass(frozen=True)
class StepAvailability:
    """A step possible from the referral's status, and what holds it back ("" when nothing)."""

    event: str
    blocked_by: str = ""  # "consent" for a request without the beneficiary's consent


class _StatusCursor:
    """What the machine moves: the status alone, so the row changes only when the step is kept."""

    __slots__ = ("status",)

    def __init__(self, status: str):
        self.status = status


def next_status(status: Status, event: str) -> Status | None:
    """Where `event` takes a referral in `status`, or None when it is not a step from there."""
    if event not in MACHINE.events:
        return None
    cursor = _StatusCursor(status.value)
    try:
        moved = MACHINE.events[event].trigger(cursor)
    except MachineError:  # not a step from this status
        return None
    return Status(cursor.status) if moved else None


def steps_from(status: Status) -> tuple[str, ...]:
    return tuple(event for event in EVENTS if next_status(status, event) is not None)


def may_act(session: Session, actor: User, pact: Pact) -> bool:
    """Whoever may see the pact and edit its goals and actions follows its referrals."""
    return may_edit_items(actor, pact) and can_see_pact(session, actor, pact.id)


def _require_actor(session: Session, actor: User, pact: Pact) -> None:
    if not pact.is_open:
        raise InvalidInput({"pact": "closed"})
    if not may_act(session, actor, pact):
        raise ReferralRefused(f"{actor.username} may not change the service referrals of pact {pact.id}")


def _note_problem(note: str) -> str | None:
    return "too_long" if len(note.strip()) > MAX_NOTE else None


def _event(session: Session, referral: ServiceReferral, actor: User, now: datetime, *, from_status: str,
           to_status: str, reason: str = "", note: str = "") -> ServiceReferralEvent:
    event = ServiceReferralEvent(
        referral=referral, pact_id=referral.pact.id, at=now, actor_id=actor.id, from_status=from_status,
        to_status=to_status, reason=reason, note=note.strip(),
    )
    session.add(event)
    return event


def _touch_both(session: Session, referral: ServiceReferral, expected_version: int | None, now: datetime) -> None:
    """Write the referral's change (its version moves, or a Conflict) and touch its pact."""
    check_version(referral, expected_version)
    referral.updated_at = now
    flush_checked(session, referral, expected_version)
    # The pact's version moves with its parts': a pact form read before this is stale.
    touch(referral.pact, None, now)


def open_referral(session: Session, pact: Pact, service_id: int) -> ServiceReferral | None:
    return session.scalars(
        select(ServiceReferral).where(
            ServiceReferral.pact_id == pact.id, ServiceReferral.service_id == service_id,
            ServiceReferral.status.in_(OPEN_STATUSES),
        ).limit(1)
    ).first()


def propose_referral(
    session: Session, actor: User, pact: Pact, service_id: int, *, now: datetime, need_area: str = "",
    action_id: int | None = None,
) -> ServiceReferral:
    """A new referral of the pact to a service, proposed (nothing is sent to anyone yet).

    Refused: a closed pact ({"pact": "closed"}), an unknown or inactive service ({"service":
    "unknown"/"inactive"}), a service the pact already has an open referral to ({"service":
    "already_open"}), an action of another pact ({"action": "not_in_pact"}).
    """
    _require_actor(session, actor, pact)
    service = session.get(Service, service_id)
    if service is None:
        raise InvalidInput({"service": "unknown"})
    if not service.active:
        raise InvalidInput({"service": "inactive"})
    if open_referral(session, pact, service_id) is not None:
        raise InvalidInput({"service": "already_open"})
    action = _pact_action(pact, action_id)
    referral = ServiceReferral(
        pact=pact, service=service, action=action, status=Status.PROPOSED, need_area=need_area[:40],
        proposed_at=now, proposed_by_id=actor.id, updated_at=now,
    )
    session.add(referral)
    _event(session, referral, actor, now, from_status="", to_status=Status.PROPOSED.value)
    flush_checked(session, referral, None)
    touch(pact, None, now)
    return referral


def _pact_action(pact: Pact, action_id: int | None) -> Action | None:
    if action_id is None:
        return None
    action = next((action for action in pact.actions if action.id == action_id), None)
    if action is None:
        raise InvalidInput({"action": "not_in_pact"})
    return action


def valid_consent(session: Session, referral: ServiceReferral) -> DataSharingConsent | None:
    """The latest unwithdrawn consent of the beneficiary for the service's organisation, if any."""
    return session.scalars(
        select(DataSharingConsent).where(
            DataSharingConsent.beneficiary_id == referral.pact.beneficiary_id,
            DataSharingConsent.organisation_id == referral.service.organisation_id,
            DataSharingConsent.withdrawn_at.is_(None),
        ).order_by(DataSharingConsent.given_on.desc(), DataSharingConsent.id.desc()).limit(1)
    ).first()


def advance_referral(
    session: Session, actor: User, referral: ServiceReferral, event: str, *, now: datetime,
    expected_version: int | None, reason: str = "", note: str = "", on: date | None = None,
    zone: tzinfo | None = None,
) -> ServiceReferral:
    """Take one step of the referral's lifecycle.

    `reason` is required to refuse (one of REFUSAL_REASONS) and to drop (one of DROP_REASONS);
    `on` is the day the service started (required to start) or the agreed start day (optional,
    to accept). Refused: a step not possible from the status ({"event": "not_possible"}), a
    request without consent ({"consent": "required"}), a closed pact ({"pact": "closed"});
    a stale `expected_version` is a Conflict; an actor not on the pact, ReferralRefused.
    """
    pact = referral.pact
    _require_actor(session, actor, pact)
    source = referral.status
    target = next_status(source, event)
    errors: dict[str, str] = {}
    if target is None:
        raise InvalidInput({"event": "not_possible"})
    reasons = STEP_REASONS.get(event)
    if reasons is not None and not reason:
        errors["reason"] = "required"
    elif reasons is not None and reason not in reasons:
        errors["reason"] = "not_an_option"
    elif reasons is None and reason:
        errors["reason"] = "not_an_option"
    if problem := _note_problem(note):
        errors["note"] = problem
    if event == START and on is None:
        errors["on"] = "required"
    elif on is not None and (problem := _day_problem(event, on, referral, now, zone)):
        errors["on"] = problem
    if errors:
        raise InvalidInput(errors)
    check_version(referral, expected_version)
    consent = valid_consent(session, referral) if event == REQUEST else None
    if event == REQUEST and consent is None:
        raise InvalidInput({"consent": "required"})

    notes = [note.strip()]
    referral.status = target
    if event == REQUEST:
        referral.requested_at = now
    elif event in (ACCEPT, REFUSE):
        referral.answered_at = now
        if event == ACCEPT and on is not None:
            referral.agreed_start_on = on
        if event == REFUSE:
            referral.refusal_reason = reason
            referral.ended_at = now
    elif event == START:
        referral.started_on = on
        notes.append(_move_action(referral, ActionStatus.IN_PROGRESS, actor))
    elif event == COMPLETE:
        referral.ended_at = now
        notes.append(_move_action(referral, ActionStatus.DONE, actor))
    elif event == DROP:
        referral.drop_reason = reason
        referral.ended_at = now
    _event(session, referral, actor, now, from_status=source.value, to_status=target.value, reason=reason,
           note="\n".join(filter(None, notes)))
    _touch_both(session, referral, expected_version, now)
    if event == REQUEST:
        assert consent is not None
        queue_request_email(session, referral, consent=consent, sender=actor, now=now)
    return referral


def _day_problem(event: str, on: date, referral: ServiceReferral, now: datetime, zone: tzinfo | None) -> str:
    """What is wrong with the day given to a step: a start is a fact (not after today, not before
    the request); an agreed start is a plan (not before today). `zone` is the office's; without
    it, "today" is taken at its latest anywhere on Earth, or its earliest for a plan."""
    if event == START:
        if on > now.astimezone(zone or _LATEST_ZONE).date():
            return "in_future"
        if referral.requested_at is not None and on < referral.requested_at.astimezone(zone or _EARLIEST_ZONE).date():
            return "before_request"
    elif event == ACCEPT and on < now.astimezone(zone or _EARLIEST_ZONE).date():
        return "in_past"
    return ""


def _move_action(referral: ServiceReferral, status: ActionStatus, actor: User) -> str:
    """Carry the linked action along (planned → in progress at the start, → done at the end)."""
    action = referral.action
    if action is None or action.status in (ActionStatus.DONE, ActionStatus.CANCELLED):
        return ""
    if status == ActionStatus.IN_PROGRESS and action.status != ActionStatus.PLANNED:
        return ""
    action.status = status
    return gettext(actor.locale, _ACTION_MOVED, action=action.description,
                   status=gettext(actor.locale, ACTION_STATUSES[status]).lower())


def _same_status_event(session: Session, referral: ServiceReferral, actor: User, now: datetime, note: str,
                       reason: str) -> None:
    status = referral.status.value
    _event(session, referral, actor, now, from_status=status, to_status=status, reason=reason, note=note)


def link_action(
    session: Session, actor: User, referral: ServiceReferral, action_id: int | None, *, now: datetime,
    expected_version: int | None,
) -> ServiceReferral:
    """Link the referral to an action of its pact (None: unlink); the action follows its steps."""
    _require_actor(session, actor, referral.pact)
    action = _pact_action(referral.pact, action_id)
    check_version(referral, expected_version)
    if action is referral.action:
        return referral
    referral.action = action
    text = (gettext(actor.locale, _ACTION_LINKED, action=action.description) if action is not None
            else gettext(actor.locale, _ACTION_UNLINKED))
    _same_status_event(session, referral, actor, now, text, "action_linked")
    _touch_both(session, referral, expected_version, now)
    return referral


def set_provider_contact(
    session: Session, actor: User, referral: ServiceReferral, contact: str, *, now: datetime,
    expected_version: int | None,
) -> ServiceReferral:
    """Who handles the referral at the provider (a name, an e-mail, a phone)."""
    _require_actor(session, actor, referral.pact)
    contact = contact.strip()
    if len(contact) > MAX_PROVIDER_CONTACT:
        raise InvalidInput({"provider_contact": "too_long"})
    check_version(referral, expected_version)
    if contact == referral.provider_contact:
        return referral
    referral.provider_contact = contact
    _same_status_event(session, referral, actor, now,
                       gettext(actor.locale, _CONTACT_CHANGED, contact=contact or "—"), "provider_contact")
    _touch_both(session, referral, expected_version, now)
    return referral


def _legal_basis(value: ConsentLegalBasis | str | None) -> ConsentLegalBasis | str:
    """The basis given, or the problem with it ("required", "not_an_option") as a str."""
    if isinstance(value, ConsentLegalBasis):
        return value
    if not value:
        return "required"
    try:
        return ConsentLegalBasis(value)
    except ValueError:
        return "not_an_option"


def record_consent(
    session: Session, actor: User, referral: ServiceReferral, *, given_on: date | None, purpose: str,
    legal_basis: ConsentLegalBasis | str | None, now: datetime, zone: tzinfo | None = None,
    expected_version: int | None = None,
) -> DataSharingConsent:
    """The beneficiary's consent to share their data with the service's organisation, on a
    legal basis (GDPR art. 6/9: the person's consent, the comune's public task, ...).

    Refused: a referral that has ended ({"event": "not_possible"}), no date or a date in the
    future ({"given_on": ...}: after today in `zone`, the office's; without it, after today
    anywhere on Earth), no purpose ({"purpose": "required"}), no or an unknown legal basis
    ({"legal_basis": "required"/"not_an_option"}); a closed pact; an actor not on the pact; a
    stale `expected_version` (Conflict).
    """
    _require_actor(session, actor, referral.pact)
    if referral.status not in OPEN_STATUSES:
        raise InvalidInput({"event": "not_possible"})
    errors = {}
    if given_on is None:
        errors["given_on"] = "required"
    elif given_on > now.astimezone(zone or _LATEST_ZONE).date():
        errors["given_on"] = "in_future"
    if not purpose.strip():
        errors["purpose"] = "required"
    elif len(purpose.strip()) > MAX_PURPOSE:
        errors["purpose"] = "too_long"
    basis = _legal_basis(legal_basis)
    if not isinstance(basis, ConsentLegalBasis):
        errors["legal_basis"] = basis
    if errors:
        raise InvalidInput(errors)
    assert given_on is not None and isinstance(basis, ConsentLegalBasis)
    check_version(referral, expected_version)
    consent = DataSharingConsent(
        beneficiary_id=referral.pact.beneficiary_id, organisation_id=referral.service.organisation_id,
        referral_id=referral.id, given_on=given_on, purpose=purpose.strip(), legal_basis=basis,
        collected_by_id=actor.id, recorded_at=now,
    )
    session.add(consent)
    _same_status_event(session, referral, actor, now, gettext(
        actor.locale, _CONSENT_RECORDED, organisation=referral.service.organisation.name,
        day=given_on.strftime("%d/%m/%Y"), purpose=purpose.strip()), "consent_recorded")
    _touch_both(session, referral, expected_version, now)
    return consent


def withdraw_consent(
    session: Session, actor: User, referral: ServiceReferral, consent_id: int, *, now: datetime,
    expected_version: int | None = None,
) -> DataSharingConsent:
    """Record that the beneficiary withdrew a consent; the row stays, as evidence.

    A request e-mail to that organisation about this person that has not gone yet is cancelled:
    without the consent their data may not leave the office. The referral's version moves, so a
    request sent from a page read before the withdrawal is a Conflict.
    """
    _require_actor(session, actor, referral.pact)
    consent = session.get(DataSharingConsent, consent_id)
    if (consent is None or consent.beneficiary_id != referral.pact.beneficiary_id
            or consent.organisation_id != referral.service.organisation_id):
        raise InvalidInput({"consent": "unknown"})
    if consent.withdrawn_at is not None:
        raise InvalidInput({"consent": "already_withdrawn"})
    check_version(referral, expected_version)
    consent.withdrawn_at = max(now, consent.recorded_at)
    notes = [gettext(actor.locale, _CONSENT_WITHDRAWN, organisation=referral.service.organisation.name)]
    if cancel_unsent_requests(session, referral.pact.beneficiary_id, referral.service.organisation_id):
        notes.append(gettext(actor.locale, _REQUEST_EMAIL_CANCELLED))
    _same_status_event(session, referral, actor, now, " ".join(notes), "consent_withdrawn")
    _touch_both(session, referral, expected_version, now)
    return consent


def withdraw_person_consent(
    session: Session, actor: User, beneficiary_id: int, consent_id: int, *, now: datetime,
) -> DataSharingConsent | None:
    """Record, from the person's page, that they withdrew a consent; the row stays, as evidence.

    None when `actor` may not see the person (security.get_visible_beneficiary: their case
    manager, the supervisor of their territory) or the consent is not one of the person's: the
    caller answers 404. A consent already withdrawn is refused ({"consent": "already_withdrawn"}),
    also to the loser of two withdrawals at once: the row is written only while it is not
    withdrawn, so the second finds nothing to change.

    What depended on the consent stops, as with `withdraw_consent`: the request e-mails to that
    organisation about the person not sent yet are cancelled, and each open referral of the
    person's pacts to that organisation gets the withdrawal in its timeline and a new version,
    so a request sent from a page read before is a Conflict (and a new request needs a new
    consent, see `advance_referral`). The person's history of changes records who withdrew it.
    """
    person = get_visible_beneficiary(session, actor, beneficiary_id, now)
    if person is None:
        return None
    consent = session.get(DataSharingConsent, consent_id)
    if consent is None or consent.beneficiary_id != person.id:
        return None
    # A restricted record too: withdrawing is the person asking for less processing, not more.
    with asked_by_the_person(session):
        moment = max(now, consent.recorded_at)
        written = session.execute(
            update(DataSharingConsent)
            .where(DataSharingConsent.id == consent.id, DataSharingConsent.withdrawn_at.is_(None))
            .values(withdrawn_at=moment).execution_options(synchronize_session=False)
        )
        if written.rowcount != 1:
            raise InvalidInput({"consent": "already_withdrawn"})
        session.expire(consent, ["withdrawn_at"])
        organisation = consent.organisation
        notes = [gettext(actor.locale, _CONSENT_WITHDRAWN, organisation=organisation.name)]
        if cancel_unsent_requests(session, person.id, organisation.id):
            notes.append(gettext(actor.locale, _REQUEST_EMAIL_CANCELLED))
        referrals = session.scalars(
            select(ServiceReferral).join(Pact, Pact.id == ServiceReferral.pact_id)
            .join(Service, Service.id == ServiceReferral.service_id)
            .where(Pact.beneficiary_id == person.id, Service.organisation_id == organisation.id,
                   ServiceReferral.status.in_(OPEN_STATUSES))
            .order_by(ServiceReferral.id)
        ).all()
        for referral in referrals:
            _same_status_event(session, referral, actor, now, " ".join(notes), "consent_withdrawn")
            _touch_both(session, referral, referral.version, now)
        record_changes(session, "beneficiary", person.id, {"consent": organisation.name}, {"consent": ""},
                       actor=actor, now=now)
    return consent


def _drop_referrals_of_closing_pacts(session: Session, flush_context: object, instances: object) -> None:
    """A pact that closes ends its open referrals (dropped, "the pact was closed"), whatever
    closed it: nothing is followed any more on a closed pact, and no deadline runs for them."""
    closing = [pact for pact in session.dirty if isinstance(pact, Pact) and pact.closed_at is not None
               and inspect(pact).attrs.closed_at.history.deleted in ([None], ())
               and inspect(pact).attrs.closed_at.history.added]
    if not closing:
        return
    with session.no_autoflush:
        for referral in session.scalars(select(ServiceReferral).where(
                ServiceReferral.pact_id.in_([pact.id for pact in closing]),
                ServiceReferral.status.in_(OPEN_STATUSES))):
            source = referral.status
            referral.status, referral.drop_reason = Status.DROPPED, PACT_CLOSED
            referral.ended_at = referral.updated_at = referral.pact.closed_at
            session.add(ServiceReferralEvent(
                referral=referral, pact_id=referral.pact_id, at=referral.pact.closed_at, actor_id=None,
                from_status=source.value, to_status=Status.DROPPED.value, reason=PACT_CLOSED, note=""))


def install_pact_closing_listener() -> None:
    """Drop the open referrals of pacts that close, in every session (idempotent; the services
    package calls it on import)."""
    if not event.contains(Session, "before_flush", _drop_referrals_of_closing_pacts):
        event.listen(Session, "before_flush", _drop_referrals_of_closing_pacts)


def reason_label(event_reason: str, locale: str) -> str:
    """A refusal or drop reason in words ("" for none or an unknown code)."""
    message: Message | None = SERVICE_REFUSAL_REASONS.get(event_reason) or SERVICE_DROP_REASONS.get(event_reason)
    return gettext(locale, message) if message is not None else ""
