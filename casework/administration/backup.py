"""Backing up a live SQLite installation and bringing a backup back.

A backup is a folder `casework-<UTC stamp>/` holding `casework.sqlite3`, `documents/` and
`manifest.json` (schema revision, rows per table, SHA-256 and size of every file, Casework's
version, when it was made). The database is copied first, with SQLite's online backup API,
inside one read transaction: in WAL mode (every Casework connection sets it) a reader blocks
no writer, and the open transaction pins one snapshot, so the copy proceeds in small steps
without restarting however much is written meanwhile. The documents are copied after, and only
those the copy references: a document's file is written before its row is committed and never
changed or removed, so every file the snapshot names is already on disk, and files of uploads
committed later are left out, as their rows are.

PostgreSQL is backed up with its own tools (pg_dump, pg_restore): see docs/backup.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path

from sqlalchemy.engine import make_url

from casework.errors import CaseworkError
from casework.models import Document

MANIFEST = "manifest.json"
DATABASE = "casework.sqlite3"
DOCUMENTS = "documents"
FORMAT = 1
PREFIX = "casework-"
POSTGRES_HELP = "docs/backup.md"
# Pages copied per step of the online backup (4 KiB each: 4 MiB a step).
STEP_PAGES = 1024
CHUNK_BYTES = 1024 * 1024

Progress = Callable[[int, int], None]  # (pages remaining, pages in all)


class BackupRefused(CaseworkError):
    """No backup was made; the message says why and what to do."""


class RestoreRefused(CaseworkError):
    """Nothing was restored or changed; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict
    # Documents the database names whose file is not in the documents folder (lost before the backup).
    missing_documents: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    database: Path
    documents: int
    revision: str | None
    at_head: bool
    # Where what was replaced now lies, if anything was.
    database_aside: Path | None = None
    documents_aside: Path | None = None


def casework_version() -> str:
    try:
        return metadata.version("casework")
    except metadata.PackageNotFoundError:
        return "unknown"


def sqlite_path(database_url: str, command: str) -> Path:
    """The SQLite file of `database_url`; PostgreSQL (or anything else) is refused with where to look."""
    url = make_url(database_url)
    refused = BackupRefused if command == "backup" else RestoreRefused
    if url.get_backend_name() == "postgresql":
        raise refused(f"casework {command} works on SQLite only: this installation uses PostgreSQL "
                      f"({url.render_as_string(hide_password=True)}); back it up and restore it with pg_dump and "
                      f"pg_restore as {POSTGRES_HELP} describes")
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise refused(f"casework {command} needs a SQLite database file, not {url.render_as_string(hide_password=True)}")
    return Path(url.database)


