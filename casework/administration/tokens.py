"""Single-use links to choose a password: the invitation of a new account (valid 72 hours) and the
password reset (valid 1 hour), sent by e-mail through the outbox; and the forgotten-password
request, which answers the same whether or not the account exists and is throttled in the
database (every web worker sees the same counts).

Only the SHA-256 of a link's random token is stored. A link is used once; a new link of the
same account supersedes the older unused ones; choosing a password through a link ends every
session of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from casework.db import fit_to_column
from casework.errors import CaseworkError, InvalidInput
from casework.i18n import N_, gettext
from casework.models import AccountToken, PasswordResetRequest, TokenPurpose, User
from casework.reminders import queue_email
from casework.security import (
    end_user_sessions,
    hash_password,
    password_problem,
    record_admin_change,
)

INVITATION_VALIDITY = timedelta(hours=72)
RESET_VALIDITY = timedelta(hours=1)
VALIDITY = {TokenPurpose.INVITATION: INVITATION_VALIDITY, TokenPurpose.RESET: RESET_VALIDITY}
# The password of an account that has not chosen one yet: no argon2 hash, so nothing verifies.
NO_PASSWORD = "!"

# Forgotten-password requests: per address, and per account (silently: telling would reveal it).
RESET_REQUEST_WINDOW = timedelta(hours=1)
MAX_RESET_REQUESTS_PER_ADDRESS = 10
MAX_RESET_REQUESTS_PER_ACCOUNT = 3

# A link for a token: the web layer knows its pages' addresses, the core does not.
LinkFor = Callable[[TokenPurpose, str], str]

INVITATION_SUBJECT = N_("[Casework] Your account: choose a password")
INVITATION_BODY = N_(
    "Hello {name},\n\n{inviter} created a Casework account for you. Your username is: {username}\n\n"
    "Choose your password within 72 hours by opening this link (it works only once):\n{link}\n\n"
    "If you were not expecting this message, ignore it.\n"
)
RESET_SUBJECT = N_("[Casework] Choose a new password")
RESET_BODY = N_(
    "Hello {name},\n\nsomeone asked to choose a new password for your Casework account ({username}).\n\n"
    "Open this link within one hour to choose it (it works only once):\n{link}\n\n"
    "If it was not you, ignore this message: your password stays as it is.\n"
)


class TokenRefused(CaseworkError):
    """`reason`: "unknown" (never issued, or altered), "used" (used or superseded), "expired"."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def has_password(user: User) -> bool:
    return user.password_hash != NO_PASSWORD


def issue_link(
    session: Session, user: User, purpose: TokenPurpose, *, now: datetime, link_for: LinkFor,
    inviter: User | None = None,
) -> str:
    """A new link for the user, e-mailed through the outbox (sent once the caller commits).

    Older unused links of the account are superseded. Returns the token (for the caller's tests
    and nothing else: it is never stored nor logged)."""
    session.execute(
        update(AccountToken).where(AccountToken.user_id == user.id, AccountToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(32)
    record = AccountToken(token_hash=_hash(token), user_id=user.id, purpose=purpose, created_at=now,
                          expires_at=now + VALIDITY[purpose])
    session.add(record)
    session.flush()
    subject, body = (INVITATION_SUBJECT, INVITATION_BODY) if purpose == TokenPurpose.INVITATION else (
        RESET_SUBJECT, RESET_BODY)
    locale = user.locale or "it"
    queue_email(
        session, dedupe_key=f"account-token:{record.id}", kind=f"account_{purpose.value}", recipient=user,
        subject=gettext(locale, subject),
        body=gettext(locale, body, name=user.full_name, username=user.username, link=link_for(purpose, token),
                     inviter=inviter.full_name if inviter else "Casework"),
        now=now,
    )
    return token


def check_token(session: Session, token: str, purpose: TokenPurpose, *, now: datetime) -> AccountToken:
    """The live token of this purpose, else TokenRefused (nothing is changed)."""
    record = session.scalar(select(AccountToken).where(AccountToken.token_hash == _hash(token)))
    if record is None or record.purpose != purpose:
        raise TokenRefused("unknown")
    if record.used_at is not None:
        raise TokenRefused("used")
    if now >= record.expires_at:
        raise TokenRefused("expired")
    return record


def set_password_with_token(
    session: Session, token: str, purpose: TokenPurpose, password: str, *, now: datetime, ip_address: str = "",
) -> User:
    """Spend the link and give its account this password; an invitation also activates the
    account. Every session of the account ends. TokenRefused or InvalidInput({"password": code})."""
    record = check_token(session, token, purpose, now=now)
    problem = password_problem(password, record.user.username)
    if problem:
        raise InvalidInput({"password": problem})
    # Compare-and-set: of two requests with one link, only one spends it.
    spent = session.execute(
        update(AccountToken).where(AccountToken.id == record.id, AccountToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        raise TokenRefused("used")
    user = record.user
    changes: dict[str, list[str | None]] = {"password": [None, "changed"]}
    if purpose == TokenPurpose.INVITATION and not user.active:
        user.active = True
        changes["active"] = ["False", "True"]
    user.password_hash = hash_password(password)
    end_user_sessions(session, user, now=now)
    record_admin_change(
        session, actor=user, action="accept_invitation" if purpose == TokenPurpose.INVITATION else "reset_password",
        subject_type="user", subject_id=user.id, subject_label=user.username, changes=changes, now=now,
        ip_address=ip_address,
    )
    return user


def _recent_requests(session: Session, now: datetime, condition) -> int:
    return session.scalar(
        select(func.count()).select_from(PasswordResetRequest)
        .where(condition, PasswordResetRequest.at > now - RESET_REQUEST_WINDOW)
    ) or 0


class TooManyRequests(CaseworkError):
    """Too many forgotten-password requests from this address: wait and try again."""


def request_password_reset(
    session: Session, identifier: str, *, ip_address: str, now: datetime, link_for: LinkFor,
) -> None:
    """"I forgot my password" for a username or e-mail address.

    The asker learns nothing: a reset link goes to an active account with a password that has
    not had too many lately, and nothing happens otherwise. Too many requests from one address
    raise TooManyRequests (which says nothing about any account). Every request is recorded.
    """
    ip_address = fit_to_column(PasswordResetRequest.ip_address, ip_address)
    if _recent_requests(session, now, PasswordResetRequest.ip_address == ip_address) >= MAX_RESET_REQUESTS_PER_ADDRESS:
        raise TooManyRequests()
    wanted = identifier.strip().lower()
    user = session.scalar(select(User).where(
        or_(func.lower(User.username) == wanted, func.lower(User.email) == wanted), User.email != "",
    ).limit(1)) if wanted else None
    throttled = user is not None and _recent_requests(
        session, now, PasswordResetRequest.user_id == user.id) >= MAX_RESET_REQUESTS_PER_ACCOUNT
    session.add(PasswordResetRequest(at=now, ip_address=ip_address, user_id=user.id if user else None))
    if user is None or throttled or not user.active or not has_password(user):
        return
    issue_link(session, user, TokenPurpose.RESET, now=now, link_for=link_for)
