"""The sweep: due deadline rows turned into reminders and escalations, in the app and by e-mail.

- `sweep` first refreshes the pacts queued by the triggers (casework.reminders.deadline_rows),
  then reads the rows whose `next_fire_at` has passed (an index range scan: its cost follows
  the number due, not the number of pacts), and for each firing writes a `Reminder` (unique
  per pact, rule, due day, recipient and kind), an in-app `Notification` and an e-mail in the
  outbox, in one transaction per batch.
- Every batch transaction first takes the "sweep" turn (casework.reminders.scheduler_lock): scheduler
  processes run their batches one at a time, so two of them never decide the same reminder,
  and if one dies mid-batch its transaction is rolled back and the next run does the work.
  The unique key stands behind the lock: a duplicate cannot be written even by mistake.
- A reminder's recipient is read from the pact when it fires; `hand_over_reminders` deals
  with those already written when a pact goes to another case manager.

Nothing due is dropped because the scheduler was down: a firing whose time has passed goes
out at the next sweep, and its `fire_at` keeps when it was meant to go.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.errors import UnknownWorkflow
from casework.models import (
    AbsenceCover,
    Beneficiary,
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
from casework.reminders.calendars import territory_calendar
from casework.reminders.deadline_rows import (
    ReminderPolicy,
    find_rule,
    open_firings,
    refresh_pact_deadlines,
    refresh_queued,
)
from casework.reminders.mail import email_values
from casework.reminders.notifications import format_day, locale_of, rule_label, text
from casework.reminders.referral_deadlines import service_names
from casework.reminders.scheduler_lock import take_turn
from casework.security import cover_active, restricted_pact
from casework.workflow import WorkflowRegistry

SWEEP_TURN = "sweep"


@dataclass
class SweepReport:
    refreshed: int = 0
    fired: int = 0  # reminders and escalations written (one per recipient)
    emails: int = 0
    batches: int = 0
    by_kind: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class _Directory:
    """Territories, supervisors and covers in force, read once per batch: whom an escalation
    goes to, and who covers an absent case manager's reminders."""

    def __init__(self, session: Session, now: datetime):
        self.covering: dict[int, list[int]] = defaultdict(list)
        for absent_id, covering_id in session.execute(
            select(AbsenceCover.absent_user_id, AbsenceCover.covering_user_id).where(cover_active(now))
            .order_by(AbsenceCover.covering_user_id).distinct()
        ):
            self.covering[absent_id].append(covering_id)
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
        # The case manager, and whoever covers their absence today.
        return [user_id for user_id in (pact.case_manager_id, *directory.covering.get(pact.case_manager_id, ()))
                if user_id in active]
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
        # A restricted person's rows stay due, parked: they fire at the first sweep once it is lifted.
        .where(PactDeadline.next_fire_at <= now, ~restricted_pact(PactDeadline.pact_id))
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
    directory = _Directory(session, now)
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
        due, upcoming = open_firings(rule, row.anchor_on, row.extension, policy, now, sent[(row.pact_id, row.rule_id)],
                                     territory_calendar(session, pact.territory_id))
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
    services = service_names(session, {item.values["rule_id"] for item in written})
    messages: list[dict] = []
    members: list[list[_Written]] = []
    for (recipient_id, purpose), items in sorted(groups.items()):
        recipient = users[recipient_id]
        if not recipient.email or not recipient.email_reminders:
            continue  # no address, or they chose the in-app notifications alone
        locale = locale_of(recipient)
        items.sort(key=lambda item: (item.values["due_on"], item.pact.id, item.values["rule_id"],
                                     item.values["kind"].value))
        lines = []
        for item in items:
            pact, values = item.pact, item.values
            params = {
                "pact": pact.id, "programme": pact.programme, "due": format_day(values["due_on"]),
                "deadline": rule_label(registry, pact.workflow_name, pact.workflow_version, values["rule_id"], locale,
                                       services),
                "manager": users[pact.case_manager_id].full_name if pact.case_manager_id in users else "",
                "again": text("email.escalation.again", locale) if values["kind"] == ReminderKind.ESCALATION_AGAIN else "",
            }
            lines.append(text(f"email.{purpose}.item", locale, **params))
            lines.append(text("email.link", locale, url=f"{policy.base_url}/pacts/{pact.id}"))
        first = items[0]
        if len(items) == 1:
            subject = text(f"email.{purpose}.subject.one", locale, pact=first.pact.id, deadline=rule_label(
                registry, first.pact.workflow_name, first.pact.workflow_version, first.values["rule_id"], locale,
                services))
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
    turns = _Turns(session_factory)
    while True:
        with turns.batch() as session:
            take_turn(session, SWEEP_TURN, holder, now)
            taken = refresh_queued(session, registry, now=now, policy=policy, limit=policy.batch_size)
            session.commit()
        report.refreshed += taken
        if taken < policy.batch_size:
            break
    while True:
        with turns.batch() as session:
            take_turn(session, SWEEP_TURN, holder, now)
            taken = _fire_batch(session, registry, policy, now, report)
            session.commit()
        if taken:
            report.batches += 1
        if taken < policy.batch_size:
            break
    return report


# The longest pause between two batches on SQLite: a writer waiting for the lock sleeps at
# most 100 ms between tries (SQLite's busy handler), so a pause that long lets it in.
SQLITE_TURN_PAUSE = 0.1


class _Turns:
    """Batch transactions that leave room between them for other writers on SQLite.

    SQLite has one write lock and no queue: a writer that finds it taken sleeps and tries
    again, while a sweep that commits and at once begins its next batch takes the lock back
    first, so the mail sender (and the web) would wait out a long sweep and then fail. After
    each batch the sweep pauses as long as the batch took, up to SQLITE_TURN_PAUSE: at most
    about half the time goes to the sweep while someone waits. PostgreSQL locks rows: the
    mail and the web never wait for a sweep batch's lock on other rows, so no pause there.
    """

    def __init__(self, session_factory: sessionmaker[Session]):
        self.session_factory = session_factory
        bind = session_factory.kw.get("bind")
        self.pause = SQLITE_TURN_PAUSE if bind is not None and bind.dialect.name == "sqlite" else 0.0
        self.owed = 0.0

    @contextmanager
    def batch(self) -> Iterator[Session]:
        if self.owed:
            time.sleep(self.owed)
        started = time.monotonic()
        with self.session_factory() as session:
            yield session
        self.owed = min(time.monotonic() - started, self.pause)


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
