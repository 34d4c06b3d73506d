"""Accounts: list, invite, edit, deactivate and reactivate users, send a password link.

Who may do what: an administrator manages every account; a supervisor manages the case
managers of their territory and below (`manageable_users`), and can make nothing else of
them. Nobody demotes or deactivates themselves, and the last active administrator stays one.
Every creation and change goes to the administrative log (never a password hash or a token).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from casework.administration.tokens import NO_PASSWORD, LinkFor, has_password, issue_link
from casework.errors import InvalidInput
from casework.models import Organisation, Role, Territory, TokenPurpose, User, UserSession
from casework.security import (
    changed_fields,
    manageable_users,
    record_admin_change,
    territory_subtree,
)
from casework.security import deactivate_user as end_account

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RECENT_SIGN_IN = timedelta(days=30)
STALE_SIGN_IN = timedelta(days=90)
SIGN_IN_FILTERS = ("recent", "stale", "never")


@dataclass(frozen=True)
class UserInput:
    username: str
    full_name: str
    email: str
    role: str
    territory_id: int | None
    organisation_id: int | None = None


@dataclass(frozen=True)
class UserFilters:
    role: Role | None = None
    territory_id: int | None = None
    active: bool | None = None
    # "recent": signed in within 30 days; "stale": not in 90 days (or never); "never"
    signed_in: str | None = None


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def list_users(
    session: Session, actor: User, filters: UserFilters, *, now: datetime, page: int = 1, per_page: int = 50,
) -> UserPage:
    """The accounts the actor manages, filtered, by name."""
    conditions = []
    if filters.role is not None:
        conditions.append(User.role == filters.role)
    if filters.territory_id is not None:
        conditions.append(User.territory_id == filters.territory_id)
    if filters.active is not None:
        conditions.append(User.active.is_(filters.active))
    if filters.signed_in == "recent":
        conditions.append(User.last_sign_in_at >= now - RECENT_SIGN_IN)
    elif filters.signed_in == "stale":
        conditions.append(or_(User.last_sign_in_at.is_(None), User.last_sign_in_at < now - STALE_SIGN_IN))
    elif filters.signed_in == "never":
        conditions.append(User.last_sign_in_at.is_(None))
    query = manageable_users(actor).where(*conditions)
    total = session.scalar(query.with_only_columns(func.count(User.id)).order_by(None)) or 0
    page = min(max(page, 1), max(1, -(-total // per_page)))  # past the end: the last page
    users = list(session.scalars(
        query.options(joinedload(User.territory), joinedload(User.organisation))
        .order_by(func.lower(User.full_name), User.id).limit(per_page).offset((page - 1) * per_page)
    ))
    return UserPage(users, total, page, per_page)


def get_manageable_user(session: Session, actor: User, user_id: int) -> User | None:
    """The account if the actor manages it, else None (the caller answers 404: no leaks)."""
    return session.scalars(manageable_users(actor).where(User.id == user_id)).one_or_none()


def territory_choices(session: Session, actor: User) -> list[Territory]:
    """Where the actor may place an account: anywhere for an administrator, their subtree for a supervisor."""
    query = select(Territory).order_by(Territory.name, Territory.id)
    if actor.role != Role.ADMIN:
        query = query.where(Territory.id.in_(territory_subtree(actor)))
    return list(session.scalars(query))


def organisation_choices(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def role_choices(actor: User) -> list[Role]:
    """The roles the actor may give: a supervisor only makes case managers."""
    return list(Role) if actor.role == Role.ADMIN else [Role.CASE_MANAGER]


def account_status(user: User) -> str:
    """"active", "invited" (has not chosen a password yet) or "deactivated"."""
    if user.active:
        return "active"
    return "deactivated" if has_password(user) else "invited"


def recent_sign_ins(session: Session, user: User, *, limit: int = 10) -> list[UserSession]:
    """The account's latest sessions (when, from where, with what, ended or not), newest first."""
    return list(session.scalars(
        select(UserSession).where(UserSession.user_id == user.id)
        .order_by(UserSession.created_at.desc(), UserSession.id.desc()).limit(limit)
    ))


def _clean(data: UserInput) -> UserInput:
    return UserInput(
        username=data.username.strip().lower(), full_name=" ".join(data.full_name.split()),
        email=data.email.strip(), role=data.role, territory_id=data.territory_id,
        organisation_id=data.organisation_id,
    )


def _validate(session: Session, actor: User, data: UserInput, *, user: User | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value, limit in (("username", data.username, 80), ("full_name", data.full_name, 160),
                               ("email", data.email, 254)):
        if not value:
            errors[name] = "required"
        elif len(value) > limit:
            errors[name] = "too_long"
    if "username" not in errors and not USERNAME.match(data.username):
        errors["username"] = "invalid_username"
    if "email" not in errors and not EMAIL.match(data.email):
        errors["email"] = "invalid_email"
    others = select(User.id).where(User.id != user.id) if user is not None else select(User.id)
    if "username" not in errors and session.scalar(
            others.where(func.lower(User.username) == data.username.lower()).limit(1)) is not None:
        errors["username"] = "already_used"
    if "email" not in errors and session.scalar(
            others.where(func.lower(User.email) == data.email.lower()).limit(1)) is not None:
        errors["email"] = "already_used"
    if data.role not in {role.value for role in role_choices(actor)}:
        errors["role"] = "not_allowed"
    if data.territory_id is None:
        errors["territory_id"] = "required"
    elif data.territory_id not in {territory.id for territory in territory_choices(session, actor)}:
        errors["territory_id"] = "not_allowed"
    if data.organisation_id is not None and session.get(Organisation, data.organisation_id) is None:
        errors["organisation_id"] = "unknown"
    return errors


def _active_admins(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN, User.active.is_(True))) or 0


