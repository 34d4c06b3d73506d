"""E-mail through a real SMTP server (aiosmtpd): delivered once, retried with backoff, failures kept."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casework.config import load_settings
from casework.models import EmailStatus, OutboundEmail
from casework.reminders.mail import (
    MailPolicy,
    SmtpMailer,
    build_message,
    deliver_due_emails,
    failed_emails,
    message_id,
    queue_email,
    retry_email,
)
from tests.reminders.helpers import (
    add_territorial_manager,
    emails,
    free_port,
    message_items,
    open_pact_at,
    rome,
    running_smtp_server,
    sweep_at,
)


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
POLICY = MailPolicy(sender="casework@comune.example.org", max_attempts=3, retry_seconds=60, lease_seconds=300)


def mailer_for(port: int) -> SmtpMailer:
    return SmtpMailer(load_settings({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": 5},
                                    environ={}))


def at(moment: datetime):
    return lambda: moment


def queue(session, user, key: str, subject: str = "Promemoria") -> OutboundEmail:
    email = queue_email(session, dedupe_key=key, kind="reminder", recipient=user, subject=subject,
                        body="Patto n. 1: entro il 16/03/2026\n", now=T0)
    session.commit()
    return email


def test_queued_e_mails_reach_the_smtp_server_once_each(session, session_factory, world, smtp_server):
    handler, port = smtp_server
    for index, user in enumerate((world.manager, world.colleague, world.supervisor)):
        queue(session, user, f"test:{index}", subject=f"Promemoria {index}")
    report = deliver_due_emails(session_factory, mailer_for(port), clock=at(T0), policy=POLICY, holder="a")
    assert report.sent == 3
    received = handler.received()
    assert sorted((str(m["To"]), str(m["Subject"])) for m in received) == [
        ("elena@example.org", "Promemoria 2"), ("giulia@example.org", "Promemoria 0"), ("marco@example.org", "Promemoria 1")]
    assert all(str(m["From"]) == "casework@comune.example.org" for m in received)
    assert all(m["Message-ID"].endswith("@comune.example.org>") for m in received)
    assert len({m["Message-ID"] for m in received}) == 3
    assert {e.status for e in emails(session_factory)} == {EmailStatus.SENT}
    # Nothing is due any more: a second run sends nothing.
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(hours=1)),
                              policy=POLICY, holder="b").sent == 0
    assert len(handler.received()) == 3


def test_the_same_message_is_never_queued_twice(session, world):
    queue(session, world.manager, "digest:1:2026-03-02")
    with pytest.raises(IntegrityError):
        queue(session, world.manager, "digest:1:2026-03-02")
    session.rollback()
    assert queue_email(session, dedupe_key="x", kind="reminder", recipient=_without_address(world.colleague),
                       subject="s", body="b", now=T0) is None


def _without_address(user):
    user.email = ""
    return user


def test_reminders_and_escalations_of_a_sweep_arrive_as_one_e_mail_per_recipient(
    session, session_factory, registry, world, smtp_server
):
    handler, port = smtp_server
    hierarchy = add_territorial_manager(session, world)
    hierarchy.territorial_manager.locale = "en"
    session.commit()
    pacts = [open_pact_at(session, registry, world, rome(2025, 4, 16, 10)) for _ in range(2)]
    sweep_at(session_factory, registry, rome(2025, 6, 3, 10))  # after weeks down: all three levels at once
    deliver_due_emails(session_factory, mailer_for(port), clock=at(rome(2025, 6, 3, 10)), policy=POLICY, holder="a")
    received = handler.received()
    assert sorted(str(m["To"]) for m in received) == ["elena@example.org", "giulia@example.org", "paolo@example.org"]
    items = sorted(item for message in received for item in message_items(message))
    assert items == sorted(
        [("giulia@example.org", p.id, "reminder") for p in pacts]
        + [("elena@example.org", p.id, "escalation") for p in pacts]
        + [("paolo@example.org", p.id, "escalation_again") for p in pacts]
    )
    subjects = {str(m["To"]): str(m["Subject"]) for m in received}
    assert subjects["paolo@example.org"] == "[Casework] 2 overdue deadlines"  # his language: English
    assert subjects["giulia@example.org"] == "[Casework] Promemoria: 2 scadenze"


def test_a_failing_server_is_retried_with_backoff_and_then_marked_failed(session, session_factory, world, smtp_server):
    handler, port = smtp_server
    email = queue(session, world.manager, "test:retry")
    down = mailer_for(free_port())  # nothing listens there
    report = deliver_due_emails(session_factory, down, clock=at(T0), policy=POLICY, holder="a")
    assert report.retried == 1
    [row] = emails(session_factory)
    assert (row.status, row.attempts, row.next_attempt_at) == (EmailStatus.PENDING, 1, T0 + timedelta(seconds=60))
    assert "ConnectionRefusedError" in row.last_error
    # Not before its time; then after 60 s, and the next after 120 s more.
    assert deliver_due_emails(session_factory, down, clock=at(T0 + timedelta(seconds=59)), policy=POLICY,
                              holder="a").retried == 0
    deliver_due_emails(session_factory, down, clock=at(T0 + timedelta(seconds=60)), policy=POLICY, holder="a")
    [row] = emails(session_factory)
    assert (row.attempts, row.next_attempt_at) == (2, T0 + timedelta(seconds=60 + 120))
    report = deliver_due_emails(session_factory, down, clock=at(T0 + timedelta(seconds=180)), policy=POLICY,
                                holder="a")
    assert report.failed == 1
    session.expire_all()  # the test's session still holds the row as it queued it
    [row] = failed_emails(session)
    assert (row.id, row.status, row.attempts) == (email.id, EmailStatus.FAILED, 3)
    # Nothing more happens by itself; an administrator puts it back and it goes out.
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(days=1)), policy=POLICY,
                              holder="a").sent == 0
    assert retry_email(session, email.id, now=T0 + timedelta(days=1))
    session.commit()
    assert not retry_email(session, email.id, now=T0 + timedelta(days=1))  # no longer failed
    session.rollback()
    deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(days=1)), policy=POLICY, holder="a")
    [message] = handler.received()
    assert message["Message-ID"] == message_id(row, POLICY.sender)  # the same for every attempt
    assert failed_emails(session) == []


def test_a_permanent_refusal_is_not_retried(session, session_factory, world, smtp_server):
    handler, port = smtp_server
    handler.reject_with = "550 5.1.1 mailbox unavailable"
    queue(session, world.manager, "test:refused")
    report = deliver_due_emails(session_factory, mailer_for(port), clock=at(T0), policy=POLICY, holder="a")
    assert report.failed == 1
    [row] = emails(session_factory)
    assert (row.status, row.attempts) == (EmailStatus.FAILED, 1)
    assert "550" in row.last_error


class Crash(BaseException):
    """The process dying between claim and send (not an error the sender would catch)."""


class CrashingMailer:
    def send(self, message) -> None:
        raise Crash()


def test_a_sender_that_died_after_claiming_is_taken_over_when_its_lease_runs_out(
    session, session_factory, world, smtp_server
):
    handler, port = smtp_server
    queue(session, world.manager, "test:lease")
    with pytest.raises(Crash):
        deliver_due_emails(session_factory, CrashingMailer(), clock=at(T0), policy=POLICY, holder="dead")
    [row] = emails(session_factory)
    assert (row.status, row.claimed_by, row.next_attempt_at) == (EmailStatus.SENDING, "dead", T0 + timedelta(seconds=300))
    # While the lease holds nobody else sends it; once it has run out, the next run does, once.
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(seconds=299)),
                              policy=POLICY, holder="b").sent == 0
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(seconds=300)),
                              policy=POLICY, holder="b").sent == 1
    assert deliver_due_emails(session_factory, mailer_for(port), clock=at(T0 + timedelta(hours=2)),
                              policy=POLICY, holder="c").sent == 0
    assert len(handler.received()) == 1
    [row] = emails(session_factory)
    assert (row.status, row.attempts, row.claimed_by) == (EmailStatus.SENT, 2, "b")


def test_cancelled_e_mails_are_not_sent(session, session_factory, world, smtp_server):
    handler, port = smtp_server
    email = queue(session, world.manager, "test:cancelled")
    session.execute(OutboundEmail.__table__.update().values(status="cancelled"))
    session.commit()
    deliver_due_emails(session_factory, mailer_for(port), clock=at(T0), policy=POLICY, holder="a")
    assert handler.received() == []
    assert session.scalar(select(OutboundEmail.status).where(OutboundEmail.id == email.id)) == EmailStatus.CANCELLED


def test_the_message_carries_the_outbox_row(session, world):
    email = queue(session, world.manager, "test:headers", subject="[Casework] Promemoria: 1 scadenza")
    message = build_message(email, "casework@example.org")
    assert (message["To"], message["Subject"], message["Auto-Submitted"]) == (
        "giulia@example.org", "[Casework] Promemoria: 1 scadenza", "auto-generated")
    assert message.get_content() == "Patto n. 1: entro il 16/03/2026\n"
    signed = build_message(email, "casework@example.org", "Comune di Settimo Torinese")
    assert signed.get_content() == "Patto n. 1: entro il 16/03/2026\n\n-- \nComune di Settimo Torinese\n"
    assert message_id(email, "casework@example.org") == message["Message-ID"]


def test_an_administrator_sees_and_requeues_failed_e_mails_from_the_command_line(sqlite_url, tmp_path):
    from click.testing import CliRunner

    from casework import migrate
    from casework.cli import main
    from casework.db import make_engine, make_session_factory
    from casework.models import Role, Territory, TerritoryKind, User

    migrate.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    with make_session_factory(engine)() as session:
        user = User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                    role=Role.CASE_MANAGER, territory=Territory(name="Unione", kind=TerritoryKind.UNIONE))
        session.add(user)
        session.flush()
        email = queue(session, user, "test:cli")
        session.execute(OutboundEmail.__table__.update().values(status="failed", attempts=6,
                                                                last_error="SMTPServerDisconnected: gone"))
        session.commit()
    engine.dispose()
    env = {"CASEWORK_DATABASE_URL": sqlite_url, "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance")}
    runner = CliRunner()
    listed = runner.invoke(main, ["mail", "failed"], env=env)
    assert listed.exit_code == 1  # something needs attention
    assert f"{email.id}\t" in listed.output and "giulia@example.org" in listed.output
    assert "SMTPServerDisconnected: gone" in listed.output
    retried = runner.invoke(main, ["mail", "retry", str(email.id)], env=env)
    assert retried.exit_code == 0, retried.output
    assert runner.invoke(main, ["mail", "failed"], env=env).exit_code == 0
    again = runner.invoke(main, ["mail", "retry", str(email.id)], env=env)
    assert again.exit_code != 0 and "not a failed e-mail" in again.output
