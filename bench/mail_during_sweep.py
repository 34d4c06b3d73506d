"""Mail throughput on SQLite while a long sweep runs, with and without the sweep's pauses.

SQLite has one write lock and no queue: a sweep that begins its next batch the moment it
commits the last keeps the mail sender (and the web) waiting. Seeds pacts with many
reminders due (bench/reminders.py's data) and e-mails already in the outbox, then runs the
sweep in one thread and the mail sender in another, as the scheduler does, with a transport
that takes no time: what it sends during the sweep is what the database let it send.

    python bench/mail_during_sweep.py                       # 30,000 pacts, 10,000 due
    python bench/mail_during_sweep.py --pacts 10000 --due 3000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import reminders as seeding  # noqa: E402  (bench/reminders.py: the same seeded data)
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from casework import PROJECT_ROOT  # noqa: E402
from casework.db import make_engine, make_session_factory  # noqa: E402
from casework.models import Base, EmailStatus, OutboundEmail, User  # noqa: E402
from casework.reminders import sweep as sweep_module  # noqa: E402
from casework.reminders.deadline_rows import ReminderPolicy  # noqa: E402
from casework.reminders.mail import MailPolicy, deliver_due_emails  # noqa: E402
from casework.workflow.engine import WorkflowRegistry  # noqa: E402


class Counted:
    def __init__(self) -> None:
        self.sent = 0

    def send(self, message) -> None:
        self.sent += 1


def run(pacts: int, due: int, outbox: int, pause: float) -> tuple[float, int, int]:
    """(sweep seconds, e-mails sent while it ran, mail runs that failed on the lock)."""
    sweep_module.SQLITE_TURN_PAUSE = pause
    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    policy = ReminderPolicy(zone=seeding.ZONE)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        Base.metadata.create_all(engine)
        seeding._seed(engine, registry, pacts, due, policy)
        with engine.begin() as connection:
            user_id, address = connection.execute(select(User.id, User.email).limit(1)).one()
            connection.execute(insert(OutboundEmail), [{
                "dedupe_key": f"bench:{index}", "kind": "reminder", "recipient_id": user_id, "to_address": address,
                "subject": f"Promemoria {index}", "body": "Patto\n", "created_at": seeding.NOW,
                "status": EmailStatus.PENDING, "attempts": 0, "next_attempt_at": seeding.NOW - timedelta(minutes=1),
                "claimed_by": "", "sent_at": None, "last_error": "",
            } for index in range(outbox)])
        session_factory = make_session_factory(engine)
        mailer, done, failures = Counted(), threading.Event(), [0]
        mail_policy = MailPolicy(batch_size=20)

        def send() -> None:
            while not done.is_set():
                try:
                    deliver_due_emails(session_factory, mailer, clock=lambda: seeding.NOW, policy=mail_policy,
                                       holder="mail", max_batches=1)
                except OperationalError:
                    failures[0] += 1
                time.sleep(0.01)

        sender = threading.Thread(target=send)
        started = time.perf_counter()
        sender.start()
        sweep_module.sweep(session_factory, registry, now=seeding.NOW, policy=policy, holder="sweep")
        elapsed = time.perf_counter() - started
        sent_during = mailer.sent
        done.set()
        sender.join()
        engine.dispose()
    return elapsed, sent_during, failures[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pacts", type=int, default=30_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--outbox", type=int, default=2_000)
    args = parser.parse_args()
    results = {}
    for name, pause in (("without pauses", 0.0), ("with pauses", sweep_module.SQLITE_TURN_PAUSE)):
        elapsed, sent, failures = run(args.pacts, args.due, args.outbox, pause)
        results[name] = (elapsed, sent)
        print(f"{name}: sweep {elapsed:.1f} s, {sent} e-mails sent meanwhile ({sent / elapsed:.1f}/s), "
              f"{failures} mail runs failed on the lock")
    (before_s, before), (after_s, after) = results["without pauses"], results["with pauses"]
    print(f"mail during a sweep on SQLite: {before / before_s:.1f}/s before, {after / after_s:.1f}/s after; "
          f"sweep {before_s:.1f} s -> {after_s:.1f} s")


if __name__ == "__main__":
    main()
