"""One's own account: password, language, e-mail preferences and signed-in devices.

Each operation takes the caller's session and never commits; bad input raises
InvalidInput({field: code}). Every change is recorded in the administrative log (subject
"user", action "update_own_account"); a password is never written there, only that it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.config import LOCALES
from casework.errors import InvalidInput
from casework.models import User, UserSession
from casework.security import (
    changed_fields,
    hash_password,
    password_problem,
    record_admin_change,
    verify_password,
)

ACTION = "update_own_account"


def _record(session: Session, user: User, changes: dict, *, now: datetime, ip_address: str) -> None:
    record_admin_change(session, actor=user, action=ACTION, subject_type="user", subject_id=user.id,
                        subject_label=user.username, changes=changes, now=now, ip_address=ip_address)


def end_other_sessions(session: Session, user: User, *, current_session_id: int | None, now: datetime) -> int:
    """End every live session of `user` but the current one; returns how many ended."""
    query = select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if current_session_id is not None:
        query = query.where(UserSession.id != current_session_id)
    # Loaded and changed one by one (a person has a handful): the rows in the session say so too.
    others = list(session.scalars(query.with_for_update()))
    for other in others:
        other.ended_at = now
    return len(others)


def change_password(
    session: Session, user: User, *, current: str, new: str, repeated: str, current_session_id: int | None,
    now: datetime, ip_address: str = "",
) -> int:
    """Set a new password after checking the current one; the user's other sessions end.

    Returns how many other sessions ended. Codes: current "wrong"; new one of
    `password_problem`'s or "same_as_current"; repeated "mismatch".
    """
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current or ""):
        errors["current"] = "wrong"
    problem = password_problem(new or "", user.username)
    if problem:
        errors["new"] = problem
    elif "current" not in errors and new == current:
        errors["new"] = "same_as_current"
    if new and (repeated or "") != new:
        errors["repeated"] = "mismatch"
    if errors:
        raise InvalidInput(errors)
    user.password_hash = hash_password(new)
    ended = end_other_sessions(session, user, current_session_id=current_session_id, now=now)
    _record(session, user, {"password": [None, "changed"], "other_sessions_ended": [None, str(ended)]},
            now=now, ip_address=ip_address)
    session.flush()
    return ended


@dataclass(frozen=True)
class Preferences:
    locale: str
    email_digest: bool
    email_reminders: bool


def preferences_of(user: User) -> Preferences:
    return Preferences(user.locale if user.locale in LOCALES else "it", user.email_digest, user.email_reminders)


def update_preferences(
    session: Session, user: User, preferences: Preferences, *, now: datetime, ip_address: str = ""
) -> dict:
    """Save the language and e-mail preferences; returns what changed ({} if nothing did).

    Codes: locale "unknown_locale"."""
    if preferences.locale not in LOCALES:
        raise InvalidInput({"locale": "unknown_locale"})
    before = {"locale": user.locale, "email_digest": user.email_digest, "email_reminders": user.email_reminders}
    after = {"locale": preferences.locale, "email_digest": bool(preferences.email_digest),
             "email_reminders": bool(preferences.email_reminders)}
    changes = changed_fields(before, after)
    if changes:
        user.locale, user.email_digest, user.email_reminders = (
            after["locale"], after["email_digest"], after["email_reminders"])
        _record(session, user, changes, now=now, ip_address=ip_address)
        session.flush()
    return changes


@dataclass(frozen=True)
class ActiveSession:
    id: int
    user_agent: str
    ip_address: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def active_sessions(
    session: Session, user: User, *, current_session_id: int | None, now: datetime,
    idle_timeout: timedelta, max_age: timedelta,
) -> list[ActiveSession]:
    """The user's sessions still alive at `now` (not ended, not idle or too old), newest use first."""
    rows = session.scalars(
        select(UserSession).where(
            UserSession.user_id == user.id, UserSession.ended_at.is_(None),
            UserSession.last_seen_at >= now - idle_timeout, UserSession.created_at >= now - max_age,
        ).order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [ActiveSession(row.id, row.user_agent, row.ip_address, row.created_at, row.last_seen_at,
                          row.id == current_session_id) for row in rows]


def sign_out_everywhere_else(
    session: Session, user: User, *, current_session_id: int, now: datetime, ip_address: str = ""
) -> int:
    """End every other session of the user; recorded in the administrative log. Returns how many."""
    ended = end_other_sessions(session, user, current_session_id=current_session_id, now=now)
    _record(session, user, {"other_sessions_ended": [None, str(ended)]}, now=now, ip_address=ip_address)
    session.flush()
    return ended