def _guard_admins(session: Session, actor: User, user: User, *, field: str, losing_admin: bool,
                  leaving: bool) -> None:
    """Nobody demotes or deactivates themselves; the last active administrator stays one."""
    if user.id == actor.id and leaving:
        raise InvalidInput({field: "own_account"})
    if losing_admin and user.active and user.role == Role.ADMIN and _active_admins(session) <= 1:
        raise InvalidInput({field: "last_admin"})


def _flush(session: Session) -> None:
    """The database has the last word on uniqueness (two administrators saving at once)."""
    try:
        session.flush()
    except IntegrityError as error:
        text = str(error.orig).lower()
        raise InvalidInput({"email" if "email" in text else "username": "already_used"}) from None


def _snapshot(user: User) -> dict[str, object]:
    return {"username": user.username, "full_name": user.full_name, "email": user.email, "role": user.role,
            "territory_id": user.territory_id, "organisation_id": user.organisation_id}


def invite_user(
    session: Session, actor: User, data: UserInput, *, now: datetime, link_for: LinkFor, ip_address: str = "",
) -> User:
    """A new account, inactive until its owner chooses a password through the e-mailed link (72 h)."""
    data = _clean(data)
    errors = _validate(session, actor, data, user=None)
    if errors:
        raise InvalidInput(errors)
    user = User(username=data.username, full_name=data.full_name, email=data.email, role=Role(data.role),
                territory_id=data.territory_id, organisation_id=data.organisation_id, password_hash=NO_PASSWORD,
                active=False, created_at=now)
    session.add(user)
    _flush(session)
    record_admin_change(session, actor=actor, action="invite", subject_type="user", subject_id=user.id,
                        subject_label=user.username, changes=changed_fields({}, _snapshot(user)), now=now,
                        ip_address=ip_address)
    issue_link(session, user, TokenPurpose.INVITATION, now=now, link_for=link_for, inviter=actor)
    return user


def update_user(
    session: Session, actor: User, user: User, data: UserInput, *, now: datetime, ip_address: str = "",
) -> dict[str, list[str | None]]:
    """Change the account's name, e-mail, username, role, territory, organisation; what changed."""
    data = _clean(data)
    errors = _validate(session, actor, data, user=user)
    if errors:
        raise InvalidInput(errors)
    new_role = Role(data.role)
    if new_role != user.role:
        _guard_admins(session, actor, user, field="role", losing_admin=new_role != Role.ADMIN, leaving=True)
    before = _snapshot(user)
    user.username, user.full_name, user.email = data.username, data.full_name, data.email
    user.role, user.territory_id, user.organisation_id = new_role, data.territory_id, data.organisation_id
    changes = changed_fields(before, _snapshot(user))
    if changes:
        _flush(session)
        record_admin_change(session, actor=actor, action="update", subject_type="user", subject_id=user.id,
                            subject_label=user.username, changes=changes, now=now, ip_address=ip_address)
    return changes


def deactivate(session: Session, actor: User, user: User, *, now: datetime, ip_address: str = "") -> None:
    """Disable the account and end its sessions at once."""
    if not user.active:
        return
    _guard_admins(session, actor, user, field="active", losing_admin=True, leaving=True)
    end_account(session, user, now=now)
    record_admin_change(session, actor=actor, action="deactivate", subject_type="user", subject_id=user.id,
                        subject_label=user.username, changes={"active": ["True", "False"]}, now=now,
                        ip_address=ip_address)


def reactivate(session: Session, actor: User, user: User, *, now: datetime, ip_address: str = "") -> None:
    """Enable a deactivated account again (one still waiting for its password gets a new invitation instead)."""
    if user.active:
        return
    if not has_password(user):
        raise InvalidInput({"active": "no_password"})
    user.active = True
    record_admin_change(session, actor=actor, action="reactivate", subject_type="user", subject_id=user.id,
                        subject_label=user.username, changes={"active": ["False", "True"]}, now=now,
                        ip_address=ip_address)


def send_password_link(
    session: Session, actor: User, user: User, *, now: datetime, link_for: LinkFor, ip_address: str = "",
) -> TokenPurpose:
    """E-mail the account a link to choose a password: a reset link (1 h), or a new invitation
    (72 h) if it never chose one. Older unused links stop working."""
    if user.active and has_password(user):
        purpose = TokenPurpose.RESET
    elif not has_password(user):
        purpose = TokenPurpose.INVITATION
    else:
        raise InvalidInput({"active": "inactive"})
    if not user.email:
        raise InvalidInput({"email": "required"})
    issue_link(session, user, purpose, now=now, link_for=link_for, inviter=actor)
    record_admin_change(
        session, actor=actor, action="send_invitation" if purpose == TokenPurpose.INVITATION else "send_reset_link",
        subject_type="user", subject_id=user.id, subject_label=user.username, now=now, ip_address=ip_address,
    )
    return purpose
