"""Cover for an absence: a supervisor names a colleague who follows an absent case manager's
pacts from one local date to another, inclusive.

While the cover is in force the colleague sees those pacts and their people (casework.security
access scoping), receives their reminders (casework.reminders.sweep), and every view is logged
as made under cover. It ends by itself: the scoping compares the cover's instants with the
current time, so no job is needed. The supervisor may end it early.

Operations take the caller's session and never commit; bad input raises InvalidInput({field:
code}); creations and ends are recorded in the administrative log (subject "cover").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from casework.clock import Clock
from casework.errors import CaseworkError, InvalidInput
from casework.models import AbsenceCover, Role, User
from casework.security import (
    cover_active,
    record_admin_change,
    territory_subtree,
    visible_case_managers,
)

MAX_REASON_LENGTH = 300
SUBJECT = "cover"


class NotAllowed(CaseworkError):
    """Only an active supervisor names and ends covers."""


class CoverNotFound(CaseworkError):
    """No such cover for a case manager of the supervisor's territory (the caller answers 404)."""


@dataclass(frozen=True)
class CoverInput:
    absent_user_id: int | None = None
    covering_user_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    reason: str = ""


def _check_supervisor(user: User) -> None:
    if not user.active or user.role != Role.SUPERVISOR:
        raise NotAllowed("only an active supervisor manages covers")


