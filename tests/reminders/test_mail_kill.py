"""A scheduler killed (SIGKILL) while it sends through a slow mail server, beside a sweep that
writes: the next scheduler takes over after the lease, and at most the message in flight when
the first died reaches the server twice (SMTP cannot do better: see casework.reminders.mail)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from casework.models import EmailStatus, OutboundEmail
from casework.reminders.mail import queue_email
from tests.reminders.helpers import running_smtp_server
from tests.reminders.test_scheduler import processes_factory, seed_overdue_pacts  # noqa: F401 (a fixture)

QUEUED = 20


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


def unsent(session_factory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(OutboundEmail)
                              .where(OutboundEmail.status != EmailStatus.SENT))


def test_a_sender_killed_mid_batch_repeats_at_most_the_message_in_flight(
    session, session_factory, registry, world, engine, smtp_server, processes_factory  # noqa: F811
):
    handler, port = smtp_server
    handler.data_delay = 0.5  # a slow server: half a second per message
    now = datetime.now(timezone.utc)
    for index in range(QUEUED):
        queue_email(session, dedupe_key=f"kill:{index}", kind="reminder", recipient=world.manager,
                    subject=f"Promemoria {index}", body="Patto\n", now=now)
    session.commit()
    seed_overdue_pacts(session, registry, world, 30)  # and a sweep to write meanwhile
    processes = processes_factory(engine, port, scheduler_batch_size="2", mail_lease_seconds="3",
                                  smtp_timeout_seconds="2", mail_retry_seconds="1")
    first = processes.start()
    assert handler.wait_for(lambda received: len(received) >= 4, timeout=60), processes.logs()[-3000:]
    first.kill()  # SIGKILL: mid-batch, maybe mid-conversation
    first.wait()
    killed_after = len(handler.received())

    processes.start()
    deadline = time.monotonic() + 90
    while unsent(session_factory) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert unsent(session_factory) == 0, processes.logs()[-3000:]
    time.sleep(1.5)  # a further mail run: anything sent twice would show now
    assert processes.stop_all()[-1] == 0

    copies = Counter(message["Message-ID"] for message in handler.received())
    with session_factory() as check:
        outbox = check.scalar(select(func.count()).select_from(OutboundEmail))
    assert len(copies) == outbox  # every message arrived
    repeated = sum(count - 1 for count in copies.values())
    print(f"kill test ({engine.dialect.name}): killed after {killed_after} messages; {outbox} messages, "
          f"{repeated} delivered twice")
    assert repeated <= 1
