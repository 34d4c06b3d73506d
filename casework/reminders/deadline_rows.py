"""Deadlines as rows, and the sweep that turns the due ones into reminders and escalations.

How it fits together:

- Each open pact has one `PactDeadline` row per deadline rule of its current state, computed
  by `refresh_pact_deadlines` from the workflow file, the pact's history, and the pauses and
  moved anchors people recorded (casework.reminders.deadlines). A row knows when its next reminder or
  escalation falls due (`next_fire_at`, in a partial index).
- Whatever changes a pact's state or contacts queues the pact in `deadline_refresh` (database
  triggers, in the same transaction), so the rows follow moves made by any code path; the
  operations here (pause, resume, move an anchor) refresh the rows at once.
- `sweep` first refreshes the queued pacts, then reads the rows whose `next_fire_at` has
  passed (an index range scan: its cost follows the number due, not the number of pacts),
  and for each firing writes a `Reminder` (unique per pact, rule, due day, recipient and
  kind), an in-app `Notification` and an e-mail in the outbox, in one transaction per batch.
- Every batch transaction first takes the "sweep" turn (casework.reminders.scheduler_lock): scheduler
  processes run their batches one at a time, so two of them never decide the same reminder,
  and if one dies mid-batch its transaction is rolled back and the next run does the work.
  The unique key stands behind the lock: a duplicate cannot be written even by mistake.

Firing times, for a deadline due on day D (local time, `reminder_hour`, Europe/Rome):

- reminder to the case manager: D minus `remind_before_days`, moved back to a working day;
- escalation to the supervisors of the pact's territory (the nearest territory above the
  person's comune, or the programme's territory, that has supervisors): D plus
  `escalate_after_days` plus one (overdue by that many whole days), moved on to a working day;
- second escalation, to the territorial manager (the supervisors of the next territory up
  that has any): likewise after `escalate_again_after_days`;
- a recurring rule (`every`) repeats all three for each later occurrence. Once the next
  occurrence is itself past due, the firings of the earlier one that have not gone out are
  dropped: it is the newer one that matters.

Nothing due is dropped because the scheduler was down: a firing whose time has passed goes
out at the next sweep, and its `fire_at` keeps when it was meant to go.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.config import Settings
from casework.reminders.deadlines import (
    Deadline,
    StatePosition,
    end_of_local_day,
    local_time,
    occurrence_due,
    refresh_next_deadline,
    state_deadlines,
)
from casework.errors import InvalidInput, UnknownWorkflow
from casework.reminders.scheduler_lock import take_turn
from casework.versioning import check_version, touch
from casework.reminders.mail import email_values
from casework.models import (
    Beneficiary,
    DeadlineAnchorMove,
    DeadlinePause,
    DeadlineRefresh,
    EmailStatus,
    Notification,
    NotificationKind,
    OutboundEmail,
    Pact,
    PactDeadline,
    Programme,
    Reminder,
    ReminderKind,
    Role,
    Territory,
    User,
)
from casework.reminders.notifications import format_day, locale_of, rule_label, text
from casework.reminders.workdays import working_day_on_or_after, working_day_on_or_before
from casework.workflow.definition import DeadlineRule, WorkflowDefinition
from casework.workflow.engine import WorkflowRegistry

log = logging.getLogger(__name__)

SWEEP_TURN = "sweep"
ROME = ZoneInfo("Europe/Rome")
# A recurring rule never needs more occurrences than this looked at in one go.
_MAX_OCCURRENCES = 1000


@dataclass(frozen=True)
class ReminderPolicy:
    """When firings go out and where e-mails link to."""

    zone: ZoneInfo = ROME
    reminder_hour: int = 8
    batch_size: int = 200
    base_url: str = "http://127.0.0.1:5000"

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        return cls(zone=settings.zone, reminder_hour=settings.reminder_hour,
                   batch_size=settings.scheduler_batch_size, base_url=settings.base_url)


# --- firing times ------------------------------------------------------------------------

class Firing(NamedTuple):
    fire_at: datetime
    kind: ReminderKind
    due_on: date


def occurrence_firings(rule: DeadlineRule, due_on: date, policy: ReminderPolicy) -> list[Firing]:
    """The reminder and escalations of one occurrence of a deadline due on `due_on`."""
    return list(_firings(rule.remind_before_days, rule.escalate_after_days, rule.escalate_again_after_days,
                         due_on, policy.reminder_hour, policy.zone))


@lru_cache(maxsize=16384)
def _firings(remind_before: int, escalate_after: int | None, escalate_again_after: int | None, due_on: date,
             hour: int, zone: ZoneInfo) -> tuple[Firing, ...]:
    firings = [Firing(
        local_time(working_day_on_or_before(due_on - timedelta(days=remind_before)), hour, zone),
        ReminderKind.REMINDER, due_on,
    )]
    for days, kind in ((escalate_after, ReminderKind.ESCALATION), (escalate_again_after, ReminderKind.ESCALATION_AGAIN)):
        if days is not None:
            day = working_day_on_or_after(due_on + timedelta(days=days + 1))
            firings.append(Firing(local_time(day, hour, zone), kind, due_on))
    return tuple(firings)


def open_firings(
    rule: DeadlineRule,
    anchor_on: date,
    extension: int,
    policy: ReminderPolicy,
    now: datetime,
    sent: set[tuple[date, ReminderKind]],
) -> tuple[list[Firing], datetime | None]:
    """(firings not yet sent whose time has come, the time of the next one after `now`).

    `sent` holds (due day, kind) of the firings already written for this pact and rule.
    """
    due: list[Firing] = []
    upcoming: datetime | None = None
    for index in range(_MAX_OCCURRENCES):
        due_on = occurrence_due(rule, anchor_on, extension, index)
        firings = occurrence_firings(rule, due_on, policy)
        if min(f.fire_at for f in firings) > now:
            for firing in firings:
                if (firing.due_on, firing.kind) not in sent:
                    upcoming = firing.fire_at if upcoming is None else min(upcoming, firing.fire_at)
            break
        superseded = rule.every is not None and end_of_local_day(
            occurrence_due(rule, anchor_on, extension, index + 1), policy.zone) <= now
        if not superseded:
            for firing in firings:
                if (firing.due_on, firing.kind) in sent:
                    continue
                if firing.fire_at <= now:
                    due.append(firing)
                else:
                    upcoming = firing.fire_at if upcoming is None else min(upcoming, firing.fire_at)
        if rule.every is None:
            break
    return sorted(due), upcoming


# --- keeping the rows in step with the pact ---------------------------------------------

def _definition(registry: WorkflowRegistry, pact: Pact) -> WorkflowDefinition:
    return registry.get(pact.workflow_name, pact.workflow_version).definition


def find_rule(definition: WorkflowDefinition, state: str, rule_id: str) -> DeadlineRule | None:
    if state not in definition.states:
        return None
    return next((rule for rule in definition.states[state].deadlines if rule.id == rule_id), None)


def _sent_keys(session: Session, pact_id: int) -> dict[str, set[tuple[date, ReminderKind]]]:
    sent: dict[str, set[tuple[date, ReminderKind]]] = defaultdict(set)
    for rule_id, due_on, kind in session.execute(
        select(Reminder.rule_id, Reminder.due_on, Reminder.kind).where(Reminder.pact_id == pact_id).distinct()
    ):
        sent[rule_id].add((due_on, kind))
    return sent


def _schedule(row: PactDeadline, rule: DeadlineRule, policy: ReminderPolicy, now: datetime,
              sent: set[tuple[date, ReminderKind]]) -> None:
    if row.paused:
        row.next_fire_at = None
        return
    due, upcoming = open_firings(rule, row.anchor_on, row.extension, policy, now, sent)
    row.next_fire_at = due[0].fire_at if due else upcoming


def refresh_pact_deadlines(
    session: Session, registry: WorkflowRegistry, pact: Pact, *, now: datetime, policy: ReminderPolicy
) -> list[PactDeadline]:
    """Bring the pact's deadline rows in line with its state, contacts, pauses and anchors.

    A row whose rule no longer applies, or whose anchor moved on (the state entered again, a
    new contact), ends: `met` says whether that happened by its due time; its waiting
    notifications are resolved and its unsent e-mails cancelled. Returns the live rows.
    """
    live = {row.rule_id: row for row in session.scalars(
        select(PactDeadline).where(PactDeadline.pact_id == pact.id, PactDeadline.ended_at.is_(None))
    )}
    try:
        definition = _definition(registry, pact)
    except UnknownWorkflow:
        log.error("pact %s: workflow %s v%s is not loaded; its deadlines are left as they are",
                  pact.id, pact.workflow_name, pact.workflow_version)
        return list(live.values())
    current: dict[str, Deadline] = {}
    if pact.closed_at is None and pact.state in definition.states:
        current = {d.rule.id: d for d in state_deadlines(session, definition, StatePosition.of(pact), policy.zone)}
    sent = _sent_keys(session, pact.id) if (current or live) else {}

    ended = False
    for rule_id, row in list(live.items()):
        deadline = current.get(rule_id)
        if deadline is not None and row.natural_anchor_at == deadline.natural_anchor_at:
            continue
        end_at = deadline.natural_anchor_at if deadline is not None else (pact.closed_at or pact.state_entered_at)
        _end(session, row, end_at, now)
        del live[rule_id]
        ended = True
    if ended:
        session.flush()  # before a new row takes the ended one's place in the unique index

    for rule_id, deadline in current.items():
        row = live.get(rule_id)
        if row is None:
            row = live[rule_id] = PactDeadline(pact_id=pact.id, rule_id=rule_id, created_at=now,
                                               natural_anchor_at=deadline.natural_anchor_at)
            session.add(row)
        row.state = pact.state
        row.state_entered_at = pact.state_entered_at
        row.anchor_on = deadline.anchor_on
        row.extension = deadline.extension
        row.due_on = deadline.due_on
        row.due_at = deadline.due_at
        row.paused = deadline.paused
        _schedule(row, deadline.rule, policy, now, sent.get(rule_id, set()))
    session.flush()
    return sorted(live.values(), key=lambda r: r.due_at)


def _end(session: Session, row: PactDeadline, end_at: datetime, now: datetime) -> None:
    row.ended_at = end_at
    row.met = end_at <= row.due_at
    row.next_fire_at = None
    # A pause of a deadline that is over has nothing left to stop.
    for pause in session.scalars(select(DeadlinePause).where(
        DeadlinePause.pact_id == row.pact_id, DeadlinePause.rule_id == row.rule_id, DeadlinePause.resumed_at.is_(None)
    )):
        pause.resumed_at = max(end_at, pause.paused_at)
    if row.id is None:
        return
    session.execute(
        update(Notification).where(
            Notification.deadline_id == row.id, Notification.resolved_at.is_(None), Notification.done_at.is_(None)
        ).values(resolved_at=now).execution_options(synchronize_session=False)
    )
    _cancel_unsent_emails(session, row.id)


def _cancel_unsent_emails(session: Session, deadline_id: int) -> None:
    """Cancel the waiting e-mails that were only about deadlines now over."""
    email_ids = set(session.scalars(select(Reminder.email_id).where(
        Reminder.deadline_id == deadline_id, Reminder.email_id.is_not(None))))
    if not email_ids:
        return
    session.flush()
    still_relevant = set(session.scalars(
        select(Reminder.email_id).join(PactDeadline, PactDeadline.id == Reminder.deadline_id)
        .where(Reminder.email_id.in_(email_ids), PactDeadline.ended_at.is_(None))
    ))
    cancel = email_ids - still_relevant
    if cancel:
        session.execute(
            update(OutboundEmail).where(OutboundEmail.id.in_(cancel), OutboundEmail.status == EmailStatus.PENDING)
            .values(status=EmailStatus.CANCELLED).execution_options(synchronize_session=False)
        )


def refresh_queued(
    session: Session, registry: WorkflowRegistry, *, now: datetime, policy: ReminderPolicy, limit: int
) -> int:
    """Refresh up to `limit` pacts queued by the triggers; returns how many queue entries it took."""
    entries = session.execute(
        select(DeadlineRefresh.id, DeadlineRefresh.pact_id).order_by(DeadlineRefresh.id).limit(limit)
    ).all()
    if not entries:
        return 0
    pact_ids = sorted({pact_id for _, pact_id in entries})
    for pact in session.scalars(select(Pact).where(Pact.id.in_(pact_ids)).order_by(Pact.id)):
        refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)
    # Taken by id, not by pact: an entry queued meanwhile by a newer change stays for next time.
    session.execute(delete(DeadlineRefresh).where(DeadlineRefresh.id.in_([entry_id for entry_id, _ in entries])))
    return len(entries)


# --- the sweep ---------------------------------------------------------------------------

@dataclass
class SweepReport:
    refreshed: int = 0
    fired: int = 0  # reminders and escalations written (one per recipient)
    emails: int = 0
    batches: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Directory:
    """Territories and supervisors, read once per batch: whom an escalation goes to."""

    def __init__(self, session: Session):
        self.parent = dict(session.execute(select(Territory.id, Territory.parent_id)).all())
        self.supervisors: dict[int, list[int]] = defaultdict(list)
        for user_id, territory_id in session.execute(
            select(User.id, User.territory_id).where(User.role == Role.SUPERVISOR, User.active.is_(True))
            .order_by(User.id)
        ):
            self.supervisors[territory_id].append(user_id)

    def escalation_levels(self, territory_id: int | None) -> list[list[int]]:
        """[supervisors of the nearest territory that has any, those of the next one up]."""
        levels: list[list[int]] = []
        seen: set[int] = set()
        while territory_id is not None and territory_id not in seen and len(levels) < 2:
            seen.add(territory_id)
            if self.supervisors.get(territory_id):
                levels.append(self.supervisors[territory_id])
            territory_id = self.parent.get(territory_id)
        return levels


class _PactFacts(NamedTuple):
    id: int
    state: str
    state_entered_at: datetime
    closed_at: datetime | None
    workflow_name: str
    workflow_version: int
    case_manager_id: int
    territory_id: int | None
    programme: str


def _pact_facts(session: Session, pact_ids: Iterable[int]) -> dict[int, _PactFacts]:
    rows = session.execute(
        select(Pact.id, Pact.state, Pact.state_entered_at, Pact.closed_at, Pact.workflow_name, Pact.workflow_version,
               Pact.case_manager_id, Beneficiary.comune_id, Programme.territory_id, Programme.code)
        .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
        .join(Programme, Programme.id == Pact.programme_id)
        .where(Pact.id.in_(list(pact_ids)))
    ).all()
    return {
        row[0]: _PactFacts(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] or row[8], row[9])
        for row in rows
    }


def _recipients(kind: ReminderKind, pact: _PactFacts, directory: _Directory, active: set[int]) -> list[int]:
    if kind == ReminderKind.REMINDER:
        return [pact.case_manager_id] if pact.case_manager_id in active else []
    levels = directory.escalation_levels(pact.territory_id)
    level = 0 if kind == ReminderKind.ESCALATION else 1
    return levels[level] if len(levels) > level else []


_DEADLINES = PactDeadline.__table__


class _Written(NamedTuple):
    """A reminder decided in this batch, as the row it becomes."""

    values: dict
    pact: _PactFacts


def _fire_batch(
    session: Session, registry: WorkflowRegistry, policy: ReminderPolicy, now: datetime, report: SweepReport
) -> int:
    """Write the firings of up to one batch of due rows; returns how many rows it took.

    Core statements, several rows each: the ORM's per-object bookkeeping would cost more than
    the database does.
    """
    rows = session.execute(
        select(PactDeadline.id, PactDeadline.pact_id, PactDeadline.rule_id, PactDeadline.state,
               PactDeadline.state_entered_at, PactDeadline.anchor_on, PactDeadline.extension)
        .where(PactDeadline.next_fire_at <= now)
        .order_by(PactDeadline.next_fire_at, PactDeadline.id).limit(policy.batch_size)
        .with_for_update(skip_locked=True, of=PactDeadline)
    ).all()
    if not rows:
        return 0
    pacts = _pact_facts(session, {row.pact_id for row in rows})
    sent: dict[tuple[int, str], set[tuple[date, ReminderKind]]] = defaultdict(set)
    for pact_id, rule_id, due_on, kind in session.execute(
        select(Reminder.pact_id, Reminder.rule_id, Reminder.due_on, Reminder.kind)
        .where(Reminder.pact_id.in_(list(pacts))).distinct()
    ):
        sent[(pact_id, rule_id)].add((due_on, kind))
    directory = _Directory(session)
    active = set(session.scalars(select(User.id).where(User.active.is_(True))))

    written: list[_Written] = []
    next_fire: list[dict] = []
    stale: list[int] = []
    for row in rows:
        pact = pacts.get(row.pact_id)
        rule = None
        if pact is not None and pact.closed_at is None and pact.state == row.state \
                and pact.state_entered_at == row.state_entered_at:
            try:
                rule = find_rule(registry.get(pact.workflow_name, pact.workflow_version).definition, row.state, row.rule_id)
            except UnknownWorkflow:
                rule = None
        if rule is None:
            # The pact moved since the row was computed (its refresh is queued): recompute now.
            stale.append(row.pact_id)
            next_fire.append({"row_id": row.id, "fire_at": None})
            continue
        due, upcoming = open_firings(rule, row.anchor_on, row.extension, policy, now, sent[(row.pact_id, row.rule_id)])
        next_fire.append({"row_id": row.id, "fire_at": upcoming})
        for firing in due:
            for recipient_id in _recipients(firing.kind, pact, directory, active):
                written.append(_Written({
                    "pact_id": row.pact_id, "rule_id": row.rule_id, "due_on": firing.due_on,
                    "recipient_id": recipient_id, "kind": firing.kind, "deadline_id": row.id,
                    "fire_at": firing.fire_at, "created_at": now, "email_id": None,
                }, pact))
                report.by_kind[firing.kind.value] += 1
            sent[(row.pact_id, row.rule_id)].add((firing.due_on, firing.kind))

    # Firing times fall on a few instants (the reminder hour of a few days): one UPDATE each.
    by_time: dict[datetime | None, list[int]] = defaultdict(list)
    for change in next_fire:
        by_time[change["fire_at"]].append(change["row_id"])
    for fire_at, row_ids in by_time.items():
        session.execute(update(_DEADLINES).where(_DEADLINES.c.id.in_(row_ids)).values(next_fire_at=fire_at))
    report.emails += _queue_emails(session, registry, policy, written, now)
    if written:
        # RETURNING makes SQLAlchemy send multi-row VALUES pages instead of one INSERT per row.
        session.execute(insert(Reminder).returning(Reminder.id), [item.values for item in written])
        session.execute(insert(Notification).returning(Notification.id), [{
            "user_id": item.values["recipient_id"], "kind": NotificationKind(item.values["kind"].value),
            "pact_id": item.values["pact_id"], "deadline_id": item.values["deadline_id"],
            "rule_id": item.values["rule_id"], "due_on": item.values["due_on"], "created_at": now,
            "message": None,
        } for item in written])
    report.fired += len(written)
    if stale:
        for pact in session.scalars(select(Pact).where(Pact.id.in_(stale))):
            refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)
    return len(rows)


def _queue_emails(
    session: Session, registry: WorkflowRegistry, policy: ReminderPolicy, written: list[_Written], now: datetime,
) -> int:
    """One e-mail per recipient and purpose for the batch: reminders, or escalations with the list.

    Sets each written reminder's `email_id`.
    """
    groups: dict[tuple[int, str], list[_Written]] = defaultdict(list)
    for item in written:
        purpose = "reminder" if item.values["kind"] == ReminderKind.REMINDER else "escalation"
        groups[(item.values["recipient_id"], purpose)].append(item)
    if not groups:
        return 0
    wanted = {recipient for recipient, _ in groups} | {item.pact.case_manager_id for item in written}
    users = {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}
    messages: list[dict] = []
    members: list[list[_Written]] = []
    for (recipient_id, purpose), items in sorted(groups.items()):
        recipient = users[recipient_id]
        if not recipient.email:
            continue
        locale = locale_of(recipient)
        items.sort(key=lambda item: (item.values["due_on"], item.pact.id, item.values["rule_id"],
                                     item.values["kind"].value))
        lines = []
        for item in items:
            pact, values = item.pact, item.values
            params = {
                "pact": pact.id, "programme": pact.programme, "due": format_day(values["due_on"]),
                "deadline": rule_label(registry, pact.workflow_name, pact.workflow_version, values["rule_id"], locale),
                "manager": users[pact.case_manager_id].full_name if pact.case_manager_id in users else "",
                "again": text("email.escalation.again", locale) if values["kind"] == ReminderKind.ESCALATION_AGAIN else "",
            }
            lines.append(text(f"email.{purpose}.item", locale, **params))
            lines.append(text("email.link", locale, url=f"{policy.base_url}/pacts/{pact.id}"))
        first = items[0]
        if len(items) == 1:
            subject = text(f"email.{purpose}.subject.one", locale, pact=first.pact.id, deadline=rule_label(
                registry, first.pact.workflow_name, first.pact.workflow_version, first.values["rule_id"], locale))
        else:
            subject = text(f"email.{purpose}.subject.many", locale, count=len(items))
        body = "\n".join([
            text("email.greeting", locale, name=recipient.full_name), "",
            text(f"email.{purpose}.intro", locale), "", *lines, "",
            text("email.footer", locale, url=policy.base_url + "/"),
        ]) + "\n"
        # Named after its first reminder, whose own key is unique: the message is queued once.
        key = (f"{purpose}:{recipient_id}:{first.pact.id}:{first.values['rule_id']}:"
               f"{first.values['due_on'].isoformat()}:{first.values['kind'].value}")
        messages.append(email_values(dedupe_key=key, kind=purpose, recipient=recipient, subject=subject, body=body,
                                     now=now))
        members.append(items)
    if not messages:
        return 0
    email_ids = session.scalars(
        insert(OutboundEmail).returning(OutboundEmail.id, sort_by_parameter_order=True), messages
    ).all()
    for email_id, items in zip(email_ids, members, strict=True):
        for item in items:
            item.values["email_id"] = email_id
    return len(messages)


def sweep(
    session_factory: sessionmaker[Session],
    registry: WorkflowRegistry,
    *,
    now: datetime,
    policy: ReminderPolicy,
    holder: str,
) -> SweepReport:
    """Refresh the queued pacts, then write every reminder and escalation due by `now`.

    Each batch is its own transaction, taken in turn with other scheduler processes; a crash
    loses at most the batch in progress, which the next sweep does again.
    """
    report = SweepReport()
    while True:
        with session_factory() as session:
            take_turn(session, SWEEP_TURN, holder, now)
            taken = refresh_queued(session, registry, now=now, policy=policy, limit=policy.batch_size)
            session.commit()
        report.refreshed += taken
        if taken < policy.batch_size:
            break
    while True:
        with session_factory() as session:
            take_turn(session, SWEEP_TURN, holder, now)
            taken = _fire_batch(session, registry, policy, now, report)
            session.commit()
        if taken:
            report.batches += 1
        if taken < policy.batch_size:
            break
    return report


# --- operations people perform on deadlines ----------------------------------------------

def live_deadlines(session: Session, pact: Pact) -> list[PactDeadline]:
    """The pact's current deadlines (paused ones included), earliest first."""
    return list(session.scalars(
        select(PactDeadline).where(PactDeadline.pact_id == pact.id, PactDeadline.ended_at.is_(None))
        .order_by(PactDeadline.due_at, PactDeadline.id)
    ))


