"""The scheduler is quiet when nothing happens: no query every few minutes all day for the
digest, no warning each time a job is still running at its next tick; one line when it acts."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta

from sqlalchemy import event

from casework.config import load_settings
from casework.reminders.scheduler import SchedulerJobs, build_scheduler
from tests.reminders.helpers import open_pact_at, rome


class Recorded:
    def __init__(self) -> None:
        self.sent = []

    def send(self, message) -> None:
        self.sent.append(message)


def jobs_at(settings_overrides, registry, session_factory, clock) -> SchedulerJobs:
    settings = load_settings({"digest_hour": 7, **settings_overrides}, environ={})
    return SchedulerJobs(settings=settings, registry=registry, session_factory=session_factory, mailer=Recorded(),
                         clock=clock, holder="quiet")


def statements(engine, action) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_digest_job_with_nothing_due_queries_once_a_day_and_logs_nothing(
    engine, session, session_factory, registry, world, caplog
):
    moments = iter([rome(2026, 3, 12, 6, 55)] + [rome(2026, 3, 12, 7, 0) + timedelta(minutes=5 * i) for i in range(10)]
                   + [rome(2026, 3, 13, 7, 0)])
    now = {"at": None}

    def clock() -> datetime:
        return now["at"]

    jobs = jobs_at({}, registry, session_factory, clock)
    counts = []
    with caplog.at_level(logging.DEBUG):
        for moment in moments:
            now["at"] = moment
            counts.append(statements(engine, jobs.digest))
    # Before the hour: nothing at all. At the hour: one pass (sweep and digest query); then
    # nothing for the rest of the day, however many ticks; the next day, one pass again.
    assert counts[0] == 0
    assert counts[1] > 0 and counts[2:11] == [0] * 9
    assert 0 < counts[11] <= counts[1]  # (the first day also created the lock rows)
    assert counts[1] <= 20, counts  # a fixed handful, not one per manager
    assert [record for record in caplog.records if record.levelno >= logging.INFO] == []


def test_the_digest_job_logs_one_line_when_it_queues_digests(session, session_factory, registry, world, caplog):
    open_pact_at(session, registry, world, rome(2026, 3, 2, 10))
    jobs = jobs_at({}, registry, session_factory, lambda: rome(2026, 3, 12, 7, 5))
    with caplog.at_level(logging.INFO, logger="casework"):
        jobs.digest()
        jobs.digest()
    lines = [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO]
    assert [line for line in lines if line.startswith("digest:")] == ["digest: 1 queued"]
    assert len(jobs.mailer.sent) == 1


def test_a_run_skipped_because_the_job_is_still_running_is_a_debug_line_not_a_warning(
    session_factory, registry, caplog
):
    """A mail job that takes 2.5 s with a 1 s interval: APScheduler skips the runs that come due
    meanwhile and warns each time; the scheduler turns that into one debug line each."""
    settings = load_settings({"scheduler_mail_seconds": 1, "scheduler_sweep_seconds": 3600,
                              "scheduler_digest_seconds": 3600}, environ={})
    busy = threading.Event()

    class SlowJobs(SchedulerJobs):
        def send_mail(self) -> None:
            busy.set()
            time.sleep(2.5)

        def sweep(self) -> None:
            pass

        def digest(self) -> None:
            pass

    jobs = SlowJobs(settings=settings, registry=registry, session_factory=session_factory, mailer=Recorded())
    with caplog.at_level(logging.DEBUG):
        scheduler = build_scheduler(jobs, blocking=False)
        scheduler.start()
        try:
            assert busy.wait(10)
            time.sleep(3)
        finally:
            scheduler.shutdown(wait=True)
    skipped = [record for record in caplog.records if "maximum number of running instances" in record.getMessage()]
    assert skipped, "the job was never still running at its next tick: nothing tested"
    assert all(record.levelno == logging.DEBUG and record.name == "casework.reminders.scheduler" for record in skipped)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("apscheduler")] == []
