"""Handing pacts to another case manager: a supervisor's decision, with its reason, all or nothing.

Like casework.pacts.operations, the operation takes the caller's session, the acting user and `now`,
and never commits: the caller commits, or rolls back on any error, which undoes the batch.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from casework.errors import CaseworkError, InvalidInput
from casework.i18n import N_, Message, gettext
from casework.models import Pact, PactReassignment, Role, User
from casework.reminders import (
    LOCALES,
    SWEEP_TURN,
    format_day,
    hand_over_reminders,
    notify,
    rule_label,
    take_turn,
)
from casework.security import can_see_pact, visible_case_managers, visible_pacts
from casework.versioning import check_version, touch
from casework.workflow import WorkflowRegistry

MAX_REASON = 2000
# A notice lists at most this many pacts by number, then says how many more.
_LISTED = 20
_REASON_IN_NOTICE = 300

TEXTS: dict[str, Message] = {
    "assigned.one": N_("{actor} assigned pact no. {pact} ({programme}) to you; it was managed by {previous}. Reason: {reason}"),
    "assigned.many": N_("{actor} assigned {count} pacts to you: {pacts}. Reason: {reason}"),
    "assigned.item": N_("no. {pact} ({programme}, from {previous})"),
    "next_deadline": N_(" Next deadline: {deadline}, due by {due}."),
    "released.one": N_("{actor} reassigned pact no. {pact} ({programme}) to {manager}. Reason: {reason}"),
    "released.many": N_("{actor} reassigned {count} of your pacts to {manager}: {pacts}. Reason: {reason}"),
    "released.item": N_("no. {pact} ({programme})"),
    "more": N_(" and {count} more"),
}


class ReassignmentRefused(CaseworkError):
    """Only an active supervisor reassigns pacts."""


def reassign_pacts(
    session: Session,
    registry: WorkflowRegistry,
    actor: User,
    pact_ids_with_versions: Mapping[int, int] | Iterable[tuple[int, int]],
    to_manager_id: int | None,
    reason: str,
    *,
    now: datetime,
    zone: ZoneInfo,
) -> list[PactReassignment]:
    """Give each pact (id -> the version the supervisor read) to the case manager `to_manager_id`.

    The actor must be a supervisor who sees every pact; the new manager must be one of their
    team (`access.visible_case_managers`) and manage none of the pacts yet. Each pact's
    version moves and a `PactReassignment` records who moved it, from whom, to whom, why and
    when. Both managers get one notice for the whole batch, in their language; the pacts'
    coming reminders go to the new manager (`reminders.hand_over_reminders`).

    Raises ReassignmentRefused for an actor who is not an active supervisor; InvalidInput
    with codes pacts "required"/"not_found", to_manager "required"/"not_eligible"/
    "same_manager", reason "required"/"too_long"; PactConflict when a pact changed since it
    was read. Versions are checked before anything is written, and a change that slips in
    meanwhile fails its UPDATE: either way the caller's rollback leaves nothing of the batch.
    """
    if not actor.active or actor.role != Role.SUPERVISOR:
        raise ReassignmentRefused(f"{actor.username} may not reassign pacts")
    expected = dict(pact_ids_with_versions)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if not reason:
        errors["reason"] = "required"
    elif len(reason) > MAX_REASON:
        errors["reason"] = "too_long"
    target = None
    if to_manager_id is None:
        errors["to_manager"] = "required"
    else:
        target = session.scalars(visible_case_managers(actor).where(User.id == to_manager_id)).one_or_none()
        if target is None:
            errors["to_manager"] = "not_eligible"
    pacts: list[Pact] = []
    if not expected:
        errors["pacts"] = "required"
    else:
        pacts = list(session.scalars(
            visible_pacts(actor).where(Pact.id.in_(list(expected))).order_by(Pact.id)
            .options(joinedload(Pact.programme))
        ))
        if len(pacts) != len(expected):
            errors["pacts"] = "not_found"
    if not errors:
        # A pact changed since it was read is a conflict first: reassigned meanwhile to this very
        # manager, it would otherwise read as the supervisor's mistake ("same manager").
        for pact in pacts:
            check_version(pact, expected[pact.id])
    if target is not None and any(pact.case_manager_id == target.id for pact in pacts):
        errors["to_manager"] = "same_manager"
    if errors:
        raise InvalidInput(errors)
    assert target is not None

    # The sweep reads each pact's manager to address its reminders: none runs while this writes.
    take_turn(session, SWEEP_TURN, f"user:{actor.id}", now)
    previous: dict[int, int] = {}
    for pact in pacts:
        previous[pact.id] = pact.case_manager_id
        pact.case_manager = target
        touch(pact, expected[pact.id], now)

    records = [
        PactReassignment(pact_id=pact.id, from_manager_id=previous[pact.id], to_manager_id=target.id, reason=reason,
                         actor_id=actor.id, at=now, pact_version=pact.version)
        for pact in pacts
    ]
    session.add_all(records)
    by_previous: dict[int, list[Pact]] = defaultdict(list)
    for pact in pacts:
        by_previous[previous[pact.id]].append(pact)
    for manager_id, handed in by_previous.items():
        hand_over_reminders(session, [pact.id for pact in handed], manager_id, target.id, now=now)
    _notify_managers(session, registry, actor, target, pacts, previous, by_previous, reason, now=now, zone=zone)
    session.flush()
    return records


def _notify_managers(
    session: Session, registry: WorkflowRegistry, actor: User, target: User, pacts: list[Pact],
    previous: dict[int, int], by_previous: dict[int, list[Pact]], reason: str, *, now: datetime, zone: ZoneInfo,
) -> None:
    """One notice to the new manager and one to each former manager. They name pacts by number
    and programme, never the person: a former manager may no longer see the pact."""
    people = {user.id: user for user in session.scalars(select(User).where(User.id.in_(set(previous.values()))))}
    shown_reason = textwrap.shorten(reason, _REASON_IN_NOTICE, placeholder=" …")

    def listing(key: str, items: list[Pact], locale: str) -> str:
        shown = [_text(key, locale, pact=pact.id, programme=pact.programme.code,
                       previous=people[previous[pact.id]].full_name) for pact in items[:_LISTED]]
        more = _text("more", locale, count=len(items) - _LISTED) if len(items) > _LISTED else ""
        return ", ".join(shown) + more

    def assigned(locale: str) -> str:
        if len(pacts) > 1:
            return _text("assigned.many", locale, actor=actor.full_name, count=len(pacts),
                         pacts=listing("assigned.item", pacts, locale), reason=shown_reason)
        [pact] = pacts
        message = _text("assigned.one", locale, actor=actor.full_name, pact=pact.id, programme=pact.programme.code,
                        previous=people[previous[pact.id]].full_name, reason=shown_reason)
        if pact.next_deadline_at is not None and pact.next_deadline_label:
            message += _text("next_deadline", locale, due=format_day(pact.next_deadline_at.astimezone(zone).date()),
                             deadline=rule_label(registry, pact.workflow_name, pact.workflow_version,
                                                 pact.next_deadline_label, locale))
        return message

    notify(session, target, {locale: assigned(locale) for locale in LOCALES}, now=now,
           pact=pacts[0] if len(pacts) == 1 else None)

    def released(locale: str, handed: list[Pact]) -> str:
        if len(handed) > 1:
            return _text("released.many", locale, actor=actor.full_name, manager=target.full_name,
                         count=len(handed), pacts=listing("released.item", handed, locale), reason=shown_reason)
        return _text("released.one", locale, actor=actor.full_name, manager=target.full_name,
                     pact=handed[0].id, programme=handed[0].programme.code, reason=shown_reason)

    for manager_id, handed in by_previous.items():
        manager = people[manager_id]
        if not manager.active:
            continue  # someone who left: nobody would read it
        # Linked only while they still see it (e.g. from the équipe); otherwise the link would lead nowhere.
        linked = handed[0] if len(handed) == 1 and can_see_pact(session, manager, handed[0].id) else None
        notify(session, manager, {locale: released(locale, handed) for locale in LOCALES}, now=now, pact=linked)


def _text(key: str, locale: str, **params: object) -> str:
    return gettext(locale, TEXTS[key], **params)
