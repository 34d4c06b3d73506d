"""In-app notifications and the texts of every notice and e-mail, in the recipient's language.

Texts are messages of the translation catalogue, looked up with the recipient's locale
(casework.i18n): the scheduler renders them with no request and no Flask. Placeholders are
named (`{pact}`), dates are written dd/mm/yyyy.

E-mails and calendar entries name pacts by number and programme, never the person: they
leave the system for mailboxes and calendar services, and a name next to a programme for
victims of violence is special-category data (GDPR art. 9). Inside Casework a notification
shows the person's name to whoever may see the pact.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BindParameter, ColumnElement, ScalarSelect, Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from casework.config import LOCALES
from casework.errors import InvalidInput, UnknownWorkflow
from casework.i18n import N_, Message, gettext
from casework.models import (
    Beneficiary,
    Notification,
    NotificationKind,
    OutboundEmail,
    Pact,
    PactDeadline,
    Programme,
    Role,
    User,
)
from casework.reminders.mail import queue_email
from casework.reminders.referral_deadlines import service_names, with_service
from casework.reminders.scheduler_lock import take_turn
from casework.security import pact_visibility, restricted_pact
from casework.workflow import WorkflowDefinition, WorkflowRegistry, split_referral_rule_id

TEXTS: dict[str, Message] = {
    # In-app notifications: a title and a line.
    "reminder.title": N_("Reminder: {deadline}"),
    "reminder.body": N_("Pact no. {pact} ({programme}){person}: due by {due}."),
    "escalation.title": N_("Overdue: {deadline}"),
    "escalation.body": N_("Pact no. {pact} ({programme}){person}, case manager {manager}: was due on {due}."),
    "escalation_again.title": N_("Still overdue: {deadline}"),
    "escalation_again.body": N_("Pact no. {pact} ({programme}){person}, case manager {manager}: was due on {due}; "
                                "already escalated to the territory's supervisor."),
    "message.title": N_("Notice"),
    "restricted_pact": N_("Pact no. {pact}"),
    # E-mails.
    "email.greeting": N_("Hello {name},"),
    "email.reminder.subject.one": N_("[Casework] Reminder: {deadline}"),
    "email.reminder.subject.many": N_("[Casework] Reminder: {count} deadlines"),
    "email.reminder.intro": N_("these deadlines of the pacts you manage are coming up:"),
    "email.reminder.item": N_("- Pact no. {pact} ({programme}) - {deadline}: due by {due}"),
    "email.escalation.subject.one": N_("[Casework] Overdue: pact no. {pact}"),
    "email.escalation.subject.many": N_("[Casework] {count} overdue deadlines"),
    "email.escalation.intro": N_("these pacts of your territory are overdue:"),
    "email.escalation.item": N_("- Pact no. {pact} ({programme}) - {deadline}: was due on {due}, case manager {manager}{again}"),
    "email.escalation.again": N_(" (second escalation: already escalated to the territory)"),
    "email.digest.subject": N_("[Casework] Your digest for {day}"),
    "email.digest.intro": N_("here are the deadlines of the pacts you manage: {overdue} overdue, {today} due today, "
                             "{soon} in the next 7 days; {unread} unread notifications."),
    "email.digest.overdue": N_("Overdue:"),
    "email.digest.today": N_("Due today:"),
    "email.digest.soon": N_("In the next 7 days:"),
    "email.digest.item": N_("- Pact no. {pact} ({programme}) - {deadline}: {due}"),
    "email.link": N_("  {url}"),
    "email.footer": N_("For confidentiality, Casework's e-mails do not name people: open Casework for the details.\n{url}"),
}


def locale_of(user: User) -> str:
    return user.locale if user.locale in LOCALES else "it"


def text(key: str, locale: str, **params: Any) -> str:
    return gettext(locale, TEXTS[key], **params)


def format_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def rule_label(registry: WorkflowRegistry, workflow: str, version: int, rule_id: str, locale: str,
               services: Mapping[int, str] | None = None) -> str:
    """The label of a deadline rule in `locale`, wherever in the workflow's states it is declared;
    a referral's deadline names its service when `services` (from `service_names`) knows it."""
    try:
        definition = registry.get(workflow, version).definition
    except UnknownWorkflow:
        return rule_id
    return deadline_label(definition, rule_id, locale, services)


