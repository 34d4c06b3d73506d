"""The pact page and Oggi, timed in process: their cost must not follow the pact's history.

Seeds, through the core operations, one pact with T timeline entries (default 200: moves,
referral, contacts and journal notes) and G goals with one action each (default 25, so 50
goals and actions), and gives its case manager D more pacts with a deadline due (default 300),
on a SQLite file in a temporary directory. Then, signed in as that case manager with the
Flask test client, GETs the pact page and Oggi: a warm-up, then N repeats each; prints the
median time and the SQL statements one GET issues (a `before_cursor_execute` listener), and
their ratio to the person's own account page (same layout and session, no case data) timed
in the same run.

    python bench/pact_page.py
    python bench/pact_page.py --timeline 1000 --goals 100 --repeats 30

The last line, exactly:
pact page: <X> ms median for <T> timeline entries, <Q> queries; Oggi <Y> ms, <P> queries
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, update

from casework.clock import Clock
from casework.config import load_settings
from casework.models import (
    Base,
    Beneficiary,
    ContactChannel,
    Gender,
    JournalKind,
    Pact,
    Performer,
    Programme,
    ReferralSource,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import casefile
from casework.pacts import operations as ops
from casework.security.passwords import hash_password

PASSWORD = "una-password-lunga-per-il-bench"
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _seed(app, *, timeline: int, goals: int, due: int) -> int:
    registry = app.extensions["casework"]["registry"]
    with app.extensions["casework"]["session_factory"]() as db:
        zone = load_settings().zone
        now = datetime.now(UTC)
        start = now - timedelta(days=400)
        unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
        comune = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)
        manager = User(username="giulia", full_name="Giulia Rossi", email="giulia@example.org",
                       password_hash=hash_password(PASSWORD), role=Role.CASE_MANAGER, territory=unione)
        programme = Programme(code="TILDE", name="TILDE", funder="—", territory=unione, starts_on=date(2025, 1, 1),
                              workflow_name="patto_personalizzato")
        person = Beneficiary(first_name="Maria", last_name="Bianchi", gender=Gender.FEMALE, comune=comune,
                             codice_fiscale="BNCMRA85D43I703I", birth_date=date(1985, 4, 3))
        db.add_all([unione, comune, manager, programme, person])
        db.flush()
        clock = Clock(start, zone)
        pact = ops.open_pact(db, registry, beneficiary=person, programme=programme, case_manager=manager,
                             actor=manager, clock=clock)
        ops.record_referral(db, pact, source=ReferralSource.SOCIAL_SERVICES, reason="Segnalazione del servizio",
                            referred_on=start.date(), actor=manager, clock=clock)
        for number in range(goals):
            moment = Clock(start + timedelta(minutes=number + 1), zone)
            goal = ops.add_goal(db, pact, description=f"Obiettivo {number}", clock=moment)
            ops.add_action(db, pact, description=f"Azione {number}", performer=Performer.BENEFICIARY, goal=goal,
                           due_on=start.date() + timedelta(days=60), clock=moment)
        for number in range(20):
            at = start + timedelta(days=1 + number, hours=2)
            ops.log_contact(db, registry, pact, contact_at=at, channel=ContactChannel.PHONE,
                            notes=f"Contatto {number}", actor=manager, clock=Clock(at, zone))
        entries = len(casefile.timeline(db, registry, pact, locale="it"))
        for number in range(max(0, timeline - entries)):
            at = start + timedelta(days=30, minutes=number)
            casefile.add_journal_entry(db, pact, kind=JournalKind.NOTE, at=at, text=f"Nota {number}",
                                       actor=manager, now=now)
        for number in range(due):
            other = Beneficiary(first_name="Persona", last_name=f"{number:04d}", gender=Gender.MALE, comune=comune)
            db.add(other)
            db.flush()
            ops.open_pact(db, registry, beneficiary=other, programme=programme, case_manager=manager,
                          actor=manager, clock=Clock(start + timedelta(hours=number), zone))
        # Their first deadline fell long ago: all of them are due on Oggi.
        db.execute(update(Pact).where(Pact.id != pact.id).values(next_deadline_at=now - timedelta(days=1)))
        db.commit()
        entries = len(casefile.timeline(db, registry, pact, locale="it"))
        return pact.id, entries


def _signed_in(app):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page).group(1)
    answer = client.post("/login", data={"username": "giulia", "password": PASSWORD, "csrf_token": token})
    assert answer.status_code in (302, 303), answer.status_code
    return client


def _measure(app, client, url: str, repeats: int) -> tuple[float, int]:
    engine = app.extensions["casework"]["engine"]
    statements = []

    def count(*args) -> None:
        statements.append(1)

    for _ in range(2):  # warm-up: templates compiled, caches filled
        assert client.get(url).status_code == 200
    timings = []
    for _ in range(repeats):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        started = time.perf_counter()
        answer = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        event.remove(engine, "before_cursor_execute", count)
        assert answer.status_code == 200, answer.status_code
    return statistics.median(timings), len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeline", type=int, default=200, help="timeline entries of the pact")
    parser.add_argument("--goals", type=int, default=25, help="goals, each with one action")
    parser.add_argument("--due", type=int, default=300, help="other pacts of the manager due on Oggi")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()

    from casework.web import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(overrides={
            "env": "testing", "secret_key": "b" * 48, "instance_path": str(Path(folder) / "instance"),
            "database_url": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
        })
        Base.metadata.create_all(app.extensions["casework"]["engine"])
        pact_id, entries = _seed(app, timeline=args.timeline, goals=args.goals, due=args.due)
        client = _signed_in(app)
        page_ms, page_queries = _measure(app, client, f"/pacts/{pact_id}", args.repeats)
        today_ms, today_queries = _measure(app, client, "/", args.repeats)
        # Baseline in the same run: a page with the same layout, session and header but no case data.
        base_ms, base_queries = _measure(app, client, "/account", args.repeats)
        app.extensions["casework"]["engine"].dispose()
    print(f"{args.goals} goals and {args.goals} actions; {args.due} more pacts due for the manager")
    print(f"baseline (own account page): {base_ms:.1f} ms median, {base_queries} queries; "
          f"pact page/baseline {page_ms / base_ms:.1f}, Oggi/baseline {today_ms / base_ms:.1f}")
    print(f"pact page: {page_ms:.1f} ms median for {entries} timeline entries, {page_queries} queries; "
          f"Oggi {today_ms:.1f} ms, {today_queries} queries")


if __name__ == "__main__":
    main()