def _take_turn_with_the_scheduler(session: Session, actor: User | None, now: datetime) -> None:
    """Recompute a pact's rows only while no sweep batch does: both could add the same row."""
    take_turn(session, SWEEP_TURN, f"user:{actor.id}" if actor else "system", now)


def _live_row(session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, now: datetime,
              policy: ReminderPolicy) -> PactDeadline:
    rows = {row.rule_id: row for row in refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)}
    if rule_id not in rows:
        raise InvalidInput({"rule_id": "not_a_current_deadline"})
    return rows[rule_id]


def _changed(session: Session, registry: WorkflowRegistry, pact: Pact, now: datetime, policy: ReminderPolicy,
             expected_version: int | None) -> None:
    """The pact's deadline changed: its stored next deadline and version follow, like any change."""
    refresh_next_deadline(session, _definition(registry, pact), pact, policy.zone)
    touch(pact, expected_version, now)
    refresh_pact_deadlines(session, registry, pact, now=now, policy=policy)


def pause_deadline(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *, reason: str,
    actor: User | None, now: datetime, policy: ReminderPolicy = ReminderPolicy(),
    expected_version: int | None = None,
) -> DeadlinePause:
    """Stop a current deadline for a justified reason (e.g. the person is in hospital).

    No reminder or escalation goes out while it is paused; on resuming, the days paused are
    added to it. InvalidInput: reason "required", rule_id "not_a_current_deadline" or
    "already_paused".
    """
    if not reason.strip():
        raise InvalidInput({"reason": "required"})
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    row = _live_row(session, registry, pact, rule_id, now, policy)
    if row.paused:
        raise InvalidInput({"rule_id": "already_paused"})
    pause = DeadlinePause(pact_id=pact.id, rule_id=rule_id, paused_at=now, reason=reason.strip(),
                          paused_by_id=actor.id if actor else None)
    session.add(pause)
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return pause