def deadline_label(definition: WorkflowDefinition, rule_id: str, locale: str,
                   services: Mapping[int, str] | None = None) -> str:
    """A pact's deadline in words: its rule's label, and for a referral's deadline its service's name
    ("Risposta del servizio all'invio — Emporio solidale") when `services` has it."""
    label = definition.label_of("deadline", rule_id, locale)
    referral_id = split_referral_rule_id(rule_id)[1]
    if services and referral_id is not None and referral_id in services:
        return with_service(label, services[referral_id])
    return label


# --- in-app notifications ----------------------------------------------------------------

def notify(
    session: Session, user: User, message: dict[str, str], *, now: datetime, pact: Pact | None = None
) -> Notification:
    """A notice for `user` (e.g. "this pact was reassigned to you"), its text in every locale:
    see `casework.i18n.in_every_locale`."""
    if not all(message.get(locale, "").strip() for locale in LOCALES):
        raise ValueError("a notification needs a text in Italian and in English")
    notification = Notification(
        user_id=user.id, kind=NotificationKind.MESSAGE, pact_id=pact.id if pact is not None else None,
        message=dict(message), created_at=now,
    )
    session.add(notification)
    session.flush()
    return notification


def _unread(user: User, now: datetime):
    return (
        Notification.user_id == user.id,
        Notification.done_at.is_(None),
        Notification.resolved_at.is_(None),
        or_(Notification.snoozed_until.is_(None), Notification.snoozed_until <= now),
    )


def _unread_count_statement(user_id: ColumnElement[Any], now: BindParameter[Any]) -> Select[Any]:
    table = Notification.__table__
    return select(func.count()).select_from(table).where(
        table.c.user_id == user_id, table.c.done_at.is_(None), table.c.resolved_at.is_(None),
        or_(table.c.snoozed_until.is_(None), table.c.snoozed_until <= now),
    )


# Built once, on the table: the header counts at every signed-in request, and building the
# statement anew through the ORM each time cost three times what the database does.
_UNREAD_COUNT = _unread_count_statement(bindparam("user_id"), bindparam("now"))


def unread_count_column(user_id: ColumnElement[Any], now_parameter: str) -> ScalarSelect[Any]:
    """`unread_count` as a column of another query: for the user whose id is `user_id`, at the
    instant given as the parameter named `now_parameter`."""
    return _unread_count_statement(user_id, bindparam(now_parameter)).scalar_subquery()


def unread_count(session: Session, user: User, now: datetime) -> int:
    """Notifications waiting for the user: not done, not resolved, not snoozed past `now`
    (the same as `_unread`)."""
    return session.execute(_UNREAD_COUNT, {"user_id": user.id, "now": now}).scalar() or 0


@dataclass(frozen=True)
class NotificationView:
    """A notification as the list shows it, in the reader's language."""

    id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    pact_id: int | None
    due_on: date | None
    done: bool
    snoozed_until: datetime | None
    resolved: bool


def list_notifications(
    session: Session,
    registry: WorkflowRegistry,
    user: User,
    *,
    now: datetime,
    include_done: bool = False,
    limit: int = 50,
    locale: str | None = None,
) -> list[NotificationView]:
    """The user's notifications by due day (the earliest first, then those about no deadline, newest
    first): by default those waiting (as `unread_count` counts).

    The person's name appears only on pacts the user may see (access.pact_visibility).
    """
    query = select(Notification).where(Notification.user_id == user.id)
    if not include_done:
        query = query.where(*_unread(user, now))
    # What falls due first comes first; notices about no deadline after them, newest first.
    rows = session.scalars(query.order_by(
        Notification.due_on.is_(None), Notification.due_on, Notification.created_at.desc(), Notification.id.desc(),
    ).limit(limit)).all()
    pact_ids = {row.pact_id for row in rows if row.pact_id is not None}
    details: dict[int, Any] = {}
    if pact_ids:
        for pact_id, workflow, version, programme, manager, first, last in session.execute(
            select(Pact.id, Pact.workflow_name, Pact.workflow_version, Programme.code, User.full_name,
                   Beneficiary.first_name, Beneficiary.last_name)
            .join(Programme, Programme.id == Pact.programme_id)
            .join(User, User.id == Pact.case_manager_id)
            .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
            .where(Pact.id.in_(pact_ids))
        ):
            details[pact_id] = (workflow, version, programme, manager, f"{first} {last}")
        visible = set(session.scalars(select(Pact.id).where(Pact.id.in_(pact_ids), pact_visibility(user))))
    else:
        visible = set()
    locale = locale or locale_of(user)
    services = service_names(session, {row.rule_id for row in rows})
    return [_view(row, details.get(row.pact_id), row.pact_id in visible, registry, locale, services) for row in rows]


