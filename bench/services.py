"""Search and suggestions of the services directory, timed in process on a large directory.

Seeds, through the ORM (so the search terms are built by the same listener as in the app), the
taxonomy, A ambiti of C comuni each (default 20 × 15 = 300 comuni), O organisations and S
services (default 5,000), each serving one to four comuni of one ambito (one in ten also a
comune of another), speaking a few languages, with opening hours, cost and places drawn from a
seeded random generator; then P pacts (default 200) of beneficiaries in varied comuni, each
with a screening of a varied need profile and a preferred language for some.

Times `search_services` over a fixed list of varied queries (words, every filter, their
combinations, later pages) and `suggest_services` for every pact, R rounds each after a
warm-up; prints medians and 95th percentiles, the SQL statements of one call, and the ratio to
a baseline timed in the same run (`get_service`, one service with what its page shows). Then the
query plans of a text search and of the suggestions' ranked query, to check they use the indexes.

    python bench/services.py
    python bench/services.py --services 20000 --rounds 10
    python bench/services.py --database-url postgresql+psycopg://user:pw@host/empty_db

The last line, exactly:
services: search p95 <X> ms, suggestions p95 <Y> ms over <N> services
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text

from casework.clock import Clock
from casework.config import load_settings
from casework.db import make_engine, make_session_factory
from casework.models import (
    Base,
    Beneficiary,
    Gender,
    Organisation,
    OrganisationKind,
    Pact,
    Priority,
    Programme,
    Role,
    Screening,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceMacroArea,
    ServiceType,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.services import (
    ServiceQuery,
    get_service,
    search_services,
    seed_taxonomy,
    suggest_services,
)
from casework.workflow import WorkflowRegistry

PROJECT = Path(__file__).resolve().parent.parent
NEED_AREAS = ("lavoro", "casa", "cibo", "conciliazione", "istruzione", "salute", "relazioni", "mobilita",
              "documenti")
LANGUAGES = ("it", "en", "fr", "ar", "ro", "sq", "uk", "zh", "es", "bn", "wo", "ti")
WORDS = ("accoglienza", "sostegno", "famiglie", "giovani", "anziani", "donne", "minori", "stranieri",
         "orientamento", "laboratori", "ascolto", "consulenza", "gratuita", "quartiere", "rete", "volontari",
         "inclusione", "formazione", "comunità", "territorio")
NAMES = ("Il Ponte", "Arcobaleno", "La Rete", "Girasole", "Insieme", "Solidarietà", "Aquilone", "Il Faro",
         "Nuovi Orizzonti", "La Bussola", "Crescere", "San Martino", "Porte Aperte", "Radici", "Tandem")


def _seed(session_factory, registry, *, ambiti: int, comuni_per: int, organisations: int, services: int,
          pacts: int, rng: random.Random) -> list[int]:
    zone = load_settings().zone
    now = datetime.now(UTC)
    with session_factory() as db:
        seed_taxonomy(db)
        types = db.scalars(select(ServiceType)).all()
        region = Territory(name="Regione", kind=TerritoryKind.CONSORZIO)
        db.add(region)
        comuni_by_ambito: list[list[Territory]] = []
        number = 0
        for a in range(ambiti):
            ambito = Territory(name=f"Ambito {a + 1:02d}", kind=TerritoryKind.AMBITO, parent=region)
            members = []
            for _ in range(comuni_per):
                number += 1
                members.append(Territory(name=f"Comune {number:03d}", kind=TerritoryKind.COMUNE,
                                         istat_code=f"{900000 + number}", parent=ambito))
            comuni_by_ambito.append(members)
            db.add_all([ambito, *members])
        orgs = [Organisation(name=f"Ente {n:03d} {rng.choice(NAMES)}", kind=rng.choice(list(OrganisationKind)))
                for n in range(organisations)]
        db.add_all(orgs)
        db.flush()
        all_comuni = [comune for members in comuni_by_ambito for comune in members]
        batch: list[Service] = []
        for n in range(services):
            kind = rng.choice(types)
            members = rng.choice(comuni_by_ambito)
            served = set(rng.sample(members, rng.randint(1, 4)))
            if rng.random() < 0.1:
                served.add(rng.choice(all_comuni))
            capacity = rng.choice([None, None, 10, 20, 40])
            places = None if capacity is None or rng.random() < 0.2 else rng.randint(0, capacity // 2)
            days = rng.sample(range(6), rng.randint(1, 5))
            hours = [{"day": day, "opens": "09:00", "closes": rng.choice(["12:30", "13:00", "18:00"])} for day in days]
            batch.append(Service(
                organisation=rng.choice(orgs), service_type=kind,
                name=f"{kind.label_it} {rng.choice(NAMES)} {n}",
                description=" ".join(rng.sample(WORDS, 6)), target_group=" ".join(rng.sample(WORDS, 2)),
                access=rng.choice(list(ServiceAccess)), cost=rng.choice(list(ServiceCost)), opening_hours=hours,
                capacity=capacity, places_available=places, waiting_list=0 if places else rng.randint(0, 5),
                active=rng.random() > 0.05, last_checked_on=date(2026, 1, 1), created_at=now, updated_at=now,
                comuni=[ServiceComune(territory=comune) for comune in served],
                languages=[ServiceLanguage(language=code) for code in {"it", *rng.sample(LANGUAGES, 2)}],
            ))
            if len(batch) == 500:
                db.add_all(batch)
                db.flush()
                batch = []
        db.add_all(batch)
        db.flush()

        manager = User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                       role=Role.CASE_MANAGER, territory=region)
        programme = Programme(code="TILDE", name="TILDE", funder="-", territory=region, starts_on=date(2025, 1, 1),
                              workflow_name="patto_personalizzato")
        db.add_all([manager, programme])
        db.flush()
        clock = Clock(now, zone)
        pact_ids = []
        for n in range(pacts):
            person = Beneficiary(first_name="Persona", last_name=f"{n:04d}", gender=rng.choice(list(Gender)),
                                 comune=rng.choice(all_comuni),
                                 preferred_language=rng.choice(["", "", "ar", "ro", "uk", "en", "wo"]))
            db.add(person)
            db.flush()
            pact = ops.open_pact(db, registry, beneficiary=person, programme=programme, case_manager=manager,
                                 actor=manager, clock=clock)
            profile = {area: rng.choice([0, 0, 1, 2, 3]) for area in NEED_AREAS}
            db.add(Screening(pact=pact, answers={}, need_profile=profile, total_score=sum(profile.values()),
                             priority=Priority.MEDIUM, completed_at=now))
            db.flush()
            pact_ids.append(pact.id)
        db.commit()
        return pact_ids


def _queries(session_factory, rng: random.Random) -> list[tuple[ServiceQuery, int]]:
    with session_factory() as db:
        comuni = db.scalars(select(Territory.id).where(Territory.kind == TerritoryKind.COMUNE)).all()
        ambiti = db.scalars(select(Territory.id).where(Territory.kind == TerritoryKind.AMBITO)).all()
        areas = db.scalars(select(ServiceMacroArea.code)).all()
        types = db.scalars(select(ServiceType.code)).all()
    texts = ["ludoteca", "ludoteche", "mediazione linguistica", "casa", "sportello stranieri", "doposcuola compiti",
             "tirocini", "emporio solidale", "sostegno famiglie", "anziani", "consulenza legale", "CITTÀ",
             "centro", "inclusione giovani", "acc", "supporto psicologico"]
    queries: list[tuple[ServiceQuery, int]] = [(ServiceQuery(), 1), (ServiceQuery(), 50)]
    queries += [(ServiceQuery(text=words), 1) for words in texts]
    queries += [(ServiceQuery(comune_id=rng.choice(comuni)), 1) for _ in range(5)]
    queries += [(ServiceQuery(macro_area=rng.choice(areas)), 1) for _ in range(3)]
    queries += [(ServiceQuery(service_type=rng.choice(types)), 1) for _ in range(3)]
    queries += [(ServiceQuery(language=code), 1) for code in ("ar", "uk", "wo")]
    queries += [(ServiceQuery(open_now=True), 1), (ServiceQuery(free_only=True), 3),
                (ServiceQuery(with_places=True), 2), (ServiceQuery(territory_ids=(rng.choice(ambiti),)), 1)]
    queries += [(ServiceQuery(text=rng.choice(texts), comune_id=rng.choice(comuni), free_only=True), 1)
                for _ in range(4)]
    queries += [(ServiceQuery(macro_area=rng.choice(areas), comune_id=rng.choice(comuni), with_places=True,
                              language="ar"), 1) for _ in range(3)]
    queries += [(ServiceQuery(text="servizi", open_now=True, with_places=True), 2),
                (ServiceQuery(text="centro", territory_ids=(rng.choice(ambiti),), open_now=True), 1)]
    return queries


def _time(call, rounds: int) -> list[float]:
    call()  # warm-up
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _count_statements(engine, call) -> int:
    statements = []

    def record(*args) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def _captured(engine, call) -> list[str]:
    """The SQL of the statements one call issues (to explain the slowest of them)."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements


