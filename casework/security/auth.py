"""Sign-in: password check, throttling and server-side sessions (no Flask here)."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload

from casework.db import fit_to_column
from casework.errors import CaseworkError
from casework.models import LoginAttempt, SecondFactor, User, UserSession
from casework.security import throttle
from casework.security.admin_log import record_admin_change
from casework.security.passwords import hash_password, needs_rehash, verify_password

# A session's last_seen_at is written at most this often: a write per request is wasted.
TOUCH_INTERVAL = timedelta(minutes=1)


class LoginRefused(CaseworkError):
    """`reason` is "invalid" or "throttled" (then `wait_seconds` says for how long); neither says
    whether the account exists."""

    def __init__(self, reason: str, wait_seconds: int = 0):
        self.reason = reason
        self.wait_seconds = wait_seconds
        super().__init__(reason)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_attempt(session: Session, user: User | None, username: str, action: str, *, ip_address: str,
                 now: datetime, reason: str = "") -> None:
    """Every sign-in attempt in the administrative log: who (the account, if it exists), from where."""
    record_admin_change(
        session, actor=user if action == "sign_in" else None, action=action, subject_type="sign_in",
        subject_id=user.id if user is not None else None, subject_label=username,
        changes={"reason": [None, reason]} if reason else None, now=now, ip_address=ip_address,
    )


def authenticate(session: Session, username: str, password: str, *, ip_address: str, now: datetime) -> User:
    """The active user with these credentials, else LoginRefused. Every attempt is recorded in the
    administrative log; those that were checked also count towards throttling (casework.security.throttle).
    For a user with a second factor (`has_second_factor`) the sign-in is not over: the caller asks
    for a code (casework.security.second_factor.check_second_factor) before starting a session."""
    username = username.strip().lower()
    user = session.scalar(select(User).where(func.lower(User.username) == username))
    wait = throttle.wait_before_attempt(session, username, ip_address, now)
    if wait > timedelta(0):
        # Not checked and not counted: a retry while waiting does not lengthen the wait.
        log_attempt(session, user, username, "sign_in_throttled", ip_address=ip_address, now=now)
        raise LoginRefused("throttled", wait_seconds=math.ceil(wait.total_seconds()))
    # verify_password runs even for an unknown user, so timing does not tell who exists.
    valid = verify_password(user.password_hash if user else None, password)
    ok = valid and user is not None and user.active
    second_step = ok and has_second_factor(session, user)
    if not second_step:
        # With a second factor the attempt is recorded at the second step: a right password alone
        # must not clear the failures, or codes could be guessed faster than passwords.
        session.add(LoginAttempt(username=fit_to_column(LoginAttempt.username, username), ip_address=ip_address,
                                 at=now, succeeded=ok))
    if not ok:
        reason = "wrong_password" if user is not None and not valid else ("inactive" if user is not None else
                                                                           "unknown_account")
        log_attempt(session, user, username, "sign_in_failed", ip_address=ip_address, now=now, reason=reason)
        throttle.alert_after_failure(session, username, ip_address, now)
        raise LoginRefused("invalid")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if second_step:
        log_attempt(session, user, username, "sign_in_password_accepted", ip_address=ip_address, now=now)
        return user
    user.last_sign_in_at = now
    log_attempt(session, user, username, "sign_in", ip_address=ip_address, now=now)
    return user


def has_second_factor(session: Session, user: User) -> bool:
    """Whether signing in takes a code after the password (casework.security.second_factor)."""
    return session.scalar(select(SecondFactor.id).where(SecondFactor.user_id == user.id)) is not None


def start_session(
    session: Session, user: User, *, now: datetime, ip_address: str = "", user_agent: str = ""
) -> tuple[str, UserSession]:
    """A new session for the user: the token for the cookie (only its hash is stored) and the row."""
    token = secrets.token_urlsafe(32)
    record = UserSession(
        token_hash=_hash(token), user=user, created_at=now, last_seen_at=now,
        ip_address=fit_to_column(UserSession.ip_address, ip_address),
        user_agent=fit_to_column(UserSession.user_agent, user_agent),
    )
    session.add(record)
    return token, record


def session_lookup(*also: ColumnElement[Any]) -> Select[Any]:
    """The statement that finds a session by its token: the session with its user (every
    signed-in request reads both), and `also` columns read in the same statement, what the
    request needs besides (see `resume_session_reading`). Build it once and keep it: building
    it anew at every request costs more than the query."""
    return (select(UserSession, *also).where(UserSession.token_hash == bindparam("token_hash"))
            .options(joinedload(UserSession.user)))


_SESSION_WITH_USER = session_lookup()


def resume_session(
    session: Session, token: str, *, now: datetime, idle_timeout: timedelta, max_age: timedelta
) -> UserSession | None:
    """The live session for this token, or None if it ended, idled out, or its user is disabled."""
    record, _also = resume_session_reading(session, token, _SESSION_WITH_USER, {}, now=now, idle_timeout=idle_timeout,
                                           max_age=max_age)
    return record


def resume_session_reading(
    session: Session, token: str, lookup: Select[Any], params: Mapping[str, Any], *, now: datetime,
    idle_timeout: timedelta, max_age: timedelta,
) -> tuple[UserSession | None, tuple[Any, ...]]:
    """`resume_session`, and the values of the `also` columns of `lookup` (a `session_lookup`
    statement; `params`: their parameters): each round trip to the database costs a busy server
    more than the query, and every request starts with this one. The values are () when no
    session has this token."""
    row = session.execute(lookup, {**params, "token_hash": _hash(token)}).one_or_none()
    if row is None:
        return None, ()
    record = row[0]
    also = tuple(row[1:])
    if record.ended_at is not None:
        return None, also
    if not record.user.active or now - record.last_seen_at > idle_timeout or now - record.created_at > max_age:
        record.ended_at = now
        return None, also
    if now - record.last_seen_at > TOUCH_INTERVAL:
        record.last_seen_at = now
    return record, also


def end_session(session: Session, token: str, *, now: datetime) -> None:
    session.execute(
        update(UserSession).where(UserSession.token_hash == _hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def deactivate_user(session: Session, user: User, *, now: datetime) -> None:
    """Disable the account and end every session it has, at once."""
    user.active = False
    end_user_sessions(session, user, now=now)


def end_user_sessions(session: Session, user: User, *, now: datetime) -> int:
    """End every live session of the user (deactivation, a new password); how many there were."""
    return session.execute(
        update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None)).values(ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