def resume_deadline(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *,
    actor: User | None, now: datetime, policy: ReminderPolicy = ReminderPolicy(),
    expected_version: int | None = None,
) -> PactDeadline:
    """Restart a paused deadline, its due day pushed later by the days it was paused."""
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    pause = session.scalars(select(DeadlinePause).where(
        DeadlinePause.pact_id == pact.id, DeadlinePause.rule_id == rule_id, DeadlinePause.resumed_at.is_(None)
    )).one_or_none()
    if pause is None:
        raise InvalidInput({"rule_id": "not_paused"})
    pause.resumed_at = max(now, pause.paused_at)
    pause.resumed_by_id = actor.id if actor else None
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return _live_row(session, registry, pact, rule_id, now, policy)


def move_deadline_anchor(
    session: Session, registry: WorkflowRegistry, pact: Pact, rule_id: str, *, anchor_on: date, reason: str,
    actor: User | None, now: datetime, policy: ReminderPolicy = ReminderPolicy(),
    expected_version: int | None = None,
) -> PactDeadline:
    """Count a current deadline from another day (e.g. the day a referral really arrived).

    The deadline, its reminders and escalations are recomputed; reminders already sent for
    the old due day stay sent. The move lasts while the rule's own anchor stays the same.
    InvalidInput: reason "required", anchor_on "in_future", rule_id "not_a_current_deadline".
    """
    errors = {}
    if not reason.strip():
        errors["reason"] = "required"
    if anchor_on > now.astimezone(policy.zone).date():
        errors["anchor_on"] = "in_future"
    if errors:
        raise InvalidInput(errors)
    check_version(pact, expected_version)
    _take_turn_with_the_scheduler(session, actor, now)
    row = _live_row(session, registry, pact, rule_id, now, policy)
    session.add(DeadlineAnchorMove(
        pact_id=pact.id, rule_id=rule_id, natural_anchor_at=row.natural_anchor_at, anchor_on=anchor_on,
        reason=reason.strip(), moved_at=now, moved_by_id=actor.id if actor else None,
    ))
    session.flush()
    _changed(session, registry, pact, now, policy, expected_version)
    return _live_row(session, registry, pact, rule_id, now, policy)