def _explain_captured(db, engine, statement: str, parameters) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    raw = db.connection().connection.driver_connection.cursor()
    raw.execute(prefix + statement, parameters)
    return [str(row[-1] if engine.dialect.name == "sqlite" else row[0]) for row in raw.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--ambiti", type=int, default=20)
    parser.add_argument("--comuni-per-ambito", type=int, default=15)
    parser.add_argument("--organisations", type=int, default=400)
    parser.add_argument("--pacts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="", help="an EMPTY database to fill (default: a SQLite file)")
    args = parser.parse_args()
    rng = random.Random(12)
    registry = WorkflowRegistry.from_directory(PROJECT / "workflows")
    zone = load_settings().zone

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        session_factory = make_session_factory(engine)
        started = time.perf_counter()
        pact_ids = _seed(session_factory, registry, ambiti=args.ambiti, comuni_per=args.comuni_per_ambito,
                         organisations=args.organisations, services=args.services, pacts=args.pacts, rng=rng)
        seeded_s = time.perf_counter() - started
        queries = _queries(session_factory, rng)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        now = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday, 11:00 in Rome

        with session_factory() as db:
            service_ids = db.scalars(select(Service.id).order_by(Service.id)).all()
            terms = db.scalar(text("SELECT count(*) FROM service_search_term"))
            pacts = [db.get(Pact, pact_id) for pact_id in pact_ids]
            for pact in pacts:
                _ = pact.beneficiary_id

            def search_all() -> list[float]:
                timings = []
                for query, page in queries:
                    db.expunge_all()
                    started = time.perf_counter()
                    search_services(db, query, now=now, zone=zone, page=page)
                    timings.append((time.perf_counter() - started) * 1000)
                return timings

            def suggest_all() -> list[float]:
                timings = []
                for pact in pacts:
                    started = time.perf_counter()
                    suggest_services(db, pact, now=now, zone=zone)
                    timings.append((time.perf_counter() - started) * 1000)
                    db.expire_all()
                return timings

            search_all()
            suggest_all()  # warm-up
            search_ms = [value for _ in range(args.rounds) for value in search_all()]
            suggest_ms = [value for _ in range(args.rounds) for value in suggest_all()]
            sample = service_ids[len(service_ids) // 2]

            def baseline() -> None:
                get_service(db, sample)
                db.expunge_all()

            base_ms = _time(baseline, args.rounds * 20)

            search_statements = _count_statements(engine, lambda: search_services(
                db, ServiceQuery(text="mediazione linguistica", free_only=True), now=now, zone=zone, page=1))
            db.expire_all()
            suggest_statements = _count_statements(engine, lambda: suggest_services(db, pacts[0], now=now,
                                                                                    zone=zone))
            db.expire_all()
            search_sql = _captured(engine, lambda: search_services(
                db, ServiceQuery(text="sportello stranieri", comune_id=None), now=now, zone=zone, page=1))
            db.expire_all()
            suggest_sql = _captured(engine, lambda: suggest_services(db, pacts[1], now=now, zone=zone))
            db.expire_all()
            count_plan = _explain_captured(db, engine, *search_sql[0])
            page_plan = _explain_captured(db, engine, *search_sql[1])
            ranked = next(item for item in suggest_sql if "service_type.need_area" in item[0])
            suggest_plan = _explain_captured(db, engine, *ranked)
        engine.dispose()

    print(f"{engine.dialect.name}: {args.services} services over {args.ambiti * args.comuni_per_ambito} comuni "
          f"in {args.ambiti} ambiti, {terms} search terms, {args.pacts} pacts; seeded in {seeded_s:.0f} s")
    print("plan, search count (sportello stranieri):")
    for line in count_plan:
        print(f"  {line}")
    print("plan, search page:")
    for line in page_plan:
        print(f"  {line}")
    print("plan, suggestions (ranked services):")
    for line in suggest_plan:
        print(f"  {line}")
    base = statistics.median(base_ms)
    print(f"baseline (get_service, one service and what its page shows): {base:.1f} ms median")
    print(f"search: {len(queries)} queries x {args.rounds} rounds, median {statistics.median(search_ms):.1f} ms "
          f"({statistics.median(search_ms) / base:.1f}x baseline), max {max(search_ms):.1f} ms, "
          f"{search_statements} statements per search")
    print(f"suggestions: {len(pacts)} pacts x {args.rounds} rounds, median {statistics.median(suggest_ms):.1f} ms "
          f"({statistics.median(suggest_ms) / base:.1f}x baseline), max {max(suggest_ms):.1f} ms, "
          f"{suggest_statements} statements per call")
    print(f"services: search p95 {_p95(search_ms):.1f} ms, suggestions p95 {_p95(suggest_ms):.1f} ms "
          f"over {len(service_ids)} services")


if __name__ == "__main__":
    main()
