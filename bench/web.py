"""The web pages under load: gunicorn with 2 workers, 4 clients over HTTP, at two data sizes.

For each size N (default 10,000 and 100,000 beneficiaries, each with a pact) the scale data of
`casework.demo.scale.load_scale` is loaded into a SQLite file, and into a PostgreSQL database
of its own when --database-url is given (created beside the database that URL names, and
dropped afterwards). gunicorn serves it with 2 workers (config/gunicorn.conf.py when the
repository has one); once /health answers, 4 client threads of this process, each with its
own HTTP sessions signed in as the real users of the data (the case manager with about 150 open
pacts, the supervisor of his territory), warm up, then request every page in turn, all four
clients on the same page at once, a fixed number of times each, in rounds (each round a fifth
of each page's requests, the floor's included: a slow moment of the machine falls on all the
pages, not on one). The sizes' servers run side by side on each database and the rounds go
through every size too, so the growth compares figures taken in the same minutes. Per page: p50, p95 and requests/s; for the CSV export, measured last, also
the peak RSS of the gunicorn workers while it runs.

The client is our own (threads and `requests` sessions), not Locust: it signs in through the
real form with its CSRF token, counts exactly the requests asked for, streams the export
without holding it, and stops at the first answer that is not 200, naming the page and the
status, which is what a benchmark whose figures must mean "the page worked" needs.

    python bench/web.py                                  # N = 10,000 and 100,000 on SQLite
    python bench/web.py --sizes 500,2000 --requests 5    # a smoke run, under a minute
    python bench/web.py --data-dir ~/.cache/casework-webbench   # keep and reuse the data
    python bench/web.py --database-url postgresql+psycopg://user:pw@127.0.0.1/somedb
    python bench/web.py --write-every 2   # a contact recorded every 2 s meanwhile

Without writes, what a page keeps per process is never invalidated during the run; with
--write-every the busy manager records a contact through the pact page's form as the pages
are measured (a fifth client), so kept results expire as they would on a working day.

With --data-dir a size's data is built once per data revision (the last commit touching
casework/demo, which generates it) and reused by later runs, upgraded first to this tree's
migrations; PostgreSQL databases are then kept too. Without it everything lives in a temporary
directory and is removed at the end. Building N = 100,000 takes minutes.

The export's time follows the number of pacts by nature: it is shown but left out of the
worst p95, of the ratio to the floor and of the growth (its target is memory: streamed,
under 200 MB). The last line, exactly:

web: worst p95 <X> ms at N=<N> (<page>); worst p95/floor <R>; growth 10k->100k <G>
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from casework.config import load_settings
from casework.db import make_engine
from casework.models import Pact, Programme, Role, User

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.conf.py"
# What the data is made of; a schema change is applied to reused data by upgrading it (as a site would).
DATA_PATHS = ("casework/demo",)
FLOOR = "floor"
# Alembic's check of the schema on SQLite, while the data loads: nothing the benchmark can act on.
warnings.filterwarnings("ignore", message="Skipped unsupported reflection of expression-based index")
EXPORT_RSS_TARGET_MB = 200


class BenchError(RuntimeError):
    """The benchmark cannot give figures that mean anything: a page failed, a server did not start."""


# --- What is measured -------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """Who signs in and which rows the pages show, read from the loaded data."""

    manager: str  # about 150 open pacts: Oggi, search
    manager_id: int
    pact_user: str  # the case manager of the pact with a long history
    pact_id: int
    beneficiary_id: int  # that pact's person
    supervisor: str  # of the busy manager's territory: caseload, approvals, export
    indicators_user: str  # a supervisor who oversees the programme
    programme_id: int
    year: int
    search_term: str
    passwords: dict[str, str] = field(repr=False, default_factory=dict)
    write_pact_id: int | None = None  # an open pact of the busy manager, not the long one (--write-every)


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    user: str | None  # None: not signed in
    path: str
    target: float | None = 5.0  # p95 / floor at most this (issue 13); None: not a latency target
    export: bool = False


def benchmark_pages(facts: Facts) -> list[Page]:
    """The pages of issue 13, point 4, in the order they are driven (the export last: it is the longest)."""
    year = facts.year
    return [
        Page(FLOOR, "sign-in page (floor)", None, "/login", target=None),
        Page("oggi", "Oggi (busy manager)", facts.manager, "/", target=2.0),
        Page("pact", "pact page, long history", facts.pact_user, f"/pacts/{facts.pact_id}", target=2.0),
        Page("search", "beneficiary search", facts.manager, "/cerca?" + urlencode({"q": facts.search_term})),
        Page("people", "beneficiaries list, filtered", facts.manager,
             "/beneficiaries?" + urlencode({"q": facts.search_term})),
        Page("caseload", "caseload overview", facts.supervisor, "/caseload"),
        Page("drilldown", "caseload drill-down (busy manager)", facts.supervisor,
             "/caseload/pacts?" + urlencode({"manager": facts.manager_id})),
        Page("approvals", "approvals queue", facts.supervisor, "/approvals"),
        Page("indicators", f"indicators, programme for {year}", facts.indicators_user, "/indicators?" + urlencode(
            {"programme": facts.programme_id, "start": f"{year}-01-01", "end": f"{year}-12-31"})),
        Page("export", "pacts CSV export", facts.supervisor, "/exports/pacts.csv", target=None, export=True),
    ]


def summary_dict(summary: Any) -> dict[str, Any]:
    return asdict(summary) if is_dataclass(summary) else dict(summary)


def demo_password(username: str) -> str:
    from casework.demo.loader import PASSWORD_PREFIX

    return PASSWORD_PREFIX + username


def resolve_facts(engine, summary: dict[str, Any]) -> Facts:
    """The users and rows `load_scale`'s summary names, with what the pages' addresses need."""
    with Session(engine) as db:
        busy = summary["busy_manager"]
        manager = db.scalars(select(User).where(User.id == busy if isinstance(busy, int) else User.username == busy)).one()
        pact = db.get(Pact, summary["long_pact_id"])
        if pact is None:
            raise BenchError(f"the summary's long_pact_id {summary['long_pact_id']} is no pact")
        pact_user = manager if pact.case_manager_id == manager.id else db.get(User, pact.case_manager_id)
        supervisors = db.scalars(select(User).where(User.username.in_(summary["supervisors"]),
                                                    User.role == Role.SUPERVISOR).order_by(User.id)).all()
        if not supervisors:
            raise BenchError("the summary names no supervisor")
        programme = db.get(Programme, summary["programme_id"])
        if programme is None:
            raise BenchError(f"the summary's programme_id {summary['programme_id']} is no programme")

        def of_territory(territory_id: int) -> User:
            return next((s for s in supervisors if s.territory_id == territory_id), supervisors[0])

        write_pact = db.scalar(select(Pact.id).where(Pact.case_manager_id == manager.id, Pact.closed_at.is_(None),
                                                     Pact.id != pact.id).order_by(Pact.id).limit(1))
        users = {manager.username, pact_user.username, *summary["supervisors"]}
        given = {account["username"]: account["password"] for account in summary.get("accounts", [])}
        return Facts(
            manager=manager.username, manager_id=manager.id, pact_user=pact_user.username, pact_id=pact.id,
            beneficiary_id=pact.beneficiary_id, supervisor=of_territory(manager.territory_id).username,
            indicators_user=of_territory(programme.territory_id).username, programme_id=programme.id,
            year=int(summary["year"]), search_term=str(summary["search_term"]),
            passwords={name: given.get(name) or demo_password(name) for name in users}, write_pact_id=write_pact,
        )


# --- The data ---------------------------------------------------------------------------------


def data_revision() -> str:
    """The last commit that changed the scale data's generator: a newer one means new data."""
    found = subprocess.run(["git", "log", "-1", "--format=%h", "--", *DATA_PATHS], cwd=ROOT,
                           capture_output=True, text=True, check=False)
    return found.stdout.strip() or "norev"


