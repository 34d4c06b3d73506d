"""The scheduler: its APScheduler jobs, and real `casework scheduler` processes against a real
SMTP server: started after downtime, killed with SIGKILL mid-sweep and mid-send, two at once.
Every reminder and escalation that was due reaches the server exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from casework import PROJECT_ROOT
from casework.config import load_settings
from casework.models import EmailStatus, Notification, OutboundEmail, Reminder
from casework.reminders.scheduler import (
    DIGEST_JOB,
    MAIL_JOB,
    SEAL_JOB,
    SWEEP_JOB,
    SchedulerJobs,
    build_scheduler,
)
from tests.reminders.helpers import (
    add_territorial_manager,
    count,
    free_port,
    message_items,
    open_pact_at,
    running_smtp_server,
)


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()

UTC = timezone.utc


class NoMail:
    def send(self, message) -> None:
        raise AssertionError("no mail expected here")


def test_four_interval_jobs_with_stable_ids_that_catch_up(registry):
    settings = load_settings({"scheduler_sweep_seconds": 60, "scheduler_mail_seconds": 30,
                              "scheduler_digest_seconds": 300, "scheduler_seal_seconds": 600}, environ={})
    jobs = SchedulerJobs(settings=settings, registry=registry, session_factory=sessionmaker(), mailer=NoMail())
    before = datetime.now(UTC)
    scheduler = build_scheduler(jobs)
    assert isinstance(scheduler, BlockingScheduler)
    by_id = {job.id: job for job in scheduler.get_jobs()}
    assert set(by_id) == {SWEEP_JOB, MAIL_JOB, DIGEST_JOB, SEAL_JOB}
    assert {job_id: job.trigger.interval for job_id, job in by_id.items()} == {
        SWEEP_JOB: timedelta(seconds=60), MAIL_JOB: timedelta(seconds=30), DIGEST_JOB: timedelta(seconds=300),
        SEAL_JOB: timedelta(seconds=600)}
    for job in by_id.values():
        # Late runs are run, however late (the default grace of 1 s would drop them), folded into one.
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
        assert before <= job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1)  # at once: catch-up


def test_the_web_application_never_loads_the_scheduler():
    code = ("import sys, casework.web, casework.web.pacts.today, casework.web.pacts.page; "
            "print(any(m == 'apscheduler' or m.startswith('apscheduler.') or m == 'casework.reminders.scheduler' for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- real processes ----------------------------------------------------------------------

def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class Processes:
    """`casework scheduler` processes started by a test, each logging to its own file."""

    def __init__(self, engine, port: int, tmp_path: Path, **settings: str):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "CASEWORK_ENV": "development",
            "CASEWORK_DATABASE_URL": _url(engine),
            "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"),
            "CASEWORK_SMTP_HOST": "127.0.0.1",
            "CASEWORK_SMTP_PORT": str(port),
            "CASEWORK_SCHEDULER_SWEEP_SECONDS": "1",
            "CASEWORK_SCHEDULER_MAIL_SECONDS": "1",
            "CASEWORK_SCHEDULER_DIGEST_SECONDS": "3600",
            # Always past the digest hour, so each test also checks the digest goes once.
            "CASEWORK_DIGEST_HOUR": "0",
            **{f"CASEWORK_{key.upper()}": value for key, value in settings.items()},
        }
        self.started: list[subprocess.Popen] = []

    def start(self, **settings: str) -> subprocess.Popen:
        log = (self.tmp_path / f"scheduler-{len(self.started)}.log").open("wb")
        env = {**self.env, **{f"CASEWORK_{key.upper()}": value for key, value in settings.items()}}
        process = subprocess.Popen([sys.executable, "-m", "casework.cli", "scheduler"], cwd=PROJECT_ROOT,
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.started.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted(self.tmp_path.glob("scheduler-*.log")))

    def stop_all(self) -> list[int]:
        """SIGTERM each live process and wait: a scheduler stops cleanly on it."""
        for process in self.started:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = []
        for process in self.started:
            try:
                codes.append(process.wait(timeout=20))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture
def processes_factory(tmp_path):
    created: list[Processes] = []

    def make(engine, port: int, **settings: str) -> Processes:
        created.append(Processes(engine, port, tmp_path, **settings))
        return created[-1]

    yield make
    for processes in created:
        processes.kill_all()


def seed_overdue_pacts(session, registry, world, number: int) -> list[tuple[str, int, str]]:
    """Pacts opened 45 days ago: their screening reminder and both escalations are all past due,
    fallen due while no scheduler ran. Returns the expected (recipient, pact, kind) items."""
    add_territorial_manager(session, world)
    opened = datetime.now(UTC) - timedelta(days=45)
    expected = []
    for _ in range(number):
        pact = open_pact_at(session, registry, world, opened)
        expected += [("giulia@example.org", pact.id, "reminder"), ("elena@example.org", pact.id, "escalation"),
                     ("paolo@example.org", pact.id, "escalation_again")]
    return expected


def is_digest(message) -> bool:
    return "riepilogo" in str(message["Subject"]) or "digest" in str(message["Subject"])


def delivered(handler) -> tuple[list[tuple[str, int, str]], list]:
    messages = handler.received()
    items = [item for message in messages if not is_digest(message) for item in message_items(message)]
    return items, [message for message in messages if is_digest(message)]


def wait_until_everything_arrived(handler, expected, processes: Processes, timeout: float = 60) -> None:
    def complete(_):
        items, digests = delivered(handler)
        return Counter(items) == Counter(expected) and len(digests) >= 1

    assert handler.wait_for(complete, timeout=timeout), (
        f"not everything arrived: {delivered(handler)[0]} {len(delivered(handler)[1])} digests"
        f"\n{processes.logs()[-3000:]}")
    time.sleep(1.5)  # a further sweep and mail run: anything sent twice would show now


def assert_exactly_once(handler, expected, session_factory) -> None:
    items, digests = delivered(handler)
    assert Counter(items) == Counter(expected)  # every item, none twice
    assert [str(d["To"]) for d in digests] == ["giulia@example.org"]  # one digest, once
    message_ids = [m["Message-ID"] for m in handler.received()]
    assert len(message_ids) == len(set(message_ids))
    assert count(session_factory, Reminder) == count(session_factory, Notification) == len(expected)
    with session_factory() as session:
        statuses = dict(session.execute(
            select(OutboundEmail.status, func.count()).group_by(OutboundEmail.status)).all())
    assert statuses == {EmailStatus.SENT: len(handler.received())}


def test_a_scheduler_started_after_downtime_sends_what_fell_due_once(
    session, session_factory, registry, world, engine, smtp_server, processes_factory
):
    handler, port = smtp_server
    expected = seed_overdue_pacts(session, registry, world, 4)
    processes = processes_factory(engine, port)
    processes.start()
    wait_until_everything_arrived(handler, expected, processes)
    assert processes.stop_all() == [0]
    assert_exactly_once(handler, expected, session_factory)


def test_schedulers_killed_mid_sweep_and_mid_send_then_restarted_deliver_everything_once(
    session, session_factory, registry, world, engine, smtp_server, processes_factory
):
    """Killed mid-sweep, then between claiming a message and handing it over: once each.

    (Killed after the SMTP server accepted a message but before recording it, a sender would
    send it again: SMTP cannot do better, see casework.reminders.mail. So the first process here reaches
    no SMTP server, and the second is killed while the server holds its conversation.)
    """
    handler, port = smtp_server
    expected = seed_overdue_pacts(session, registry, world, 40)
    # Small batches make the sweep long enough to be caught in the middle; a short lease and
    # retry let the last process take over soon what the killed ones left.
    processes = processes_factory(engine, port, scheduler_batch_size="2", mail_lease_seconds="3",
                                  smtp_timeout_seconds="2", mail_retry_seconds="1")

    first = processes.start(smtp_port=str(free_port()))
    deadline = time.monotonic() + 60
    while count(session_factory, Reminder) == 0 and time.monotonic() < deadline:
        time.sleep(0.002)
    first.kill()  # SIGKILL: no cleanup, in the middle of the sweep
    first.wait()
    assert 0 < count(session_factory, Reminder) < len(expected)
    assert handler.received() == []

    # The second stalls inside an SMTP conversation, holding claimed messages: killed there.
    handler.stall_at = 2
    second = processes.start()
    assert handler.stalled.wait(60), processes.logs()[-4000:]
    second.kill()
    second.wait()
    handler.release.set()
    with session_factory() as check:
        assert check.scalar(select(func.count()).select_from(OutboundEmail)
                            .where(OutboundEmail.status == EmailStatus.SENDING)) >= 1

    processes.start()
    wait_until_everything_arrived(handler, expected, processes)
    assert processes.stop_all()[-1] == 0
    assert_exactly_once(handler, expected, session_factory)


@pytest.mark.parametrize("slow_server", [False, True], ids=["fast server", "slow server"])
def test_two_schedulers_at_once_send_nothing_twice(
    session, session_factory, registry, world, engine, smtp_server, processes_factory, slow_server
):
    """With a slow server (0.5 s a message, a 4 s lease), a claim outlives its lease halfway
    through: the lease is renewed and re-checked before each message, so none goes twice."""
    handler, port = smtp_server
    expected = seed_overdue_pacts(session, registry, world, 20)
    slow = {"mail_lease_seconds": "4", "smtp_timeout_seconds": "3"} if slow_server else {}
    handler.data_delay = 0.5 if slow_server else 0.0
    processes = processes_factory(engine, port, scheduler_batch_size="3", **slow)
    processes.start()
    processes.start()
    wait_until_everything_arrived(handler, expected, processes)
    assert processes.stop_all() == [0, 0]
    assert_exactly_once(handler, expected, session_factory)
    holders = processes.logs()
    assert holders.count("scheduler ") >= 2  # both really ran
