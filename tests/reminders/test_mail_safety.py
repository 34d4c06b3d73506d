"""The mail sender cannot poison or duplicate itself: a message that cannot be built fails alone,
and two senders with a slow server each send every message once."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from casework.config import ConfigError, load_settings
from casework.models import EmailStatus, OutboundEmail
from casework.reminders import sweep as sweep_module
from casework.reminders.mail import (
    ABANDONED,
    MailPolicy,
    SmtpMailer,
    deliver_due_emails,
    queue_email,
)
from tests.reminders.helpers import emails, open_pact_at, rome, running_smtp_server, sweep_at

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
POLICY = MailPolicy(sender="casework@comune.example.org", max_attempts=3, retry_seconds=60, lease_seconds=300)


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


def mailer_for(port: int, timeout: int = 5) -> SmtpMailer:
    return SmtpMailer(load_settings({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": timeout},
                                    environ={}))


def at(moment: datetime):
    return lambda: moment


def queue(session, user, key: str, subject: str = "Promemoria", body: str = "Patto n. 1\n", now: datetime = T0):
    email = queue_email(session, dedupe_key=key, kind="reminder", recipient=user, subject=subject, body=body, now=now)
    session.commit()
    return email


def test_a_message_that_cannot_be_built_is_failed_alone_and_the_others_go(
    session, session_factory, world, smtp_server, caplog
):
    handler, port = smtp_server
    queue(session, world.manager, "test:0", subject="Promemoria 0")
    poisoned = queue(session, world.colleague, "test:1", subject="Promemoria\nBcc: someone@example.org")
    queue(session, world.supervisor, "test:2", subject="Promemoria 2")
    with caplog.at_level(logging.INFO, logger="casework.reminders.mail"):
        report = deliver_due_emails(session_factory, mailer_for(port), clock=at(T0), policy=POLICY, holder="a")
    assert (report.sent, report.failed, report.retried) == (2, 1, 0)
    assert sorted(str(m["Subject"]) for m in handler.received()) == ["Promemoria 0", "Promemoria 2"]
    rows = {row.id: row for row in emails(session_factory)}
    assert rows[poisoned.id].status == EmailStatus.FAILED
    assert rows[poisoned.id].attempts == 1  # not retried: it would fail the same way every time
    assert rows[poisoned.id].last_error.startswith("ValueError: ") and "linefeed" in rows[poisoned.id].last_error
    assert any(record.levelno == logging.ERROR and f"e-mail {poisoned.id}" in record.getMessage()
               for record in caplog.records)
    # Later runs leave it alone: an administrator sees it among the failed e-mails.
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(hours=1)), policy=POLICY,
                              holder="b").sent == 0
    assert len(handler.received()) == 2


class BrokenForOne:
    """A transport that raises something other than an SMTP or network error for one recipient."""

    def __init__(self, bad: str):
        self.bad = bad
        self.sent: list[str] = []

    def send(self, message) -> None:
        if str(message["To"]) == self.bad:
            raise UnicodeEncodeError("ascii", "è", 0, 1, "ordinal not in range(128)")
        self.sent.append(str(message["To"]))


def test_a_transport_error_that_is_not_smtp_or_network_fails_that_message_only(session, session_factory, world):
    for index, user in enumerate((world.manager, world.colleague, world.supervisor)):
        queue(session, user, f"test:{index}")
    mailer = BrokenForOne(world.colleague.email)
    report = deliver_due_emails(session_factory, mailer, clock=at(T0), policy=POLICY, holder="a")
    assert (report.sent, report.failed) == (2, 1)
    assert sorted(mailer.sent) == sorted([world.manager.email, world.supervisor.email])
    statuses = {row.to_address: (row.status, row.last_error.split(":")[0]) for row in emails(session_factory)}
    assert statuses[world.colleague.email] == (EmailStatus.FAILED, "UnicodeEncodeError")
    assert statuses[world.manager.email][0] == statuses[world.supervisor.email][0] == EmailStatus.SENT


def test_a_label_with_a_newline_reaching_the_outbox_fails_its_message_and_not_the_others(
    session, session_factory, registry, world, smtp_server, monkeypatch
):
    """As a workflow label with a newline did before the validator refused them: through the sweep."""
    handler, port = smtp_server
    from tests.reminders.helpers import add_territorial_manager

    add_territorial_manager(session, world)
    pact = open_pact_at(session, registry, world, rome(2025, 4, 16, 10))
    labels = iter(["Primo colloquio\nBcc: x@example.org"] * 2)

    def label(*args, **kwargs):  # the first message (its line, its subject) gets the bad label
        return next(labels, "Primo colloquio")

    monkeypatch.setattr(sweep_module, "rule_label", label)
    sweep_at(session_factory, registry, rome(2025, 6, 3, 10))
    report = deliver_due_emails(session_factory, mailer_for(port), clock=at(rome(2025, 6, 3, 10)), policy=POLICY,
                                holder="a")
    assert (report.sent, report.failed) == (2, 1)
    assert len(handler.received()) == 2
    failed = [row for row in emails(session_factory) if row.status == EmailStatus.FAILED]
    assert len(failed) == 1 and "\n" in failed[0].subject and "ValueError" in failed[0].last_error
    assert all(f"n. {pact.id}" in message.get_content() for message in handler.received())


def test_a_message_whose_last_attempt_never_reported_back_is_failed_not_claimed_forever(
    session, session_factory, world, smtp_server
):
    handler, port = smtp_server
    email = queue(session, world.manager, "test:abandoned")
    session.execute(update(OutboundEmail).values(status=EmailStatus.SENDING, attempts=POLICY.max_attempts,
                                                 claimed_by="dead", next_attempt_at=T0))
    session.commit()
    report = deliver_due_emails(session_factory, mailer_for(port), clock=at(T0), policy=POLICY, holder="a")
    assert report.sent == 0 and handler.received() == []
    [row] = emails(session_factory)
    assert (row.id, row.status, row.last_error, row.attempts) == (email.id, EmailStatus.FAILED, ABANDONED, 3)


def test_two_senders_with_a_slow_server_send_each_message_once(session, session_factory, world, smtp_server):
    """0.5 s per message and a 4 s lease: a claim of 20 would outlive its lease after 8 messages.
    The lease is renewed (if still ours) before each message, so no message goes twice.
    (Without the renewal, 10 of these 30 went twice.)"""
    handler, port = smtp_server
    handler.data_delay = 0.5
    now = datetime.now(timezone.utc)
    users = (world.manager, world.colleague, world.supervisor)
    for index in range(30):
        queue(session, users[index % 3], f"test:slow:{index}", subject=f"Messaggio {index}", now=now)
    reports = []

    def sender(name: str, batch_size: int) -> None:
        # The second takes small batches: it is free again while the first is still sending
        # its batch of 20, whose last leases have run out by then.
        policy = MailPolicy(sender="casework@example.org", max_attempts=3, retry_seconds=1, lease_seconds=4,
                            batch_size=batch_size)
        clock = lambda: datetime.now(timezone.utc)
        for _ in range(3):  # a scheduler's mail job, run again while messages are left
            reports.append(deliver_due_emails(session_factory, mailer_for(port, timeout=3), clock=clock,
                                              policy=policy, holder=name))

    threads = [threading.Thread(target=sender, args=args) for args in (("first", 20), ("second", 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    subjects = Counter(str(message["Subject"]) for message in handler.received())
    assert subjects == Counter({f"Messaggio {index}": 1 for index in range(30)})
    assert {row.status for row in emails(session_factory)} == {EmailStatus.SENT}
    assert sum(report.sent for report in reports) == 30
    assert sum(report.lost_leases for report in reports) > 0  # the race happened, and was lost safely


def test_a_send_is_bounded_by_the_smtp_timeout_in_all(session, world, smtp_server):
    """A server slower than the timeout in total (not per command) is cut off: the lease, which
    must be longer than the timeout, covers the whole send."""
    import time

    from casework.reminders.mail import build_message

    handler, port = smtp_server
    handler.data_delay = 3.0  # each command is answered at once, but DATA takes 3 s
    email = queue(session, world.manager, "test:bounded")
    started = time.monotonic()
    with pytest.raises(OSError):
        mailer_for(port, timeout=1).send(build_message(email, "casework@example.org"))
    assert time.monotonic() - started < 2


def test_the_lease_must_outlast_one_send():
    with pytest.raises(ConfigError, match="mail_lease_seconds"):
        load_settings({"mail_lease_seconds": 30, "smtp_timeout_seconds": 30}, environ={})
    assert load_settings({"mail_lease_seconds": 4, "smtp_timeout_seconds": 3}, environ={}).mail_lease_seconds == 4


def test_a_claim_takes_no_more_messages_than_its_lease_can_send():
    from casework.reminders.mail import MailPolicy

    # 300 s of lease, each message up to 30 s of SMTP and 10 s waiting to record: 7 a claim.
    assert MailPolicy.from_settings(load_settings({}, environ={})).batch_size == 7
    assert MailPolicy.from_settings(load_settings(
        {"mail_lease_seconds": 4, "smtp_timeout_seconds": 3}, environ={})).batch_size == 1
    assert MailPolicy.from_settings(load_settings(
        {"mail_lease_seconds": 3600, "smtp_timeout_seconds": 10, "db_lock_timeout_seconds": 5}, environ={})).batch_size == 20