def _view(row: Notification, detail: Any, visible: bool, registry: WorkflowRegistry, locale: str,
          services: Mapping[int, str]) -> NotificationView:
    if row.kind == NotificationKind.MESSAGE or detail is None:
        title = text("message.title", locale)
        body = (row.message.get(locale) or row.message["it"]) if row.message else ""
    else:
        workflow, version, programme, manager, person = detail
        params = {
            "deadline": rule_label(registry, workflow, version, row.rule_id, locale, services),
            "pact": row.pact_id, "programme": programme, "manager": manager,
            "person": f", {person}" if visible else "",
            "due": format_day(row.due_on) if row.due_on else "",
        }
        title = text(f"{row.kind.value}.title", locale, **params)
        body = text(f"{row.kind.value}.body", locale, **params)
    return NotificationView(
        id=row.id, kind=row.kind.value, title=title, body=body, created_at=row.created_at, pact_id=row.pact_id,
        due_on=row.due_on, done=row.done_at is not None, snoozed_until=row.snoozed_until,
        resolved=row.resolved_at is not None,
    )


def _own(session: Session, user: User, notification_id: int) -> Notification | None:
    return session.scalars(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    ).one_or_none()


def mark_done(session: Session, user: User, notification_id: int, *, now: datetime) -> bool:
    """Mark one of the user's notifications done; False if it is not theirs (answer 404)."""
    notification = _own(session, user, notification_id)
    if notification is None:
        return False
    if notification.done_at is None:
        notification.done_at = now
    notification.snoozed_until = None
    session.flush()
    return True