def _start_of(day: date, zone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _label(cover: AbsenceCover) -> str:
    return (f"{cover.covering_user.username} for {cover.absent_user.username} "
            f"{cover.starts_on.isoformat()}..{cover.ends_on.isoformat()}")


def create_cover(
    session: Session, supervisor: User, data: CoverInput, *, clock: Clock, ip_address: str = ""
) -> AbsenceCover:
    """Codes: absent_user_id / covering_user_id "required", "outside_territory";
    covering_user_id "same_person", "already_covering"; starts_on / ends_on "required";
    ends_on "ends_before_starts", "in_past"; reason "too_long"."""
    _check_supervisor(supervisor)
    errors: dict[str, str] = {}
    managers = {user.id: user for user in session.scalars(visible_case_managers(supervisor))}
    for name in ("absent_user_id", "covering_user_id"):
        value = getattr(data, name)
        if value is None:
            errors[name] = "required"
        elif value not in managers:
            errors[name] = "outside_territory"
    if "covering_user_id" not in errors and data.absent_user_id == data.covering_user_id:
        errors["covering_user_id"] = "same_person"
    today = clock.now.astimezone(clock.zone).date()
    if data.starts_on is None:
        errors["starts_on"] = "required"
    if data.ends_on is None:
        errors["ends_on"] = "required"
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        errors["ends_on"] = "ends_before_starts"
    elif data.ends_on < today:
        errors["ends_on"] = "in_past"
    reason = (data.reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        errors["reason"] = "too_long"
    if not errors:
        starts_at, ends_at = _start_of(data.starts_on, clock.zone), _start_of(data.ends_on + timedelta(days=1), clock.zone)
        overlapping = session.scalar(select(AbsenceCover.id).where(
            AbsenceCover.absent_user_id == data.absent_user_id,
            AbsenceCover.covering_user_id == data.covering_user_id,
            AbsenceCover.starts_at < ends_at, AbsenceCover.ends_at > starts_at,
            or_(AbsenceCover.ended_at.is_(None), AbsenceCover.ended_at > clock.now),
        ).limit(1))
        if overlapping is not None:
            errors["covering_user_id"] = "already_covering"
    if errors:
        raise InvalidInput(errors)
    cover = AbsenceCover(
        absent_user=managers[data.absent_user_id], covering_user=managers[data.covering_user_id],
        starts_on=data.starts_on, ends_on=data.ends_on, starts_at=starts_at, ends_at=ends_at, reason=reason,
        created_by=supervisor, created_at=clock.now,
    )
    session.add(cover)
    session.flush()
    record_admin_change(
        session, actor=supervisor, action="create", subject_type=SUBJECT, subject_id=cover.id,
        subject_label=_label(cover), now=clock.now, ip_address=ip_address, changes={
            "absent_user": [None, cover.absent_user.username], "covering_user": [None, cover.covering_user.username],
            "starts_on": [None, cover.starts_on.isoformat()], "ends_on": [None, cover.ends_on.isoformat()],
            "reason": [None, reason],
        },
    )
    return cover


def _supervised():
    """The WHERE condition tying AbsenceCover to its absent case manager (aliased), for scoping."""
    absent = aliased(User)
    return absent, AbsenceCover.absent_user_id == absent.id


def get_cover(session: Session, supervisor: User, cover_id: int) -> AbsenceCover | None:
    """The cover if the absent case manager is of the supervisor's territory subtree, else None."""
    if not supervisor.active or supervisor.role != Role.SUPERVISOR:
        return None
    absent, joined = _supervised()
    return session.scalars(
        select(AbsenceCover).join(absent, joined)
        .where(AbsenceCover.id == cover_id, absent.territory_id.in_(territory_subtree(supervisor)))
    ).one_or_none()


def end_cover(session: Session, supervisor: User, cover_id: int, *, now: datetime, ip_address: str = "") -> AbsenceCover:
    """End a cover early (or cancel one not begun). CoverNotFound outside the supervisor's
    territory; InvalidInput({"cover": "already_ended"}) if it is over already."""
    _check_supervisor(supervisor)
    cover = get_cover(session, supervisor, cover_id)
    if cover is None:
        raise CoverNotFound(str(cover_id))
    if cover.ended_at is not None or cover.ends_at <= now:
        raise InvalidInput({"cover": "already_ended"})
    cover.ended_at = now
    record_admin_change(session, actor=supervisor, action="end", subject_type=SUBJECT, subject_id=cover.id,
                        subject_label=_label(cover), changes={"ended_at": [None, now.isoformat()]}, now=now,
                        ip_address=ip_address)
    session.flush()
    return cover


@dataclass(frozen=True)
class CoverRow:
    cover: AbsenceCover
    status: str  # "upcoming", "active", "ended"


def status_of(cover: AbsenceCover, now: datetime) -> str:
    if (cover.ended_at is not None and cover.ended_at <= now) or cover.ends_at <= now:
        return "ended"
    return "active" if cover.starts_at <= now else "upcoming"


def list_covers(session: Session, supervisor: User, *, now: datetime, limit: int = 200) -> list[CoverRow]:
    """Covers of the supervisor's case managers: those in force or to come first, then the past."""
    if not supervisor.active or supervisor.role != Role.SUPERVISOR:
        return []
    absent, joined = _supervised()
    covers = session.scalars(
        select(AbsenceCover).join(absent, joined)
        .where(absent.territory_id.in_(territory_subtree(supervisor)))
        .options(joinedload(AbsenceCover.absent_user), joinedload(AbsenceCover.covering_user))
        .order_by(AbsenceCover.starts_on.desc(), AbsenceCover.id.desc()).limit(limit)
    ).all()
    rows = [CoverRow(cover, status_of(cover, now)) for cover in covers]
    return sorted(rows, key=lambda row: row.status == "ended")


@dataclass(frozen=True)
class CoveringNow:
    absent_full_name: str
    ends_on: date


def covering_now(session: Session, user: User, *, now: datetime) -> list[CoveringNow]:
    """Whom `user` covers at `now`, and until which day (for Oggi)."""
    if not user.active or user.role != Role.CASE_MANAGER:
        return []
    rows = session.execute(
        select(User.full_name, AbsenceCover.ends_on)
        .join(AbsenceCover, and_(AbsenceCover.absent_user_id == User.id))
        .where(AbsenceCover.covering_user_id == user.id, cover_active(now))
        .order_by(AbsenceCover.ends_on, User.full_name)
    ).all()
    return [CoveringNow(name, ends_on) for name, ends_on in rows]
