"""The scheduler process: four interval jobs that sweep deadlines, send e-mail, queue digests and
seal the audit logs.

Run it with `casework scheduler`, as one process beside the web processes, which never run
jobs. It holds no schedule of its own: deadlines are rows of Casework's tables (see
casework.reminders.deadline_rows and casework.reminders.sweep), so a restart loses nothing and
APScheduler only says "sweep now".

- The job store is in memory and the jobs have stable ids: each process has its own four
  jobs, none is ever stored or shared (APScheduler cannot share a job store across processes).
- Each job runs at start (catch-up after downtime) and then every interval; `coalesce` folds
  runs missed while a job was busy into one, `misfire_grace_time=None` runs a late job however
  late, and `max_instances=1` never overlaps a job with itself (a run skipped so is a debug
  line). A job logs one info line when it did something, nothing otherwise.
- Several scheduler processes may run at once (a restart overlapping the old process, two
  hosts): their database writes take turns (casework.reminders.scheduler_lock: the write lock on SQLite, a row
  lock on PostgreSQL), reminders have a unique key, and e-mails are claimed under a lease, so
  nothing is sent twice. The sealing job takes its turn the same way, and seal itself takes the
  lock it shares with `casework audit seal` (casework.security.audit_chain), so no entry is
  chained twice.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.orm import Session, sessionmaker

from casework.config import Settings
from casework.reminders.deadline_rows import ReminderPolicy
from casework.reminders.mail import Mailer, MailPolicy, deliver_due_emails, mailer_for
from casework.reminders.notifications import digest_day, queue_daily_digests
from casework.reminders.scheduler_lock import take_turn
from casework.reminders.sweep import sweep
from casework.security import seal_audit_logs
from casework.workflow import WorkflowRegistry

log = logging.getLogger(__name__)

SWEEP_JOB = "casework.sweep"
MAIL_JOB = "casework.reminders.mail"
DIGEST_JOB = "casework.digest"
SEAL_JOB = "casework.audit.seal"
# The scheduler_lock row a sealing run stamps (who sealed last, when) and takes its turn on.
SEAL_TURN = "audit-seal"

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def process_name() -> str:
    """Who holds a lock or a lease: host, process and a random part (pids are reused)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class SchedulerJobs:
    """What each job does, with everything it needs; callable without APScheduler (tests, CLI)."""

    settings: Settings
    registry: WorkflowRegistry
    session_factory: sessionmaker[Session]
    mailer: Mailer
    clock: Callable[[], datetime] = utcnow
    holder: str = ""
    # Each called with (session, now=, holder=) once a day; returns how much it did (for the log).
    daily_tasks: tuple[Callable[..., int], ...] = ()

    def __post_init__(self) -> None:
        self.holder = self.holder or process_name()
        self.reminder_policy = ReminderPolicy.from_settings(self.settings)
        self.mail_policy = MailPolicy.from_settings(self.settings)
        # The digest job also sweeps and sends: one thread of this process at a time does each.
        self._sweeping = threading.Lock()
        self._sending = threading.Lock()
        self._sealing = threading.Lock()
        self._digested_day: date | None = None

    def sweep(self) -> None:
        with self._sweeping:
            self._sweep()

    def send_mail(self) -> None:
        with self._sending:
            self._send_mail()

    def _sweep(self) -> None:
        report = sweep(self.session_factory, self.registry, now=self.clock(), policy=self.reminder_policy,
                       holder=self.holder)
        if report.refreshed or report.fired:
            log.info("sweep: %s pacts refreshed, %s reminders and escalations, %s e-mails queued",
                     report.refreshed, report.fired, report.emails)

    def _send_mail(self) -> None:
        report = deliver_due_emails(self.session_factory, self.mailer, clock=self.clock, policy=self.mail_policy,
                                    holder=self.holder)
        if report.sent or report.retried or report.failed:
            log.info("mail: %s sent, %s to retry, %s failed", report.sent, report.retried, report.failed)

    def seal_audit_logs(self) -> None:
        """Chain the access-log and administrative-log entries written since the last run, so
        `casework audit verify` covers them; entries are never older than one interval unsealed."""
        with self._sealing, self.session_factory() as session:
            # First, as every scheduler write: the turn among scheduler processes, stamped with
            # this run's time; seal then takes the lock it shares with `casework audit seal`.
            take_turn(session, SEAL_TURN, self.holder, self.clock())
            sealed = seal_audit_logs(session)
        if any(sealed.values()):
            log.info("audit: %s access-log and %s administrative-log entries sealed",
                     sealed["access_log_entry"], sealed["administrative_log_entry"])

    def digest(self) -> None:
        # Once a day per process, after the digest hour: the job wakes every few minutes (so a
        # scheduler started late still sends the day's digests), but a day done is not queried
        # again, whether or not anyone had something due.
        day = digest_day(self.clock(), self.settings.zone, self.settings.digest_hour)
        if day is None or day == self._digested_day:
            return
        # The digest reads the deadline rows: bring them up to date first (the sweep takes its
        # turn with any other sweep running, so this costs little when nothing changed).
        self.sweep()
        queued = queue_daily_digests(
            self.session_factory, self.registry, now=self.clock(), zone=self.settings.zone,
            digest_hour=self.settings.digest_hour, base_url=self.settings.base_url, holder=self.holder,
        )
        self._digested_day = day
        if queued:
            log.info("digest: %s queued", queued)
            self.send_mail()
        self.run_daily_tasks()

    def run_daily_tasks(self) -> None:
        """Once a day with the digest, the other domains' daily work given by whoever builds the
        jobs (the command line): e.g. telling supervisors who reached the end of their retention
        period (casework.people.propose_erasures), which this package may not import."""
        for task in self.daily_tasks:
            with self.session_factory() as session:
                done = task(session, now=self.clock(), holder=self.holder)
            if done:
                log.info("daily task %s: %s", getattr(task, "__name__", task), done)

    def run_all(self) -> None:
        """One pass of every job, in order: what a scheduler does at start."""
        self.sweep()
        self.digest()
        self.send_mail()
        self.seal_audit_logs()