def stamp(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _copy_database(source: Path, target: Path, progress: Progress | None, step_pages: int) -> None:
    reader = sqlite3.connect(source, isolation_level=None, timeout=10)
    try:
        wal = reader.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # The snapshot: from this read on, what others commit is not seen, and the steps below copy
        # one consistent state. Outside WAL mode a reader would block writers: one step, then.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        copy = sqlite3.connect(target)
        try:
            reader.backup(copy, pages=step_pages if wal else -1,
                          progress=(lambda _status, remaining, total: progress(remaining, total)) if progress else None)
            # One self-contained file (the source's WAL flag came with its first page).
            copy.execute("PRAGMA journal_mode=DELETE").fetchone()
        finally:
            copy.close()
        reader.execute("COMMIT")
    finally:
        reader.close()
    _fsync(target)


def _check_integrity(connection: sqlite3.Connection) -> list[str]:
    rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    return [] if rows == ["ok"] else rows


def _revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _table_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def _referenced_documents(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    """(stored name, SHA-256 recorded at upload) of every document the database holds."""
    table = Document.__tablename__
    if not connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone():
        return []
    return list(connection.execute(f'SELECT stored_name, sha256 FROM "{table}" ORDER BY stored_name'))


def _entry(path: Path) -> dict:
    return {"sha256": _sha256(path), "bytes": path.stat().st_size}


def backup_sqlite(
    database: Path, documents_dir: Path, destination: Path, *, now: datetime,
    progress: Progress | None = None, step_pages: int = STEP_PAGES,
) -> BackupResult:
    """Copy the live database and the documents it references into `destination/casework-<stamp>/`.

    The folder appears under its final name only once complete (it is built as `.partial`).
    Raises BackupRefused when there is nothing to back up or the copy is damaged.
    """
    if not database.is_file():
        raise BackupRefused(f"there is no database at {database}: nothing to back up")
    destination = destination.resolve()
    destination.mkdir(parents=True, exist_ok=True)
    final = destination / f"{PREFIX}{stamp(now)}"
    if final.exists():
        raise BackupRefused(f"{final} already exists: wait a second and run casework backup again")
    partial = destination / f".{final.name}.partial"
    if partial.exists():
        shutil.rmtree(partial)  # a backup that died half-way
    partial.mkdir()
    try:
        copied = partial / DATABASE
        _copy_database(database, copied, progress, step_pages)
        connection = sqlite3.connect(f"{copied.as_uri()}?mode=ro", uri=True)
        try:
            problems = _check_integrity(connection)
            if problems:
                raise BackupRefused(f"the copy of {database} fails SQLite's integrity check "
                                    f"({'; '.join(problems[:5])}): the database itself may be damaged")
            revision = _revision(connection)
            counts = _table_counts(connection)
            referenced = _referenced_documents(connection)
        finally:
            connection.close()

        files = {DATABASE: _entry(copied)}
        (partial / DOCUMENTS).mkdir()
        missing: list[str] = []
        for stored_name, recorded_sha in referenced:
            source = documents_dir / stored_name
            if not source.is_file():
                missing.append(stored_name)
                continue
            target = partial / DOCUMENTS / stored_name
            shutil.copyfile(source, target)
            entry = _entry(target)
            if entry["sha256"] != recorded_sha:
                # Changed on disk since it was uploaded: kept, and named, so someone looks at it.
                entry["differs_from_upload"] = True
            files[f"{DOCUMENTS}/{stored_name}"] = entry
            _fsync(target)

        manifest = {
            "format": FORMAT,
            "casework_version": casework_version(),
            "created_at": now.isoformat(),
            "database": DATABASE,
            "schema_revision": revision,
            "tables": counts,
            "documents": len(referenced) - len(missing),
            "missing_documents": missing,
            "files": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _fsync(partial / MANIFEST)
        partial.rename(final)
        _fsync(destination)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupResult(final, manifest, missing)


# --- Restore ---------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    """The backup's manifest, checked for shape; RestoreRefused if absent or unreadable."""
    if not source.is_dir():
        raise RestoreRefused(f"{source} is not a folder made by casework backup")
    path = source / MANIFEST
    if not path.is_file():
        raise RestoreRefused(f"{source} has no {MANIFEST}: it is not a complete backup made by casework backup")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise RestoreRefused(f"{path} cannot be read ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise RestoreRefused(f"{path} is not a manifest this Casework knows (format {FORMAT} expected)")
    if DATABASE not in manifest["files"]:
        raise RestoreRefused(f"{path} names no database file")
    return manifest


def _safe_relative(name: str) -> bool:
    parts = Path(name).parts
    return bool(parts) and not Path(name).is_absolute() and ".." not in parts and (
        name == DATABASE or (len(parts) == 2 and parts[0] == DOCUMENTS))


def verify_backup(source: Path, known_revisions: Callable[[str], bool]) -> dict:
    """Every check restore makes before touching anything: the manifest, every file's size and
    SHA-256, SQLite's integrity check, and a schema revision this Casework knows."""
    source = source.resolve()
    manifest = read_manifest(source)
    for name, entry in sorted(manifest["files"].items()):
        if not _safe_relative(name) or not isinstance(entry, dict):
            raise RestoreRefused(f"the manifest names {name!r}, which is not a file of a backup")
        path = source / name
        if not path.is_file():
            raise RestoreRefused(f"{name} is missing from {source}")
        if path.stat().st_size != entry.get("bytes") or _sha256(path) != entry.get("sha256"):
            raise RestoreRefused(f"{name} does not match the manifest (size or SHA-256 differs): "
                                 "the backup was changed or damaged since it was made")
    connection = sqlite3.connect(f"{(source / DATABASE).as_uri()}?mode=ro", uri=True)
    try:
        problems = _check_integrity(connection)
        revision = _revision(connection)
    except sqlite3.DatabaseError as error:
        raise RestoreRefused(f"{DATABASE} is not a SQLite database ({error})") from None
    finally:
        connection.close()
    if problems:
        raise RestoreRefused(f"{DATABASE} fails SQLite's integrity check: {'; '.join(problems[:5])}")
    if revision != manifest.get("schema_revision"):
        raise RestoreRefused(f"the database is at schema revision {revision}, the manifest says "
                             f"{manifest.get('schema_revision')}")
    if revision is None or not known_revisions(revision):
        raise RestoreRefused(f"the backup's schema revision {revision} is unknown to this Casework "
                             f"({casework_version()}): it was made by a newer version; install that version to restore it")
    return manifest


def _in_use(database: Path) -> bool:
    """Another connection has the database open (a web process, the scheduler).

    Leaving WAL mode needs the only connection to the file: it fails at once when any other is
    open, even idle. It also folds the WAL into the file, so the file alone is the database.
    """
    connection = sqlite3.connect(database, timeout=0)
    try:
        connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        connection.close()


def restore_sqlite(
    source: Path, database: Path, documents_dir: Path, *, now: datetime, force: bool = False,
    known_revision: Callable[[str], bool], head: str | None,
) -> RestoreResult:
    """Bring the backup in `source` back as `database` and `documents_dir`, after `verify_backup`.

    An existing database is replaced only with `force`, and only while nobody uses it; it is kept
    aside as `<name>.before-restore-<stamp>`, the documents folder likewise.
    """
    manifest = verify_backup(source, known_revision)
    sidecars = [database.with_name(database.name + suffix) for suffix in ("-wal", "-shm", "-journal")]
    exists = database.exists()
    if exists and not force:
        raise RestoreRefused(f"{database} already exists: give --force to replace it "
                             f"(it is kept aside as {database.name}.before-restore-<time>)")
    if exists and _in_use(database):
        raise RestoreRefused(f"{database} is in use: stop the web processes and casework scheduler, then "
                             "run casework restore again")
    if not exists and any(path.exists() for path in sidecars):
        raise RestoreRefused(f"{database} is missing but its {sidecars[0].name} is there: a database was moved "
                             "or is being created; move those files away first")
    suffix = f".before-restore-{stamp(now)}"
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(source / DATABASE, incoming)
    _fsync(incoming)

    database_aside = documents_aside = None
    if exists:
        database_aside = database.with_name(database.name + suffix)
        database.rename(database_aside)
        for sidecar in sidecars:  # none after _in_use, unless a crash left one: never beside the new file
            if sidecar.exists():
                sidecar.rename(sidecar.with_name(database_aside.name + sidecar.name[len(database.name):]))
    incoming.rename(database)

    if documents_dir.exists() and any(documents_dir.iterdir()):
        documents_aside = documents_dir.with_name(documents_dir.name + suffix)
        documents_dir.rename(documents_aside)
    documents_dir.mkdir(parents=True, exist_ok=True)
    restored = 0
    for name in sorted(manifest["files"]):
        if name.startswith(f"{DOCUMENTS}/"):
            shutil.copyfile(source / name, documents_dir / Path(name).name)
            restored += 1
    revision = manifest["schema_revision"]
    return RestoreResult(database, restored, revision, revision == head, database_aside, documents_aside)
