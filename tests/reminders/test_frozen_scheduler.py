"""A process frozen holding a transaction (a scheduler stopped with SIGSTOP mid-sweep) cannot
block the web for ever: a write waiting for its lock ends in a clear "busy, try again" page
after db_lock_timeout_seconds, and on PostgreSQL the server ends the frozen session after
db_idle_in_transaction_seconds, after which writes go through and the scheduler recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from casework import PROJECT_ROOT
from casework.clock import Clock
from casework.db import Timeouts, is_busy, make_engine
from casework.models import EmailStatus, Notification, OutboundEmail, PactDeadline, Reminder
from casework.reminders.notifications import notify
from casework.web import create_app
from tests.conftest import ZONE
from tests.reminders.helpers import (
    add_territorial_manager,
    count,
    open_pact_at,
    running_smtp_server,
)
from tests.support import satisfy
from tests.web.conftest import PASSWORD, sign_in, submit

UTC = timezone.utc


def web_app(engine, tmp_path: Path, **settings):
    return create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False), "db_lock_timeout_seconds": 1,
        **settings,
    })


def signed_in_manager(app, session, world):
    from casework.security import hash_password

    world.manager.password_hash = hash_password(PASSWORD)
    session.commit()
    client = app.test_client()
    assert sign_in(client, world.manager.username).status_code == 302
    return client


def test_a_web_write_behind_a_lock_held_too_long_gets_a_busy_page_then_works(
    engine, session, world, tmp_path
):
    notify(session, world.manager, {"it": "Uno", "en": "One"}, now=datetime.now(UTC))
    session.commit()
    app = web_app(engine, tmp_path)
    client = signed_in_manager(app, session, world)
    holder = make_engine(engine.url.render_as_string(hide_password=False), Timeouts(lock=1))
    with holder.connect() as connection:
        # Another process in the middle of a write of the same rows, not finishing.
        connection.execute(update(Notification).values(snoozed_until=None))
        started = time.monotonic()
        answer = submit(client, "/notifications/done", {}, form_page="/notifications")
        waited = time.monotonic() - started
        connection.rollback()
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
    page = answer.get_data(as_text=True)
    assert "Occupato: riprova" in page and "Non è stato salvato nulla" in page
    assert waited < 5
    with app.extensions["casework"]["session_factory"]() as check:
        assert check.scalar(select(func.count()).select_from(Notification).where(Notification.done_at.is_(None))) == 1
    assert submit(client, "/notifications/done", {}, form_page="/notifications").status_code == 302
    holder.dispose()
    app.extensions["casework"]["engine"].dispose()


def test_is_busy_tells_a_lock_wait_from_other_database_errors(engine):
    from sqlalchemy.exc import OperationalError

    url = engine.url.render_as_string(hide_password=False)
    holder, waiter = make_engine(url, Timeouts(lock=1)), make_engine(url, Timeouts(lock=1))
    with holder.connect() as held, waiter.connect() as waiting:
        held.execute(text("CREATE TABLE IF NOT EXISTS busy_probe (id integer PRIMARY KEY)"))
        held.commit()
        held.execute(text("INSERT INTO busy_probe (id) VALUES (1)"))
        with pytest.raises(OperationalError) as error:
            waiting.execute(text("INSERT INTO busy_probe (id) VALUES (1)"))
        assert is_busy(error.value)
        waiting.rollback()
        held.rollback()
        with pytest.raises(Exception) as other:
            waiting.execute(text("SELECT * FROM no_such_table"))
        assert not is_busy(other.value)
        waiting.rollback()
        held.execute(text("DROP TABLE busy_probe"))
        held.commit()
    holder.dispose()
    waiter.dispose()


# --- a real scheduler frozen mid-sweep, on PostgreSQL -------------------------------------

def _frozen_backends(admin, application: str) -> list[tuple[int, str]]:
    return [tuple(row) for row in admin.execute(text(
        "SELECT pid, state FROM pg_stat_activity WHERE application_name = :name"), {"name": application})]


@pytest.mark.postgres
def test_a_scheduler_frozen_mid_sweep_does_not_block_web_writes_and_recovers(
    engine, session, session_factory, registry, world, tmp_path
):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to end a frozen writer's transaction (see config/default.toml)")
    add_territorial_manager(session, world)
    opened = datetime.now(UTC) - timedelta(days=45)
    pacts = [open_pact_at(session, registry, world, opened) for _ in range(60)]
    clock = Clock(datetime.now(UTC), ZONE)
    comments = {pact.id: satisfy(session, registry, pact, "start_screening", world.manager, clock)
                for pact in pacts[:6]}  # the referral the move needs
    session.commit()
    versions = {pact.id: pact.version for pact in pacts[:6]}
    url = engine.url.render_as_string(hide_password=False)
    application = f"frozen-{os.getpid()}"
    smtp = running_smtp_server()
    handler, port = next(smtp)
    env = {**os.environ, "CASEWORK_ENV": "development", "CASEWORK_DATABASE_URL": url,
           "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"), "CASEWORK_SMTP_HOST": "127.0.0.1",
           "CASEWORK_SMTP_PORT": str(port), "CASEWORK_SCHEDULER_SWEEP_SECONDS": "1",
           "CASEWORK_SCHEDULER_MAIL_SECONDS": "1", "CASEWORK_SCHEDULER_DIGEST_SECONDS": "3600",
           "CASEWORK_SCHEDULER_BATCH_SIZE": "2", "CASEWORK_DB_IDLE_IN_TRANSACTION_SECONDS": "3",
           "PGAPPNAME": application}
    log_path = tmp_path / "scheduler.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "casework.cli", "scheduler"], cwd=PROJECT_ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT)
    admin = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        # Freeze it while it holds a transaction open: stop, look, go on if it was between two.
        deadline = time.monotonic() + 30
        frozen_pid = None
        while frozen_pid is None and time.monotonic() < deadline:
            process.send_signal(signal.SIGSTOP)
            time.sleep(0.05)  # let the server's view settle
            idle = [pid for pid, state in _frozen_backends(admin, application) if state == "idle in transaction"]
            if idle:
                frozen_pid = idle[0]
            else:
                process.send_signal(signal.SIGCONT)
                time.sleep(0.003)
        assert frozen_pid is not None, log_path.read_text()[-3000:]
        frozen_at = time.monotonic()
        fired_when_frozen = count(session_factory, Reminder)
        assert fired_when_frozen < 3 * len(pacts)  # really mid-sweep

        # The web writes: a move on each pact (each refreshes its deadline rows, some of which
        # the frozen batch holds): each either goes through at once, or answers "busy" and
        # goes through once the server has ended the frozen session.
        app = web_app(engine, tmp_path, db_lock_timeout_seconds=1)
        client = signed_in_manager(app, session, world)
        busy = 0
        for pact in pacts[:6]:
            while True:
                answer = submit(client, f"/pacts/{pact.id}/transition",
                                {"event": "start_screening", "version": str(versions[pact.id]),
                                 "comment": comments[pact.id]},
                                form_page=f"/pacts/{pact.id}")
                if answer.status_code != 503:
                    break
                busy += 1
                assert time.monotonic() - frozen_at < 3 + 1 + 5, "still blocked after the idle timeout"
                time.sleep(0.2)
            assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        writes_done = time.monotonic() - frozen_at
        assert writes_done < 10
        # The server ended the frozen session (idle_in_transaction_session_timeout).
        time.sleep(max(0.0, 3.5 - (time.monotonic() - frozen_at)))
        assert frozen_pid not in [pid for pid, _ in _frozen_backends(admin, application)]
        app.extensions["casework"]["engine"].dispose()
    finally:
        process.send_signal(signal.SIGCONT)
        admin.close()
    try:
        # Continued, the scheduler finds its connection gone, fails that run, and the next runs
        # do the work: every reminder written once, every e-mail sent.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            with session_factory() as check:
                pending = check.scalar(select(func.count()).select_from(OutboundEmail)
                                       .where(OutboundEmail.status != EmailStatus.SENT))
                due = check.scalar(select(func.count()).select_from(PactDeadline)
                                   .where(PactDeadline.next_fire_at <= datetime.now(UTC)))
            if count(session_factory, Reminder) > fired_when_frozen and pending == 0 and due == 0:
                break
            time.sleep(0.5)
        assert process.poll() is None, log_path.read_text()[-3000:]
        assert pending == 0 and due == 0, log_path.read_text()[-3000:]
        with session_factory() as check:
            assert check.scalar(select(func.count()).select_from(OutboundEmail)) == len(handler.received()) > 0
    finally:
        process.terminate()
        process.wait(20)
        next(smtp, None)
    print(f"frozen scheduler: web writes done {writes_done:.1f} s after the freeze, {busy} busy answers")
