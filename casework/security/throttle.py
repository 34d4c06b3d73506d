"""Sign-in throttling by growing delays, never by lockout (no Flask here).

A lockout is a weapon: whoever knows a colleague's username could keep her out of Casework, and
behind a reverse proxy one noisy address would refuse the whole office. So failures only slow
down the next attempt: after `ACCOUNT_FREE_FAILURES` failures for an account (or
`ADDRESS_FREE_FAILURES` from one client address), the next attempt must come at least 1, 2, 4 ...
seconds (at most `MAX_DELAY`) after the last failure. An attempt refused for coming too early is
not a failure and moves nothing, so retrying never lengthens the wait; the longest anyone waits
with the right password is `MAX_DELAY`.

An address from which the account signed in before is the account holder's own: for it, only
the failures from that address slow the account down, so a stranger guessing from elsewhere
does not delay her at all (the idea of OWASP's "device cookies", keyed on the address).

Administrators are told when an account or an address reaches an alert threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from casework.config import LOCALES
from casework.i18n import N_, in_every_locale
from casework.models import LoginAttempt, Notification, NotificationKind, Role, User

# Failures older than this are forgotten.
WINDOW = timedelta(minutes=15)
# An address that signed in to the account this recently is the account holder's.
KNOWN_ADDRESS_DAYS = 60
ACCOUNT_FREE_FAILURES = 5
# An office behind one address mistypes more than one person does.
ADDRESS_FREE_FAILURES = 20
MAX_DELAY = timedelta(seconds=60)
# Administrators are notified when a count within the window reaches these (once each time it
# does); under the delays an address can fail at most about 39 times in 15 minutes.
ACCOUNT_ALERT_FAILURES = 10
ADDRESS_ALERT_FAILURES = 30

ALERT_ACCOUNT = N_("Sign-in: {count} failed attempts in {minutes} minutes for the account \"{username}\" "
                   "(last from {address}). Casework slows the attempts down; check with the account holder.")
ALERT_ADDRESS = N_("Sign-in: {count} failed attempts in {minutes} minutes from the address {address} "
                   "(last for \"{username}\"). Casework slows the attempts down from there.")


def delay_after(failures: int, free: int) -> timedelta:
    """How long after the last failure the next attempt must wait: none for the first `free`
    failures, then 1 s, doubling with each further failure, at most MAX_DELAY."""
    if failures < free:
        return timedelta(0)
    return min(timedelta(seconds=2 ** min(failures - free, 10)), MAX_DELAY)


@dataclass(frozen=True)
class Failures:
    count: int
    last: datetime | None

    def wait(self, free: int, now: datetime) -> timedelta:
        if self.last is None:
            return timedelta(0)
        return max(timedelta(0), _aware(self.last, now) + delay_after(self.count, free) - now)


def _aware(moment: datetime, like: datetime) -> datetime:
    # SQLite gives back naive datetimes for what was stored as UTC.
    return moment.replace(tzinfo=like.tzinfo) if moment.tzinfo is None and like.tzinfo is not None else moment


def _failures(session: Session, now: datetime, *conditions) -> Failures:
    count, last = session.execute(
        select(func.count(), func.max(LoginAttempt.at))
        .where(*conditions, LoginAttempt.succeeded.is_(False), LoginAttempt.at > now - WINDOW)
    ).one()
    return Failures(count or 0, last)


def _last_success(session: Session, username: str, now: datetime, *conditions) -> datetime | None:
    return session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username, LoginAttempt.succeeded.is_(True),
            LoginAttempt.at > now - timedelta(days=KNOWN_ADDRESS_DAYS), *conditions,
        )
    )


def _account_failures(session: Session, username: str, ip_address: str, now: datetime) -> Failures:
    """Failures for the account since its last successful sign-in; only those from this address
    when the account holder signed in from it before."""
    known_address = _last_success(session, username, now, LoginAttempt.ip_address == ip_address) is not None
    since = _last_success(session, username, now)
    conditions = [LoginAttempt.username == username]
    if known_address:
        conditions.append(LoginAttempt.ip_address == ip_address)
    if since is not None:
        conditions.append(LoginAttempt.at > since)
    return _failures(session, now, and_(*conditions))


def wait_before_attempt(session: Session, username: str, ip_address: str, now: datetime) -> timedelta:
    """How long this attempt must still wait (zero: it may be checked now)."""
    account = _account_failures(session, username, ip_address, now).wait(ACCOUNT_FREE_FAILURES, now)
    # Successes from an address do not clear it: an attacker could sign in to an account of his own.
    address = _failures(session, now, LoginAttempt.ip_address == ip_address).wait(ADDRESS_FREE_FAILURES, now)
    return max(account, address)


def alert_after_failure(session: Session, username: str, ip_address: str, now: datetime) -> None:
    """Notify every active administrator when this failure (already added) brings the account's or
    the address's failures to an alert threshold."""
    session.flush()
    by_account = _failures(session, now, LoginAttempt.username == username).count
    by_address = _failures(session, now, LoginAttempt.ip_address == ip_address).count
    minutes = int(WINDOW.total_seconds() // 60)
    messages = []
    if by_account == ACCOUNT_ALERT_FAILURES:
        messages.append(in_every_locale(LOCALES, ALERT_ACCOUNT, count=by_account, minutes=minutes,
                                        username=username, address=ip_address or "?"))
    if by_address == ADDRESS_ALERT_FAILURES:
        messages.append(in_every_locale(LOCALES, ALERT_ADDRESS, count=by_address, minutes=minutes,
                                        username=username, address=ip_address or "?"))
    if not messages:
        return
    for admin_id in session.scalars(select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))):
        for message in messages:
            session.add(Notification(user_id=admin_id, kind=NotificationKind.MESSAGE, message=message,
                                     created_at=now))
