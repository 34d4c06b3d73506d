"""`casework backup` and `casework restore`: a backup taken while Casework writes brings back
everything committed before it started, and a damaged or foreign backup is refused."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from casework import PROJECT_ROOT, migrate
from casework.administration import backup as backups
from casework.cli import main
from casework.clock import Clock
from casework.db import make_engine, make_session_factory, unit_of_work
from casework.models import (
    Beneficiary,
    Document,
    DocumentKind,
    Gender,
    JournalEntry,
    JournalKind,
    Pact,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    TransitionRecord,
    User,
)
from casework.pacts import open_pact, transition_pact
from casework.pacts.casefile import add_journal_entry
from casework.pacts.documents import store_document
from casework.security.passwords import hash_password
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE

PASSWORD = "una-password-lunga-2026"


def _env(instance: Path, database_url: str = "") -> dict[str, str]:
    return {"CASEWORK_INSTANCE_PATH": str(instance), "CASEWORK_DATABASE_URL": database_url,
            "CASEWORK_ENV": "development", "CASEWORK_CONFIG": ""}


@dataclass
class Live:
    instance: Path
    url: str
    manager_id: int
    programme_id: int


def _live_instance(root: Path) -> Live:
    """An installation as `casework db upgrade` makes it, with a case manager and a programme."""
    instance = root / "instance"
    url = f"sqlite:///{instance / 'casework.sqlite3'}"
    instance.mkdir(parents=True)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
            manager = User(username="giulia", full_name="Giulia Rossi", email="giulia@example.org",
                           password_hash=hash_password(PASSWORD), role=Role.CASE_MANAGER, territory=unione)
            programme = Programme(code="TILDE", name="TILDE", funder="—", territory=unione,
                                  starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato")
            session.add_all([unione, manager, programme])
            session.flush()
            return Live(instance, url, manager.id, programme.id)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Committed:
    """What one unit of work of the writer committed."""

    pact_id: int
    beneficiary_id: int
    transition_id: int
    journal_id: int
    document_id: int
    stored_name: str
    sha256: str


class Writer(threading.Thread):
    """Opens pacts, moves them, writes notes and uploads documents through the core operations,
    one committed unit of work after another, until stopped."""

    def __init__(self, live: Live, registry: WorkflowRegistry, limit: int | None = None):
        super().__init__(daemon=True)
        self.live, self.registry, self.limit = live, registry, limit
        self.committed: list[Committed] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        engine = make_engine(self.live.url)
        factory = make_session_factory(engine)
        storage = self.live.instance / "documents"
        try:
            number = 0
            while not self.stop.is_set() and number != self.limit:
                number += 1
                now = datetime.now(UTC)
                clock = Clock(now, ZONE)
                with unit_of_work(factory) as session:
                    manager = session.get(User, self.live.manager_id)
                    person = Beneficiary(first_name="Persona", last_name=f"N{number}", gender=Gender.FEMALE)
                    session.add(person)
                    session.flush()
                    pact = open_pact(session, self.registry, beneficiary=person,
                                     programme=session.get(Programme, self.live.programme_id), case_manager=manager,
                                     actor=manager, clock=clock)
                    note = add_journal_entry(session, pact, kind=JournalKind.NOTE, at=now, text=f"colloquio {number}",
                                             actor=manager, now=now)
                    content = b"%PDF-1.4\n" + f"documento {number}\n".encode() * 50
                    document = store_document(session, storage, io.BytesIO(content), file_name=f"patto-{number}.pdf",
                                              kind=DocumentKind.SIGNED_PACT, max_bytes=1_000_000, actor=manager,
                                              now=now, pact=pact)
                    transition_pact(session, self.registry, pact, "withdraw", actor=manager, clock=clock,
                                    reason="moved_away")
                    session.flush()
                    move = session.scalar(select(TransitionRecord.id).where(TransitionRecord.pact_id == pact.id)
                                          .order_by(TransitionRecord.id.desc()).limit(1))
                    done = Committed(pact.id, person.id, move, note.id, document.id, document.stored_name,
                                     hashlib.sha256(content).hexdigest())
                self.committed.append(done)  # after the commit: only what is surely in the database
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            engine.dispose()

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.committed) < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer stopped writing"
            time.sleep(0.01)


@pytest.fixture
def registry() -> WorkflowRegistry:
    return WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")


def _rows(url: str, model, column) -> set:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return set(session.scalars(select(column)))
    finally:
        engine.dispose()


def test_a_backup_taken_while_casework_writes_restores_everything_committed_before_it(tmp_path, registry):
    live = _live_instance(tmp_path / "live")
    writer = Writer(live, registry)
    writer.start()
    try:
        writer.wait_for(5)
        before = list(writer.committed)
        steps = []

        def progress(remaining: int, total: int) -> None:
            # The copy goes on while the writer commits more: each step waits for a new unit of work.
            if len(steps) < 4:
                writer.wait_for(len(writer.committed) + 1)
            steps.append((remaining, total))

        result = backups.backup_sqlite(live.instance / "casework.sqlite3", live.instance / "documents",
                                       tmp_path / "backups", now=datetime.now(UTC), progress=progress, step_pages=8)
        during = list(writer.committed)
        writer.wait_for(len(during) + 2)  # and it keeps writing after the backup
    finally:
        writer.stop.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert len(steps) > 4 and len(during) >= len(before) + 4, "the backup did not overlap the writes"
    assert result.path.name.startswith("casework-") and result.missing_documents == []

    fresh = tmp_path / "fresh"
    restored = CliRunner().invoke(main, ["restore", str(result.path)], env=_env(fresh))
    assert restored.exit_code == 0, restored.output
    url = f"sqlite:///{fresh / 'casework.sqlite3'}"
    connection = sqlite3.connect(fresh / "casework.sqlite3")
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()

    pacts = _rows(url, Pact, Pact.id)
    transitions = _rows(url, TransitionRecord, TransitionRecord.id)
    notes = _rows(url, JournalEntry, JournalEntry.id)
    documents = _rows(url, Document, Document.stored_name)
    for unit in before:
        assert unit.pact_id in pacts and unit.transition_id in transitions and unit.journal_id in notes
        assert unit.stored_name in documents
    # One consistent state: what the snapshot holds is a prefix of the commits, each unit whole,
    # and later units are absent, their documents too.
    kept = [unit for unit in writer.committed if unit.pact_id in pacts]
    assert kept == writer.committed[:len(kept)] and len(kept) >= len(before)
    assert len(pacts) == len(notes) == len(documents) == len(kept)
    assert len(transitions) == 2 * len(kept)  # the opening and the withdrawal
    assert len(kept) < len(writer.committed)
    stored = {path.name for path in (fresh / "documents").iterdir()}
    assert stored == documents
    for unit in kept:
        assert hashlib.sha256((fresh / "documents" / unit.stored_name).read_bytes()).hexdigest() == unit.sha256
    assert result.manifest["tables"]["pact"] == len(kept) and result.manifest["documents"] == len(kept)
    assert result.manifest["schema_revision"] == migrate.heads()[0]

    # The restored installation opens: a case manager signs in, sees a pact and downloads its document.
    from casework.web import create_app
    from tests.web.conftest import sign_in

    app = create_app(overrides={"env": "testing", "secret_key": "t" * 48, "instance_path": str(fresh),
                                "database_url": ""})
    try:
        client = app.test_client()
        assert sign_in(client, "giulia").status_code == 302
        first = before[0]
        assert client.get(f"/pacts/{first.pact_id}").status_code == 200
        download = client.get(f"/documents/{first.document_id}")
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == first.sha256
    finally:
        app.extensions["casework"]["engine"].dispose()


def _backup(tmp_path: Path, registry: WorkflowRegistry) -> tuple[Live, Path]:
    live = _live_instance(tmp_path / "live")
    writer = Writer(live, registry, limit=2)
    writer.start()
    writer.join(30)
    assert writer.error is None and len(writer.committed) == 2, writer.error
    made = CliRunner().invoke(main, ["backup", str(tmp_path / "backups")], env=_env(live.instance))
    assert made.exit_code == 0, made.output
    assert "backup written" in made.output and "2 pacts" in made.output
    return live, next((tmp_path / "backups").glob("casework-*"))


def test_restore_refuses_a_backup_whose_files_do_not_match_the_manifest(tmp_path, registry):
    _, backup = _backup(tmp_path, registry)
    document = next((backup / "documents").iterdir())
    document.write_bytes(document.read_bytes() + b"x")
    result = CliRunner().invoke(main, ["restore", str(backup)], env=_env(tmp_path / "fresh"))
    assert result.exit_code == 1
    assert f"documents/{document.name} does not match the manifest" in result.output
    assert not (tmp_path / "fresh" / "casework.sqlite3").exists()


def test_restore_refuses_a_tampered_database_even_with_a_matching_size(tmp_path, registry):
    _, backup = _backup(tmp_path, registry)
    database = backup / "casework.sqlite3"
    data = bytearray(database.read_bytes())
    data[-100] ^= 0xFF
    database.write_bytes(bytes(data))
    result = CliRunner().invoke(main, ["restore", str(backup)], env=_env(tmp_path / "fresh"))
    assert result.exit_code == 1
    assert "casework.sqlite3 does not match the manifest" in result.output


def test_restore_refuses_a_folder_without_manifest_and_a_backup_of_an_unknown_schema(tmp_path, registry):
    _, backup = _backup(tmp_path, registry)
    copy = tmp_path / "copy"
    shutil.copytree(backup, copy)
    (copy / "manifest.json").unlink()
    result = CliRunner().invoke(main, ["restore", str(copy)], env=_env(tmp_path / "fresh"))
    assert result.exit_code == 1 and "has no manifest.json" in result.output

    # A backup of a newer Casework (its schema revision is not among our migrations).
    connection = sqlite3.connect(backup / "casework.sqlite3")
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["schema_revision"] = "9999"
    manifest["files"]["casework.sqlite3"] = {"bytes": (backup / "casework.sqlite3").stat().st_size,
                                             "sha256": hashlib.sha256((backup / "casework.sqlite3").read_bytes()).hexdigest()}
    (backup / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["restore", str(backup)], env=_env(tmp_path / "fresh"))
    assert result.exit_code == 1 and "schema revision 9999 is unknown to this Casework" in result.output
    assert not (tmp_path / "fresh" / "casework.sqlite3").exists()


def test_restore_replaces_an_existing_database_only_with_force_and_keeps_it_aside(tmp_path, registry):
    live, backup = _backup(tmp_path, registry)
    database = live.instance / "casework.sqlite3"
    original = database.read_bytes()
    refused = CliRunner().invoke(main, ["restore", str(backup)], env=_env(live.instance))
    assert refused.exit_code == 1 and "already exists: give --force" in refused.output
    assert database.read_bytes() == original

    engine = make_engine(live.url)  # a web process with the database open
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1 FROM pact").all()
        busy = CliRunner().invoke(main, ["restore", "--force", str(backup)], env=_env(live.instance))
    engine.dispose()
    assert busy.exit_code == 1 and "is in use: stop the web processes" in busy.output

    forced = CliRunner().invoke(main, ["restore", "--force", str(backup)], env=_env(live.instance))
    assert forced.exit_code == 0, forced.output
    aside = list(live.instance.glob("casework.sqlite3.before-restore-*"))
    assert len(aside) == 1 and f"kept as {aside[0]}" in forced.output
    assert len(list(live.instance.glob("documents.before-restore-*"))) == 1
    assert len(list((live.instance / "documents").iterdir())) == 2


def test_backup_and_restore_take_relative_paths(tmp_path, registry, monkeypatch):
    _backup(tmp_path, registry)
    monkeypatch.chdir(tmp_path)
    made = CliRunner().invoke(main, ["backup", "relative"], env=_env(tmp_path / "live" / "instance"))
    assert made.exit_code == 0, made.output
    backup = next(Path("relative").glob("casework-*"))
    restored = CliRunner().invoke(main, ["restore", str(backup)], env=_env(tmp_path / "fresh"))
    assert restored.exit_code == 0, restored.output
    assert len(list((tmp_path / "fresh" / "documents").iterdir())) == 2


def test_restore_of_an_older_schema_says_to_upgrade(tmp_path):
    instance = tmp_path / "old"
    url = f"sqlite:///{instance / 'casework.sqlite3'}"
    instance.mkdir()
    migrate.upgrade(url, "0014")
    made = CliRunner().invoke(main, ["backup", str(tmp_path / "backups")], env=_env(instance))
    assert made.exit_code == 0, made.output
    backup = next((tmp_path / "backups").glob("casework-*"))
    result = CliRunner().invoke(main, ["restore", str(backup)], env=_env(tmp_path / "fresh"))
    assert result.exit_code == 0, result.output
    assert "revision 0014, older than this Casework's: run casework db upgrade" in result.output


def test_backup_names_documents_already_missing_and_exits_1(tmp_path, registry):
    live = _live_instance(tmp_path / "live")
    writer = Writer(live, registry, limit=2)
    writer.start()
    writer.join(30)
    assert writer.error is None and len(writer.committed) == 2, writer.error
    lost = writer.committed[0].stored_name
    (live.instance / "documents" / lost).unlink()
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "backups")], env=_env(live.instance))
    assert result.exit_code == 1
    assert f"missing from the documents folder: {lost}" in result.output
    manifest = json.loads(next((tmp_path / "backups").glob("casework-*/manifest.json")).read_text())
    assert manifest["missing_documents"] == [lost]


def test_backup_and_restore_refuse_postgresql_and_point_to_the_procedure(tmp_path):
    url = "postgresql+psycopg://casework:secret@dbhost/casework"
    for command in (["backup", str(tmp_path / "out")], ["restore", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, command, env=_env(tmp_path / "instance", url))
        assert result.exit_code == 1
        assert "uses PostgreSQL" in result.output and "docs/backup.md" in result.output
        assert "secret" not in result.output
    assert not (tmp_path / "out").exists()
    assert (PROJECT_ROOT / "docs" / "backup.md").is_file()


def test_backup_refuses_when_there_is_no_database(tmp_path):
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "out")], env=_env(tmp_path / "instance"))
    assert result.exit_code == 1 and "there is no database" in result.output