def _guarded(job: Callable[[], None], name: str) -> Callable[[], None]:
    def run() -> None:
        try:
            job()
        except Exception:  # a failing run must not stop the scheduler: the next run tries again
            log.exception("job %s failed; it runs again at its next interval", name)

    run.__name__ = name
    return run


class _SkippedRunAtDebug(logging.Filter):
    """APScheduler warns each time a job comes due while its previous run still goes on (a long
    sweep, a slow mail server): with max_instances=1 that skip is what we asked for, so it is
    one debug line of ours, not a warning a tick."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" in str(record.msg):
            log.debug("%s", record.getMessage())
            return False
        return True


_SKIPPED_RUN_AT_DEBUG = _SkippedRunAtDebug()


def build_scheduler(jobs: SchedulerJobs, *, blocking: bool = True) -> BaseScheduler:
    """A scheduler with the four jobs, each due at once (catch-up) and then every interval."""
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    scheduler_log.addFilter(_SKIPPED_RUN_AT_DEBUG)  # added once: the same filter object
    scheduler = scheduler_class(
        logger=scheduler_log,
        jobstores={"default": {"type": "memory"}},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults=JOB_DEFAULTS,
        timezone=timezone.utc,
    )
    start = utcnow()
    settings = jobs.settings
    for job_id, function, seconds in (
        (SWEEP_JOB, jobs.sweep, settings.scheduler_sweep_seconds),
        (MAIL_JOB, jobs.send_mail, settings.scheduler_mail_seconds),
        (DIGEST_JOB, jobs.digest, settings.scheduler_digest_seconds),
        (SEAL_JOB, jobs.seal_audit_logs, settings.scheduler_seal_seconds),
    ):
        scheduler.add_job(
            _guarded(function, job_id), "interval", seconds=seconds, id=job_id, name=job_id,
            next_run_time=start, replace_existing=True, **JOB_DEFAULTS,
        )
    return scheduler


def make_jobs(
    settings: Settings, *, mailer: Mailer | None = None, daily_tasks: tuple[Callable[..., int], ...] = (),
) -> tuple[SchedulerJobs, Any]:
    """Jobs bound to the configured database and workflows; also returns the engine to dispose."""
    from casework.db import Timeouts, make_engine, make_session_factory

    registry = WorkflowRegistry.from_directory(settings.workflows_dir)
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings, scheduler=True))
    jobs = SchedulerJobs(settings=settings, registry=registry, session_factory=make_session_factory(engine),
                         mailer=mailer or mailer_for(settings), daily_tasks=daily_tasks)
    return jobs, engine


def run_scheduler(settings: Settings, *, daily_tasks: tuple[Callable[..., int], ...] = ()) -> None:
    """The `casework scheduler` process: runs until SIGTERM or Ctrl+C."""
    jobs, engine = make_jobs(settings, daily_tasks=daily_tasks)
    scheduler = build_scheduler(jobs, blocking=True)

    def stop(signum: int, frame: Any) -> None:
        log.info("stopping (signal %s)", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("scheduler %s started: sweep every %ss, mail every %ss, digest every %ss, audit seal every %ss",
             jobs.holder, settings.scheduler_sweep_seconds, settings.scheduler_mail_seconds,
             settings.scheduler_digest_seconds, settings.scheduler_seal_seconds)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        engine.dispose()
