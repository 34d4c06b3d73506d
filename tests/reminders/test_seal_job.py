"""The scheduler's sealing job: the access and administrative log entries written since its last
run are chained, so `casework audit verify` covers them; a second run changes nothing (SQLite,
PostgreSQL)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from casework.config import load_settings
from casework.models import AccessLogEntry, AdministrativeLogEntry, SchedulerLock
from casework.reminders.scheduler import SEAL_JOB, SEAL_TURN, SchedulerJobs, build_scheduler
from casework.security.audit_chain import verify

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


class NoMail:
    def send(self, message) -> None:
        raise AssertionError("no mail expected here")


def _jobs(registry, session_factory, now: datetime) -> SchedulerJobs:
    settings = load_settings({"scheduler_seal_seconds": 600}, environ={})
    return SchedulerJobs(settings=settings, registry=registry, session_factory=session_factory, mailer=NoMail(),
                         clock=lambda: now, holder="sealer")


def _write_entries(session_factory, views: int, start: int = 0) -> None:
    with session_factory() as session:
        session.add_all(AccessLogEntry(at=NOW - timedelta(minutes=start + n), action="view", subject_type="beneficiary",
                                       subject_id=start + n, ip_address="10.0.0.7") for n in range(views))
        session.add(AdministrativeLogEntry(at=NOW, action="update", subject_type="user", subject_id=1,
                                           subject_label="anna", changes={"role": ["case_manager", "supervisor"]}))
        session.commit()


def _chains(session_factory) -> dict[str, tuple[bool, int, int, str]]:
    with session_factory() as session:
        return {report.log: (report.intact, report.sealed, report.unsealed, report.head_hash)
                for report in verify(session)}


def test_the_seal_job_runs_every_configured_interval_like_the_other_jobs(registry, session_factory):
    scheduler = build_scheduler(_jobs(registry, session_factory, NOW))
    job = scheduler.get_job(SEAL_JOB)
    assert job.trigger.interval == timedelta(seconds=600)
    assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)


def test_the_seal_job_chains_new_entries_and_a_second_run_is_harmless(registry, session_factory, caplog):
    _write_entries(session_factory, 4)
    before = _chains(session_factory)
    assert before["access_log_entry"][:3] == (True, 0, 4)
    assert before["administrative_log_entry"][:3] == (True, 0, 1)

    jobs = _jobs(registry, session_factory, NOW)
    with caplog.at_level(logging.INFO, logger="casework.reminders.scheduler"):
        jobs.seal_audit_logs()
    assert "audit: 4 access-log and 1 administrative-log entries sealed" in caplog.text
    sealed = _chains(session_factory)
    assert sealed["access_log_entry"][:3] == (True, 4, 0)
    assert sealed["administrative_log_entry"][:3] == (True, 1, 0)
    with session_factory() as session:
        turn = session.scalars(select(SchedulerLock).where(SchedulerLock.name == SEAL_TURN)).one()
        assert (turn.holder, turn.run_at.replace(tzinfo=UTC)) == ("sealer", NOW)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="casework.reminders.scheduler"):
        jobs.seal_audit_logs()
    assert _chains(session_factory) == sealed  # same heads: nothing sealed twice, nothing re-chained
    assert "sealed" not in caplog.text  # a run with nothing to do says nothing

    _write_entries(session_factory, 2, start=10)
    _jobs(registry, session_factory, NOW + timedelta(minutes=10)).seal_audit_logs()
    later = _chains(session_factory)
    assert later["access_log_entry"][:3] == (True, 6, 0)
    assert later["administrative_log_entry"][:3] == (True, 2, 0)