def _load(url: str, size: int, instance: Path) -> dict[str, Any]:
    from casework.demo.scale import load_scale

    settings = load_settings({"database_url": url, "instance_path": str(instance)})
    started = time.perf_counter()
    summary = summary_dict(load_scale(settings, size, progress=True))
    print(f"  loaded N={size:,} in {time.perf_counter() - started:.0f} s", flush=True)
    return summary


def _reuse(url: str) -> None:
    """Kept data brought to this tree's schema: the migrations a later commit added (an index, a
    counter filled by its migration) apply to it as they would to a site's database."""
    from casework import migrate

    migrate.upgrade(url)


def _settle(url: str) -> None:
    """VACUUM (ANALYZE) a PostgreSQL database before it is measured. After a bulk load its rows'
    hint bits are unset and its visibility map empty, so the first reads write pages and index-only
    scans read the table, while autovacuum starts on the same tables in the middle of the run: an
    office's database, vacuumed long ago, is measured instead of one loaded a minute ago."""
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("VACUUM (ANALYZE)"))
    finally:
        engine.dispose()


def _done_file(place: Path, name: str) -> Path:
    return place / f"{name}.summary.json"


def sqlite_data(size: int, place: Path, instance: Path) -> tuple[str, dict[str, Any]]:
    """A SQLite file with N's scale data: reused if `place` has it for this revision."""
    name = f"scale-{data_revision()}-{size}"
    database = place / f"{name}.sqlite3"
    done = _done_file(place, name)
    url = f"sqlite:///{database}"
    if done.exists() and database.exists():
        print(f"  reusing {database}", flush=True)
        _reuse(url)
        return url, json.loads(done.read_text())
    for stale in place.glob(f"{name}.sqlite3*"):
        stale.unlink()
    summary = _load(url, size, instance)
    done.write_text(json.dumps(summary, default=str))
    return url, summary


