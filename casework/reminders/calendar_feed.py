"""A private calendar (ICS, RFC 5545) of a person's deadlines and planned contacts.

A calendar client subscribes to a secret URL; the secret is shown once when created and only
its SHA-256 is stored, so a database leak does not open anyone's feed. Creating a new one or
revoking stops the old URL. Like e-mails, entries name pacts by number and programme, not
people: calendar services keep copies outside Casework.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from casework.i18n import N_, gettext
from casework.models import (
    CalendarFeedToken,
    FollowUpContact,
    Pact,
    PactDeadline,
    Programme,
    User,
)
from casework.reminders.notifications import locale_of, rule_label
from casework.reminders.referral_deadlines import service_names
from casework.security import pact_assignment
from casework.workflow import WorkflowRegistry

# Deadlines already past stay in the feed this long, so an overdue one is still seen.
PAST_DAYS = 30
TITLES = {
    "calendar": N_("Casework - deadlines and contacts"),
    "deadline": N_("Pact no. {pact} ({programme}): {deadline}"),
    "contact": N_("Planned contact: pact no. {pact} ({programme})"),
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed_token(session: Session, user: User, *, now: datetime) -> str:
    """A new secret for the user's feed (show it once, in the URL); any previous one stops working."""
    revoke_feed_tokens(session, user, now=now)
    token = secrets.token_urlsafe(32)
    session.add(CalendarFeedToken(user_id=user.id, token_hash=_hash(token), created_at=now))
    session.flush()
    return token


def revoke_feed_tokens(session: Session, user: User, *, now: datetime) -> int:
    """Stop every feed URL of the user; returns how many were active."""
    return session.execute(
        update(CalendarFeedToken)
        .where(CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None))
        .values(revoked_at=now).execution_options(synchronize_session=False)
    ).rowcount


def has_feed_token(session: Session, user: User) -> bool:
    return session.scalar(select(func.count()).select_from(CalendarFeedToken).where(
        CalendarFeedToken.user_id == user.id, CalendarFeedToken.revoked_at.is_(None))) > 0


def user_for_feed_token(session: Session, token: str, *, now: datetime) -> User | None:
    """The active user whose live feed secret this is, else None (answer 404); notes the use."""
    if not token or len(token) > 200:
        return None
    row = session.scalars(select(CalendarFeedToken).where(
        CalendarFeedToken.token_hash == _hash(token), CalendarFeedToken.revoked_at.is_(None))).one_or_none()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    row.last_used_at = now
    return user


def ics_feed(
    session: Session, user: User, now: datetime, *, registry: WorkflowRegistry, zone: ZoneInfo,
    base_url: str = "",
) -> str:
    """The user's feed: all-day entries for the current deadlines of the pacts they manage or
    sit on the équipe of, and for the next contacts planned with them (from 30 days ago on)."""
    locale = locale_of(user)
    today = now.astimezone(zone).date()
    since = today - timedelta(days=PAST_DAYS)
    calendar = Calendar()
    calendar.add("prodid", "-//Casework//Deadlines//IT")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", gettext(locale, TITLES["calendar"]))

    deadlines = session.execute(
        select(PactDeadline.id, PactDeadline.rule_id, PactDeadline.due_on, Pact.id, Pact.workflow_name,
               Pact.workflow_version, Programme.code)
        .join(Pact, Pact.id == PactDeadline.pact_id).join(Programme, Programme.id == Pact.programme_id)
        .where(pact_assignment(user), Pact.closed_at.is_(None), PactDeadline.ended_at.is_(None),
               PactDeadline.paused.is_(False), PactDeadline.due_on >= since)
        .order_by(PactDeadline.due_on, PactDeadline.id)
    ).all()
    services = service_names(session, {row.rule_id for row in deadlines})
    for deadline_id, rule_id, due_on, pact_id, workflow, version, programme in deadlines:
        summary = gettext(locale, TITLES["deadline"], pact=pact_id, programme=programme,
                          deadline=rule_label(registry, workflow, version, rule_id, locale, services))
        calendar.add_component(_event(f"deadline-{deadline_id}", due_on, summary, now, base_url, pact_id))

    latest = (
        select(FollowUpContact.pact_id, func.max(FollowUpContact.contact_at).label("at"))
        .group_by(FollowUpContact.pact_id).subquery()
    )
    contacts = session.execute(
        select(FollowUpContact.id, FollowUpContact.next_contact_on, Pact.id, Programme.code)
        .join(latest, (latest.c.pact_id == FollowUpContact.pact_id) & (latest.c.at == FollowUpContact.contact_at))
        .join(Pact, Pact.id == FollowUpContact.pact_id).join(Programme, Programme.id == Pact.programme_id)
        .where(pact_assignment(user), Pact.closed_at.is_(None), FollowUpContact.next_contact_on >= since)
        .order_by(FollowUpContact.next_contact_on, FollowUpContact.id)
    ).all()
    for contact_id, day, pact_id, programme in contacts:
        summary = gettext(locale, TITLES["contact"], pact=pact_id, programme=programme)
        calendar.add_component(_event(f"contact-{contact_id}", day, summary, now, base_url, pact_id))
    return calendar.to_ical().decode("utf-8")


def _event(uid: str, day: date, summary: str, now: datetime, base_url: str, pact_id: int) -> Event:
    event = Event()
    event.add("uid", f"{uid}@casework")
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("transp", "TRANSPARENT")
    if base_url:
        event.add("url", f"{base_url}/pacts/{pact_id}")
    return event
