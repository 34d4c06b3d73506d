"""Shared by the reminder, mail, scheduler and calendar tests: people, pacts and controlled time."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from casework.models import (
    Beneficiary,
    Gender,
    Notification,
    OutboundEmail,
    Pact,
    Programme,
    Reminder,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.reminders.deadline_rows import ReminderPolicy
from casework.reminders.sweep import SweepReport, sweep
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE
from tests.support import DEFAULT_PATHS, advance

ROME = ZoneInfo("Europe/Rome")
POLICY = ReminderPolicy(zone=ROME, reminder_hour=8, batch_size=50, base_url="https://casework.example.org")


def rome(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A local time in Rome, as the aware UTC datetime the core takes."""
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(timezone.utc)


@dataclass
class Hierarchy:
    """The conftest world plus an ambito above the unione, whose supervisor is the territorial manager."""

    ambito: Territory
    territorial_manager: User


def add_territorial_manager(session: Session, world) -> Hierarchy:
    ambito = Territory(name="Ambito Torino Nord", kind=TerritoryKind.AMBITO)
    world.comune.parent.parent = ambito
    manager = User(username="paolo", full_name="Paolo Ferrero", email="paolo@example.org", password_hash="!",
                   role=Role.SUPERVISOR, territory=ambito, locale="it")
    session.add_all([ambito, manager])
    session.commit()
    return Hierarchy(ambito=ambito, territorial_manager=manager)


def open_pact_at(session: Session, registry: WorkflowRegistry, world, when: datetime, *,
                 programme: Programme | None = None, manager: User | None = None,
                 beneficiary: Beneficiary | None = None) -> Pact:
    beneficiary = beneficiary or Beneficiary(first_name="Anna", last_name="Bruno", gender=Gender.FEMALE,
                                             comune=world.comune)
    pact = ops.open_pact(session, registry, beneficiary=beneficiary, programme=programme or world.programme,
                         case_manager=manager or world.manager, actor=manager or world.manager,
                         clock=ops.Clock(when, ZONE))
    session.commit()
    return pact


def move_to(session: Session, registry: WorkflowRegistry, pact: Pact, state: str, when: datetime, actor: User) -> None:
    for event in DEFAULT_PATHS[state]:
        advance(session, registry, pact, event, actor, ops.Clock(when, ZONE))


def sweep_at(session_factory: sessionmaker[Session], registry: WorkflowRegistry, when: datetime,
             policy: ReminderPolicy = POLICY) -> SweepReport:
    return sweep(session_factory, registry, now=when, policy=policy, holder="test")


def fired(session_factory: sessionmaker[Session]) -> list[tuple[int, str, date, str, str]]:
    """Every reminder written: (pact, rule, due day, kind, recipient's username), in order."""
    with session_factory() as session:
        rows = session.execute(
            select(Reminder.pact_id, Reminder.rule_id, Reminder.due_on, Reminder.kind, User.username)
            .join(User, User.id == Reminder.recipient_id).order_by(Reminder.id)
        ).all()
    return [(pact, rule, due, kind.value, user) for pact, rule, due, kind, user in rows]


def count(session_factory: sessionmaker[Session], model) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model))


def emails(session_factory: sessionmaker[Session]) -> list[OutboundEmail]:
    with session_factory() as session:
        return list(session.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))


def notifications(session_factory: sessionmaker[Session], user: User) -> list[Notification]:
    with session_factory() as session:
        return list(session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)))


# --- a real SMTP server ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RecordingHandler:
    """An aiosmtpd handler that keeps every message it accepted.

    `reject_with` answers DATA with that reply (e.g. "550 no such user"); `stall_at` makes the
    n-th RCPT (1-based) wait until `release` is set, with `stalled` set meanwhile: a sender
    can be killed while it holds a claimed message that the server has not taken.
    """

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.reject_with: str | None = None
        self.stall_at: int | None = None
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.rcpts = 0
        self.lock = threading.Lock()
        self.data_delay = 0.0  # seconds the server takes to accept each message: a slow server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd's hook name
        with self.lock:
            self.rcpts += 1
            stall = self.rcpts == self.stall_at
        if stall:
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "421 closing after a stall"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.reject_with:
            return self.reject_with
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def wait_for(self, predicate, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.received()):
                return True
            time.sleep(0.05)
        return predicate(self.received())


def message_items(message: EmailMessage) -> list[tuple[str, int, str]]:
    """(recipient, pact number, kind) of each pact listed in a reminder or escalation e-mail."""
    body = message.get_content()
    items = []
    for line in body.splitlines():
        for prefix in ("- Patto n. ", "- Pact no. "):
            if line.startswith(prefix):
                pact = int(line[len(prefix):].split(" ", 1)[0])
                if "(secondo sollecito" in line or "(second escalation" in line:
                    kind = "escalation_again"
                elif "scaduto il" in line or "was due on" in line:
                    kind = "escalation"
                else:
                    kind = "reminder"
                items.append((str(message["To"]), pact, kind))
    return items


def running_smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    """A real SMTP server on a free local port, for a fixture to yield: (handler, port)."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        handler.release.set()
        controller.stop()