@contextmanager
def postgres_data(admin_url: str, size: int, place: Path, instance: Path, *, keep: bool
                  ) -> Iterator[tuple[str, dict[str, Any]]]:
    """A PostgreSQL database of its own with N's scale data, created on the server `admin_url`
    names (whose role may create databases); dropped at the end unless `keep` (--data-dir)."""
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"webbench_{data_revision()}_{size}" if keep else f"webbench_{uuid.uuid4().hex[:8]}_{size}"
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    done = _done_file(place, name)
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name})
            if exists and done.exists():
                print(f"  reusing PostgreSQL database {name}", flush=True)
                summary = json.loads(done.read_text())
            else:
                if exists:
                    connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{name}"'))
                summary = None
        if summary is None:
            summary = _load(url, size, instance)
            done.write_text(json.dumps(summary, default=str))
        else:
            _reuse(url)
        _settle(url)
        yield url, summary
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            done.unlink(missing_ok=True)
        admin.dispose()


# --- The server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def gunicorn(url: str, instance: Path, *, workers: int, timeout: int | None) -> Iterator[Server]:
    port = _free_port()
    command = [sys.executable, "-m", "gunicorn"]
    if GUNICORN_CONFIG.exists():
        command += ["-c", str(GUNICORN_CONFIG)]
    command += ["-w", str(workers), "-b", f"127.0.0.1:{port}"]
    if timeout:
        command += ["--timeout", str(timeout)]
    command.append("casework.web:create_app()")
    env = {**os.environ, "CASEWORK_DATABASE_URL": url, "CASEWORK_SECRET_KEY": secrets.token_urlsafe(48),
           "CASEWORK_INSTANCE_PATH": str(instance), "CASEWORK_ENV": "development",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    # development: plain-HTTP cookies (production marks them Secure, which a client over
    # http://127.0.0.1 rightly does not send back); every other setting is production's.
    log = instance / f"gunicorn-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        _wait_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: Server, seconds: float = 90) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.process.returncode}:\n{server.tail()}")
        try:
            if requests.get(server.base + "/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise BenchError(f"/health did not answer 200 within {seconds:.0f} s:\n{server.tail()}")


def worker_pids(master: int) -> list[int]:
    try:
        import psutil
    except ImportError:
        path = Path(f"/proc/{master}/task/{master}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []
    return [child.pid for child in psutil.Process(master).children()]


def rss_bytes(pid: int) -> int:
    """A worker's resident memory; 0 for one gunicorn has just replaced (it has none any more)."""
    try:
        import psutil
    except ImportError:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        return next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.NoSuchProcess:
        return 0


class PeakRss:
    """Samples the RSS of each gunicorn worker every 50 ms while the block runs."""

    def __init__(self, master: int):
        self.master = master
        self.before = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _current(self) -> int:
        return max((rss_bytes(pid) for pid in worker_pids(self.master)), default=0)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._current())
            self._stop.wait(0.05)

    def __enter__(self) -> Self:
        self.before = self._current()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- The clients ------------------------------------------------------------------------------


def sign_in(base: str, username: str, password: str):
    import requests

    session = requests.Session()
    form = session.get(base + "/login", timeout=60)
    match = CSRF.search(form.text)
    if form.status_code != 200 or not match:
        raise BenchError(f"sign-in page: HTTP {form.status_code}, CSRF token {'found' if match else 'missing'}")
    answer = session.post(base + "/login", data={"username": username, "password": password,
                                                 "csrf_token": match.group(1)}, allow_redirects=False, timeout=60)
    if answer.status_code != 302:
        raise BenchError(f"signing in as {username}: HTTP {answer.status_code} instead of a redirect (wrong password?)")
    return session


@dataclass
class Client:
    sessions: dict[str | None, Any]

    @classmethod
    def signed_in(cls, base: str, pages: list[Page], passwords: dict[str, str]) -> Client:
        import requests

        users = {page.user for page in pages if page.user is not None}
        return cls({None: requests.Session(), **{user: sign_in(base, user, passwords[user]) for user in sorted(users)}})


def fetch(client: Client, base: str, page: Page) -> tuple[float, int, int]:
    """One GET: seconds to the last byte, bytes and lines; BenchError if the answer is not 200."""
    started = time.perf_counter()
    answer = client.sessions[page.user].get(base + page.path, allow_redirects=False, stream=True, timeout=600)
    size = lines = 0
    for chunk in answer.iter_content(65536):  # read as it comes: the client holds no whole export
        size += len(chunk)
        lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    answer.close()
    if answer.status_code != 200:
        where = f" (to {answer.headers.get('Location')})" if answer.is_redirect else ""
        raise BenchError(f"{page.label} ({page.path}): HTTP {answer.status_code}{where}")
    return elapsed, size, lines


# The contact form's fields carry its prefix (casework.web.pacts.forms.contact_form).
VERSION = re.compile(r'name="contact-version"[^>]*value="([0-9]+)"')
ERRORS = re.compile(r'class="[^"]*invalid-feedback[^"]*"[^>]*>\s*([^<]+)')


class Writer:
    """With --write-every: the busy manager records a contact on one of his pacts through the
    pact page's form every so often while the pages are measured, so that what pages keep
    between requests is invalidated as on a working day, not served from a quiet database."""

    def __init__(self, base: str, facts: Facts, every: float):
        if facts.write_pact_id is None:
            raise BenchError(f"{facts.manager} has no open pact to record contacts on")
        self.base, self.every, self.path = base, every, f"/pacts/{facts.write_pact_id}"
        self.session = sign_in(base, facts.manager, facts.passwords[facts.manager])
        self.zone = ZoneInfo(load_settings().timezone)
        self.writes = 0
        self.failure: BenchError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def write(self) -> None:
        page = self.session.get(self.base + self.path, timeout=120)
        token, version = CSRF.search(page.text), VERSION.search(page.text)
        if page.status_code != 200 or not token or not version:
            raise BenchError(f"writer: the pact page {self.path} answered {page.status_code} without its forms")
        answer = self.session.post(self.base + self.path + "/contacts", data={
            "csrf_token": token.group(1), "contact-version": version.group(1), "contact-channel": "phone",
            "contact-contact_at": datetime.now(self.zone).strftime("%Y-%m-%dT%H:%M"),
            "contact-notes": "Contatto telefonico (benchmark)",
        }, allow_redirects=False, timeout=120)
        if answer.status_code not in (302, 303):
            raise BenchError(f"writer: recording a contact on {self.path} answered {answer.status_code}: "
                             f"{'; '.join(ERRORS.findall(answer.text))[:300]}")
        self.writes += 1

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.write()
            except BenchError as error:
                self.failure = error
                return
            except Exception as error:  # noqa: BLE001 - reported by the main thread
                self.failure = BenchError(f"writer: {error!r}")
                return

    def __enter__(self) -> Self:
        self.write()  # fails at once if the form cannot be used
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if self.failure is not None and exc[0] is None:
            raise self.failure


@dataclass
class Measure:
    page: Page
    times: list[float]
    wall: float
    size: int = 0
    lines: int = 0
    rss_before: int = 0
    rss_peak: int = 0

    def p(self, fraction: float) -> float:
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.times) * 1000

    @property
    def p95(self) -> float:
        return self.p(0.95)

    @property
    def rate(self) -> float:
        return len(self.times) / self.wall


