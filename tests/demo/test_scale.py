"""`casework demo --scale N`: the bulk-loaded data is what real use would have left behind.

Loaded once per database (SQLite, and PostgreSQL when configured) with a small N, then
checked the way the engine would: every history a valid path of its workflow ending at the
pact's state, versions counting the changes, deadlines as the real refresh computes them,
and every page a case manager or a supervisor opens answers 200.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from stdnum.it import codicefiscale

from casework import PROJECT_ROOT
from casework.config import Settings, load_settings
from casework.db import make_engine, make_session_factory
from casework.demo import ScaleRefused, ScaleSummary, load_scale
from casework.models import (
    Beneficiary,
    DeadlineRefresh,
    Notification,
    Pact,
    PactDeadline,
    Reminder,
    Role,
    TransitionRecord,
    User,
)
from casework.reminders import (
    ReminderPolicy,
    StatePosition,
    refresh_pact_deadlines,
    state_deadlines,
)
from casework.workflow import WorkflowRegistry
from tests.conftest import _scratch_postgres_database

N = 60


@dataclass
class Scale:
    url: str
    settings: Settings
    engine: Engine
    summary: ScaleSummary
    registry: WorkflowRegistry


def _settings(url: str, tmp: Path) -> Settings:
    return load_settings({"database_url": url, "instance_path": str(tmp / "instance")}, environ={})


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scale(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scale]:
    tmp = tmp_path_factory.mktemp("scale")
    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'scale.sqlite3'}"
        settings = _settings(url, tmp)
        summary = load_scale(settings, N)
        engine = make_engine(url)
        yield Scale(url, settings, engine, summary, registry)
        engine.dispose()
    else:
        with _scratch_postgres_database() as url:
            settings = _settings(url, tmp)
            summary = load_scale(settings, N)
            engine = make_engine(url)
            yield Scale(url, settings, engine, summary, registry)
            engine.dispose()


@pytest.fixture
def session(scale: Scale) -> Iterator[Session]:
    with make_session_factory(scale.engine)() as session:
        yield session


def test_counts_are_as_requested_and_spread_over_twenty_case_managers(scale: Scale, session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(Beneficiary)) == N
    assert session.scalar(select(func.count()).select_from(Pact)) == N
    assert scale.summary.beneficiaries == scale.summary.pacts == N
    managers = session.scalars(select(User).where(User.role == Role.CASE_MANAGER)).all()
    assert len(managers) == 20
    assert sorted(scale.summary.case_managers) == sorted(u.username for u in managers)
    assert len({u.territory_id for u in managers}) == 3
    assert {p.workflow_name for p in session.scalars(select(Pact))} == {"patto_personalizzato", "chance_dispersione"}
    codes = session.scalars(select(Beneficiary.codice_fiscale)).all()
    assert len(set(codes)) == N and all(codicefiscale.is_valid(code) for code in codes)


def test_every_history_is_a_path_of_its_workflow_ending_at_the_pacts_state(scale: Scale, session: Session) -> None:
    records: dict[int, list[TransitionRecord]] = defaultdict(list)
    for record in session.scalars(select(TransitionRecord).order_by(TransitionRecord.pact_id, TransitionRecord.pact_version)):
        records[record.pact_id].append(record)
    moves = []
    for pact in session.scalars(select(Pact)):
        definition = scale.registry.get(pact.workflow_name, pact.workflow_version).definition
        history = records[pact.id]
        assert history[0].event == "open" and history[0].to_state == definition.initial
        assert history[0].at == pact.opened_at
        state, came_from = definition.initial, None
        for record in history[1:]:
            event = definition.events[record.event]
            assert record.from_state == state and state in event.sources, (pact.id, record.event, state)
            assert record.to_state == (came_from if event.returns_to_previous else record.to_state)
            assert record.at >= history[0].at
            came_from, state = state, record.to_state
        assert state == pact.state and pact.entered_from == (came_from if len(history) > 1 else None)
        assert pact.state_entered_at == history[-1].at
        assert (pact.closed_at is not None) == (pact.state in definition.final_states)
        if pact.state == "closed":
            assert pact.outcome is not None
        assert pact.version >= history[-1].pact_version
        moves.append(len(history))
    long_history = records[scale.summary.long_pact_id]
    assert len(long_history) >= 30
    assert sum(moves) / len(moves) >= 5


def test_a_pacts_version_counts_its_changes(scale: Scale, session: Session) -> None:
    """1 for opening, then one per move and per record the operations save (casework.pacts.operations)."""
    counts: Counter[int] = Counter()
    for table, extra in (
        ("transition_record", "WHERE event != 'open'"), ("referral", ""), ("screening", ""), ("goal", ""),
        ("pact_action", ""), ("commitment", ""), ("pact_revision", ""),
        ("pact_revision", "WHERE signed_on IS NOT NULL"), ("pact_approval", ""), ("follow_up_contact", ""),
        ("pact_outcome", ""), ("pact_member", ""), ("pact_action", "WHERE status IN ('in_progress', 'done')"),
    ):
        for pact_id, count in session.execute(text(f"SELECT pact_id, count(*) FROM {table} {extra} GROUP BY pact_id")):
            counts[pact_id] += count
    for pact_id, version in session.execute(select(Pact.id, Pact.version)):
        assert version == 1 + counts[pact_id], pact_id


def test_deadlines_are_what_the_real_refresh_writes(scale: Scale, session: Session) -> None:
    assert session.scalar(select(func.count()).select_from(DeadlineRefresh)) == 0
    now = datetime.now(UTC)
    policy = ReminderPolicy.from_settings(scale.settings)
    open_pacts = session.scalars(select(Pact).where(Pact.closed_at.is_(None)).order_by(Pact.id)).all()
    assert open_pacts
    for pact in open_pacts:
        definition = scale.registry.get(pact.workflow_name, pact.workflow_version).definition
        running = sorted((d for d in state_deadlines(session, definition, StatePosition.of(pact), scale.settings.zone)
                          if not d.paused), key=lambda d: d.due_at)
        expected = (running[0].due_at, running[0].rule.id) if running else (None, "")
        assert (pact.next_deadline_at, pact.next_deadline_label) == expected, pact.id
        stored = {(r.rule_id, r.due_at, r.anchor_on) for r in session.scalars(
            select(PactDeadline).where(PactDeadline.pact_id == pact.id, PactDeadline.ended_at.is_(None)))}
        live = refresh_pact_deadlines(session, scale.registry, pact, now=now, policy=policy)
        assert {(r.rule_id, r.due_at, r.anchor_on) for r in live} == stored, pact.id
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PactDeadline).join(Pact).where(
        Pact.closed_at.is_not(None), PactDeadline.ended_at.is_(None))) == 0
    # The sweep ran once: what was due by the load's end went out, to the case managers and
    # (overdue) to the supervisors, and nothing due is left behind.
    assert session.scalar(select(func.count()).select_from(Notification)) > 0
    assert session.scalar(select(func.count()).select_from(Reminder).join(Pact).where(Pact.closed_at.is_not(None))) == 0
    started = datetime.now(UTC) - timedelta(seconds=scale.summary.seconds)
    assert session.scalar(select(func.count()).select_from(PactDeadline).where(
        PactDeadline.next_fire_at <= started)) == 0


def test_the_summary_names_what_exists(scale: Scale, session: Session) -> None:
    summary = scale.summary
    usernames = set(session.scalars(select(User.username)))
    assert set(summary.case_managers) | set(summary.supervisors) | {summary.busy_manager} <= usernames
    assert {a.username for a in summary.accounts} == usernames
    assert session.get(Pact, summary.long_pact_id) is not None
    matching = session.scalar(select(func.count()).select_from(Beneficiary).where(
        Beneficiary.last_name == summary.search_term))
    assert 0 < matching < N
    open_by_manager = Counter(dict(session.execute(
        select(User.username, func.count(Pact.id)).join(Pact, Pact.case_manager_id == User.id)
        .where(Pact.closed_at.is_(None)).group_by(User.username)).all()))
    assert open_by_manager[summary.busy_manager] == max(open_by_manager.values())
    pacts_in_year = session.scalar(select(func.count()).select_from(TransitionRecord).join(Pact).where(
        Pact.programme_id == summary.programme_id,
        func.extract("year", TransitionRecord.at) == summary.year))
    assert pacts_in_year > 0


def test_pages_answer_for_a_case_manager_and_a_supervisor(scale: Scale, session: Session, tmp_path: Path) -> None:
    from casework.web import create_app
    from tests.web.conftest import sign_in

    summary = scale.summary
    app = create_app(overrides={"env": "testing", "secret_key": "s" * 48, "instance_path": str(tmp_path / "i"),
                                "database_url": scale.url})
    try:
        busy_pact = session.scalar(select(Pact.id).join(User, User.id == Pact.case_manager_id).where(
            User.username == summary.busy_manager).order_by(Pact.id).limit(1))
        manager = app.test_client()
        assert sign_in(manager, summary.busy_manager, f"casework-demo-{summary.busy_manager}").status_code == 302
        for url in ("/", f"/pacts/{busy_pact}", f"/cerca?q={summary.search_term}",
                    f"/beneficiaries?q={summary.search_term}", "/beneficiaries"):
            assert manager.get(url).status_code == 200, url
        supervisor = summary.supervisors[0]
        assert session.scalar(select(func.count()).select_from(User).join(
            Pact, Pact.case_manager_id == User.id).where(Pact.id == summary.long_pact_id, User.territory_id == select(
                User.territory_id).where(User.username == supervisor).scalar_subquery())) == 1
        client = app.test_client()
        assert sign_in(client, supervisor, f"casework-demo-{supervisor}").status_code == 302
        year = summary.year
        for url in ("/", "/caseload", "/caseload/pacts", "/approvals", f"/pacts/{summary.long_pact_id}",
                    f"/indicators?programme={summary.programme_id}&start={year}-01-01&end={year}-12-31",
                    f"/cerca?q={summary.search_term}"):
            assert client.get(url).status_code == 200, url
    finally:
        app.extensions["casework"]["engine"].dispose()


def test_the_cli_loads_and_refuses_a_database_with_people(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from casework.cli import main

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("CASEWORK_DATABASE_URL", url)
    monkeypatch.setenv("CASEWORK_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    first = runner.invoke(main, ["demo", "--scale", "12"])
    assert first.exit_code == 0, first.output
    assert "12 beneficiaries" in first.output and "casework-demo-e.gribaudo" in first.output
    again = runner.invoke(main, ["demo", "--scale", "12"])
    assert again.exit_code == 1 and "already holds beneficiaries or pacts" in again.output
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Beneficiary)) == 12
    finally:
        engine.dispose()
    with pytest.raises(ScaleRefused):
        load_scale(load_settings({"database_url": url, "instance_path": str(tmp_path / "instance")}, environ={}), 5)