# --- a pact handed to another case manager ------------------------------------------------

def hand_over_reminders(
    session: Session, pact_ids: Iterable[int], from_manager_id: int, to_manager_id: int, *, now: datetime
) -> None:
    """After `pact_ids` left `from_manager_id` for `to_manager_id`, within that transaction.

    A reminder's recipient is read from the pact when it fires (`_recipients`), so every one
    still to come goes to the new case manager. One already written stays written: the sweep
    knows it by pact, rule, due day and kind, whoever received it, so it is not sent again.
    Instead the former manager's unread reminder notifications about these pacts move to the
    new manager, who now has to act on them (unsnoozed: the snooze was the former manager's
    plan); a reminder e-mail to the former manager not yet sent that is only about these pacts
    is cancelled (one that also lists other pacts still goes). Escalations go to supervisors,
    who stay the same, and are left alone.
    """
    ids = sorted(set(pact_ids))
    if not ids:
        return
    session.execute(
        update(Notification).where(
            Notification.user_id == from_manager_id, Notification.pact_id.in_(ids),
            Notification.kind == NotificationKind.REMINDER,
            Notification.resolved_at.is_(None), Notification.done_at.is_(None),
        ).values(user_id=to_manager_id, snoozed_until=None).execution_options(synchronize_session=False)
    )
    email_ids = set(session.scalars(select(Reminder.email_id).where(
        Reminder.recipient_id == from_manager_id, Reminder.pact_id.in_(ids), Reminder.kind == ReminderKind.REMINDER,
        Reminder.email_id.is_not(None),
    )))
    if not email_ids:
        return
    also_about_others = set(session.scalars(select(Reminder.email_id).where(
        Reminder.email_id.in_(email_ids), Reminder.pact_id.not_in(ids))))
    cancel = email_ids - also_about_others
    if cancel:
        session.execute(
            update(OutboundEmail).where(OutboundEmail.id.in_(cancel), OutboundEmail.status == EmailStatus.PENDING)
            .values(status=EmailStatus.CANCELLED).execution_options(synchronize_session=False)
        )