def drive(clients: list[Client], base: str, page: Page, repeats: int) -> Measure:
    """Every client GETs `page` `repeats` times, all at once; the first failure stops them all."""
    times: list[float] = []
    sizes: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(clients) + 1)

    def run(client: Client) -> None:
        start.wait()
        for _ in range(repeats):
            if failures:
                return
            try:
                elapsed, size, lines = fetch(client, base, page)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                with lock:
                    failures.append(error)
                return
            with lock:
                times.append(elapsed)
                sizes.append((size, lines))

    threads = [threading.Thread(target=run, args=(client,), daemon=True) for client in clients]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        error = failures[0]
        raise error if isinstance(error, BenchError) else BenchError(f"{page.label} ({page.path}): {error!r}")
    size, lines = max(sizes, default=(0, 0))
    return Measure(page, times, wall, size=size, lines=lines)


def interleaved(targets: list[tuple[list[Client], str, list[Page]]], repeats: int, rounds: int) -> list[list[Measure]]:
    """`drive` each page of each target (clients, server address, pages) `repeats` times a
    client, in `rounds` turns through all the targets and their pages: what slows a shared
    machine for a while (another process, the database's own chores) then falls on every page,
    on the floor and on every data size alike, instead of on whichever was being measured."""
    rounds = max(1, min(rounds, repeats))
    shares = [repeats // rounds + (1 if turn < repeats % rounds else 0) for turn in range(rounds)]
    measures = [{page.key: Measure(page, [], 0.0) for page in pages} for _clients, _base, pages in targets]
    for share in shares:
        for (clients, base, pages), totals in zip(targets, measures, strict=True):
            for page in pages:
                measure = drive(clients, base, page, share)
                total = totals[page.key]
                total.times += measure.times
                total.wall += measure.wall
                total.size, total.lines = max((total.size, total.lines), (measure.size, measure.lines))
    return [list(totals.values()) for totals in measures]


@dataclass
class Run:
    size: int
    database: str
    measures: list[Measure]

    def by_key(self) -> dict[str, Measure]:
        return {measure.page.key: measure for measure in self.measures}

    @property
    def floor(self) -> float:
        return self.by_key()[FLOOR].p95

    def timed(self) -> list[Measure]:
        """The pages the latency figures are about: all but the floor and the export."""
        return [m for m in self.measures if m.page.key != FLOOR and not m.page.export]


@dataclass
class Target:
    """One data size's server, with its clients signed in and warmed up."""

    size: int
    facts: Facts
    pages: list[Page]
    server: Server
    clients: list[Client]


def start_target(stack: ExitStack, url: str, summary: dict[str, Any], *, size: int, instance: Path,
                 args: argparse.Namespace) -> Target:
    """gunicorn on this size's data, until `stack` closes; its clients signed in and warmed up."""
    engine = make_engine(url)
    try:
        facts = resolve_facts(engine, summary)
    finally:
        engine.dispose()
    pages = benchmark_pages(facts)
    if args.pages:
        pages = [page for page in pages if page.key in args.pages or page.key == FLOOR]
    server = stack.enter_context(gunicorn(url, instance, workers=args.workers, timeout=args.timeout))
    clients = [Client.signed_in(server.base, pages, facts.passwords) for _ in range(args.clients)]
    for page in pages:  # warm-up: templates compiled, caches and connections filled in each worker
        if page.export:
            fetch(clients[0], server.base, page)
        else:
            # All clients at once, as measured: one client after another kept landing on the
            # same worker, and the other one drew its first pages (250 ms for the long pact)
            # while measured, with the requests queued behind it.
            drive(clients, server.base, page, args.warmup)
    return Target(size, facts, pages, server, clients)


def bench_sizes(targets: list[Target], *, database: str, args: argparse.Namespace) -> list[Run]:
    """Every size's pages measured in the same rounds (`interleaved`): the growth from one size
    to the next compares figures taken in the same minutes, not in runs minutes apart of which
    one may have met a slower moment of the shared machine. The exports come last, one size
    after the other (their memory is measured per server)."""
    writers = [Writer(target.server.base, target.facts, args.write_every) for target in targets
               ] if args.write_every else []
    with ExitStack() as writing:
        for writer in writers:
            writing.enter_context(writer)
        measured = interleaved([(target.clients, target.server.base, [page for page in target.pages if not page.export])
                                for target in targets], args.requests, args.rounds)
        for target, measures in zip(targets, measured, strict=True):
            for page in target.pages:
                if page.export:
                    with PeakRss(target.server.process.pid) as rss:
                        measure = drive(target.clients, target.server.base, page, args.export_requests)
                    measure.rss_before, measure.rss_peak = rss.before, rss.peak
                    measures.append(measure)
    runs = [Run(target.size, database, measures) for target, measures in zip(targets, measured, strict=True)]
    for index, run in enumerate(runs):
        for measure in run.measures:
            print(f"  N={run.size:<7} {measure.page.key:<11} p95 {measure.p95:8.1f} ms", flush=True)
        if writers:
            print(f"  N={run.size}: the writer recorded {writers[index].writes} contacts meanwhile", flush=True)
    return runs


# --- The report -------------------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 2**10:.0f} kB"


def _user(page: Page) -> str:
    return page.user or "(anonymous)"


def table(run: Run, args: argparse.Namespace, workers_note: str) -> str:
    floor = run.floor
    lines = [
        (f"N={run.size:,} on {run.database}: {workers_note}, {args.clients} clients; {args.requests} requests "
         f"per client per page in {args.rounds} rounds ({args.export_requests} for the export) after "
         f"{args.warmup} warm-up"
         + (f"; a contact recorded every {args.write_every:g} s meanwhile" if args.write_every else "")),
        f"{'page':<38} {'user':<16} {'n':>4} {'p50 ms':>9} {'p95 ms':>9} {'req/s':>8} {'p95/floor':>9}  target",
    ]
    for m in run.measures:
        ratio = m.p95 / floor
        if m.page.target is None:
            verdict = "" if not m.page.export else "not in worst/R/G *"
        else:
            verdict = f"<= {m.page.target:g} " + ("ok" if ratio <= m.page.target else "OVER")
        lines.append(f"{m.page.label:<38} {_user(m.page):<16} {len(m.times):>4} {m.p50:>9.1f} {m.p95:>9.1f} "
                     f"{m.rate:>8.1f} {ratio:>9.2f}  {verdict}")
    for m in run.measures:
        if m.page.export:
            peak = m.rss_peak / 2**20
            lines.append(
                f"* {m.page.label}: {_megabytes(m.size)}, {m.lines:,} lines per download; gunicorn workers' peak RSS during it "
                f"{peak:.0f} MB (before: {m.rss_before / 2**20:.0f} MB; target < {EXPORT_RSS_TARGET_MB} MB: "
                f"{'ok' if peak < EXPORT_RSS_TARGET_MB else 'OVER'}). Its time follows N by nature: left out "
                f"of the worst p95, of p95/floor and of the growth.")
    return "\n".join(lines)


def growth_table(runs: list[Run]) -> tuple[str, float | None]:
    """Each page's p95 at the largest size over its p95 at the smallest, per database."""
    lines: list[str] = []
    worst: float | None = None
    for database in dict.fromkeys(run.database for run in runs):
        mine = sorted((run for run in runs if run.database == database), key=lambda run: run.size)
        if len(mine) < 2:
            continue
        small, large = mine[0].by_key(), mine[-1].by_key()
        lines.append(f"growth on {database}, N={mine[0].size:,} -> N={mine[-1].size:,} (p95 ratio; "
                     f"target <= 1.5, exports excluded):")
        for key, m in large.items():
            if key not in small:
                continue
            ratio = m.p95 / small[key].p95
            excluded = m.page.export
            if not excluded and key != FLOOR:
                worst = ratio if worst is None else max(worst, ratio)
            note = "excluded (export)" if excluded else ("the floor" if key == FLOOR else
                                                          ("ok" if ratio <= 1.5 else "OVER"))
            lines.append(f"  {m.page.label:<38} {small[key].p95:>9.1f} -> {m.p95:>9.1f} ms  x{ratio:5.2f}  {note}")
    return "\n".join(lines), worst


def last_line(runs: list[Run]) -> str:
    timed = [(m, run) for run in runs for m in run.timed()]
    if not timed:
        return "web: worst p95 n/a (no page but the floor and the export was measured)"
    worst, at = max(timed, key=lambda pair: pair[0].p95)
    ratio = max(max(m.p95 for m in run.timed()) / run.floor for run in runs if run.timed())
    _, growth = growth_table(runs)
    return (f"web: worst p95 {worst.p95:.0f} ms at N={at.size} ({worst.page.label}); "
            f"worst p95/floor {ratio:.2f}; growth 10k->100k {'n/a' if growth is None else f'{growth:.2f}'}")


# --- Command line -----------------------------------------------------------------------------


def _sizes(value: str) -> list[int]:
    sizes = [int(part.replace("_", "")) for part in value.split(",") if part.strip()]
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError("give sizes as numbers separated by commas, e.g. 10000,100000")
    return sizes


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=_sizes, default=[10_000, 100_000], help="beneficiaries (default 10000,100000)")
    parser.add_argument("--database-url", help="a PostgreSQL server (a database URL whose role may create databases)")
    parser.add_argument("--skip-sqlite", action="store_true", help="with --database-url: PostgreSQL only")
    parser.add_argument("--data-dir", type=Path, help="keep the scale data here and reuse it in later runs")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    # 4 x 50 = 200 timings a page: with 40, the p95 was the second-slowest request, and one hiccup
    # of a shared machine moved a ratio by a whole point; with 100 it still moved by half a point.
    parser.add_argument("--requests", type=int, default=50, help="per client per page (default 50)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="the pages take turns, each round a share of their requests (default 5)")
    parser.add_argument("--export-requests", type=int, default=2, help="per client for the export (default 2)")
    parser.add_argument("--warmup", type=int, default=3, help="requests per client per page before measuring")
    parser.add_argument("--write-every", type=float, metavar="SECONDS",
                        help="meanwhile, the busy manager records a contact every SECONDS (off by default)")
    parser.add_argument("--timeout", type=int, help="gunicorn's worker timeout in seconds (default: its config's)")
    parser.add_argument("--pages", type=lambda value: set(value.split(",")),
                        help="only these pages (keys: oggi,pact,search,people,caseload,drilldown,approvals,"
                             "indicators,export); the floor is always measured")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    databases = ([] if args.skip_sqlite and args.database_url else ["sqlite"]) + (
        ["postgresql"] if args.database_url else [])
    workers_note = f"gunicorn {args.workers} workers" + (f" ({GUNICORN_CONFIG.relative_to(ROOT)})"
                                                         if GUNICORN_CONFIG.exists() else "")
    scratch = Path(tempfile.mkdtemp(prefix="casework-webbench-"))
    place = args.data_dir.expanduser() if args.data_dir else scratch / "data"
    place.mkdir(parents=True, exist_ok=True)
    runs: list[Run] = []
    print(f"web bench, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, data revision {data_revision()}, "
          f"{os.cpu_count()} CPUs (shared: figures are noisy)", flush=True)
    try:
        for database in databases:
            with ExitStack() as stack:  # the servers stop before their databases are dropped
                targets = []
                for size in args.sizes:
                    instance = scratch / f"instance-{database}-{size}"
                    instance.mkdir(parents=True, exist_ok=True)
                    print(f"N={size:,} on {database}: data and server", flush=True)
                    if database == "sqlite":
                        url, summary = sqlite_data(size, place, instance)
                    else:
                        url, summary = stack.enter_context(
                            postgres_data(args.database_url, size, place, instance, keep=bool(args.data_dir)))
                    targets.append(start_target(stack, url, summary, size=size, instance=instance, args=args))
                print(f"{database}: the sizes measured in the same rounds", flush=True)
                for run in bench_sizes(targets, database=database, args=args):
                    runs.append(run)
                    print("\n" + table(run, args, workers_note) + "\n", flush=True)
    except BenchError as error:
        print(f"web bench stopped: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    growth, _ = growth_table(runs)
    if growth:
        print(growth + "\n")
    print(last_line(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