def mark_all_done(session: Session, user: User, *, now: datetime) -> int:
    result = session.execute(
        update(Notification).where(*_unread(user, now)).values(done_at=now, snoozed_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def snooze(session: Session, user: User, notification_id: int, *, until: datetime, now: datetime) -> bool:
    """Hide a notification until `until` (it then counts as unread again); False if not theirs.

    Raises InvalidInput({"until": "not_in_future"}) for a time not after `now`.
    """
    if until <= now:
        raise InvalidInput({"until": "not_in_future"})
    notification = _own(session, user, notification_id)
    if notification is None:
        return False
    notification.snoozed_until = until
    notification.done_at = None
    session.flush()
    return True


# --- the daily digest --------------------------------------------------------------------

DIGEST_TURN = "digest"
DUE_SOON = timedelta(days=7)
_DIGEST_LINES = 50


def digest_key(user_id: int, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


def digest_day(now: datetime, zone: ZoneInfo, digest_hour: int) -> date | None:
    """The local day whose digests are due at `now`; None before `digest_hour`."""
    local = now.astimezone(zone)
    return local.date() if local.hour >= digest_hour else None


def queue_daily_digests(
    session_factory: sessionmaker[Session],
    registry: WorkflowRegistry,
    *,
    now: datetime,
    zone: ZoneInfo,
    digest_hour: int,
    base_url: str,
    holder: str,
) -> int:
    """Queue today's digest e-mail for each case manager with something due, once a day
    (those who turned the digest off in their account get none).

    Nothing happens before `digest_hour` local time; after it, any run queues the digests not
    yet queued today (so a scheduler started late still sends them). Returns how many. A case
    manager with nothing due at that run gets no digest that day: the scheduler runs this once
    a day per process (SchedulerJobs.digest), not every few minutes until something falls due.
    """
    day = digest_day(now, zone, digest_hour)
    if day is None:
        return 0
    with session_factory() as session:
        take_turn(session, DIGEST_TURN, holder, now)
        managers = {user.id: user for user in session.scalars(
            select(User).where(User.role == Role.CASE_MANAGER, User.active.is_(True), User.email != "",
                              User.email_digest.is_(True)))}
        if not managers:
            session.commit()
            return 0
        done = set(session.scalars(select(OutboundEmail.dedupe_key).where(
            OutboundEmail.dedupe_key.in_([digest_key(user_id, day) for user_id in managers]))))
        waiting = {user_id: user for user_id, user in managers.items() if digest_key(user_id, day) not in done}
        items: dict[int, list[Any]] = defaultdict(list)
        if waiting:
            for row in session.execute(
                select(Pact.case_manager_id, Pact.id, Pact.workflow_name, Pact.workflow_version, Programme.code,
                       PactDeadline.rule_id, PactDeadline.due_on, PactDeadline.due_at)
                .join(PactDeadline, PactDeadline.pact_id == Pact.id)
                .join(Programme, Programme.id == Pact.programme_id)
                .where(Pact.case_manager_id.in_(list(waiting)), Pact.closed_at.is_(None),
                       PactDeadline.ended_at.is_(None), PactDeadline.paused.is_(False),
                       PactDeadline.due_on <= day + DUE_SOON, ~restricted_pact(Pact.id))
                .order_by(PactDeadline.due_at, Pact.id)
            ):
                items[row[0]].append(row)
        unread = dict(session.execute(
            select(Notification.user_id, func.count()).where(
                Notification.user_id.in_(list(waiting)), Notification.done_at.is_(None),
                Notification.resolved_at.is_(None),
                or_(Notification.snoozed_until.is_(None), Notification.snoozed_until <= now),
            ).group_by(Notification.user_id)
        ).all()) if waiting else {}
        services = service_names(session, {row.rule_id for rows in items.values() for row in rows})
        queued = 0
        for user_id, user in sorted(waiting.items()):
            if not items[user_id]:
                continue
            body = _digest_body(registry, user, items[user_id], unread.get(user_id, 0), now, zone, base_url,
                                services)
            subject = text("email.digest.subject", locale_of(user), day=format_day(day))
            if queue_email(session, dedupe_key=digest_key(user_id, day), kind="digest", recipient=user,
                           subject=subject, body=body, now=now) is not None:
                queued += 1
        session.commit()
        return queued


def _digest_body(registry: WorkflowRegistry, user: User, rows: list[Any], unread: int, now: datetime,
                 zone: ZoneInfo, base_url: str, services: Mapping[int, str] | None = None) -> str:
    locale = locale_of(user)
    # By local day, like Oggi: what falls due today is neither late nor "in the next 7 days".
    today = now.astimezone(zone).date()
    overdue = [row for row in rows if row.due_on < today]
    due_today = [row for row in rows if row.due_on == today]
    soon = [row for row in rows if row.due_on > today]
    lines = [text("email.greeting", locale, name=user.full_name), "",
             text("email.digest.intro", locale, overdue=len(overdue), today=len(due_today), soon=len(soon),
                  unread=unread)]
    for heading, group in (("email.digest.overdue", overdue), ("email.digest.today", due_today),
                           ("email.digest.soon", soon)):
        if not group:
            continue
        lines += ["", text(heading, locale)]
        for row in group[:_DIGEST_LINES]:
            lines.append(text(
                "email.digest.item", locale, pact=row.id, programme=row.code, due=format_day(row.due_on),
                deadline=rule_label(registry, row.workflow_name, row.workflow_version, row.rule_id, locale, services),
            ))
            lines.append(text("email.link", locale, url=f"{base_url}/pacts/{row.id}"))
        if len(group) > _DIGEST_LINES:
            lines.append(f"  (+{len(group) - _DIGEST_LINES})")
    lines += ["", text("email.footer", locale, url=base_url + "/")]
    return "\n".join(lines) + "\n"
