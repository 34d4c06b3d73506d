"""The integrity chain of the access log and of the administrative log.

Why sealing, not chaining at insert: an access-log entry is written on every view of a
person's record, by many web workers at once. Chaining at insert time would need the previous
entry's hash, so every such transaction would hold a lock on one hot row until it commits
(throughput, and deadlocks with the data_version row taken at commit). So entries are inserted
as before, without a lock, and `seal` later gives each unsealed entry, once, a position and
`chain_hash = sha256(previous chain_hash + canonical serialisation of the entry)`. The
database triggers allow exactly that one update (both columns from NULL to a value, every
other column unchanged) and refuse every other update and every delete.

Order: the chain follows `chain_position` (1, 2, 3, ... with no gap), given in the order the
entries are sealed, which is id order among the entries committed at that moment. Ids alone
cannot be the order: on PostgreSQL an entry with a lower id may commit after one with a higher
id, and ids have gaps after rollbacks.

Only one sealer writes at a time: on PostgreSQL a transaction-scoped advisory lock; on SQLite
the first statement of the sealing transaction writes, which takes the database's write lock
for the whole transaction. The web workers' inserts never take either.

What `verify` proves: no sealed entry was changed, deleted, reordered or inserted in the middle
since it was sealed (its own hash, or the next one's, no longer matches, or a position is
missing). What it does not prove: someone with database superuser rights can drop the triggers
and rewrite the whole chain from the first changed entry onwards, consistently. Against that,
`verify` prints the head (the last position and its hash): the operator keeps it outside the
database (printed, mailed to the data-protection officer, in another system) and a later head
must extend it: a chain rewritten before that point no longer reproduces the kept hash.
Entries not yet sealed are reported as a count, not as a break: they are the ones written since
the last sealing run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.orm import Session

from casework.models import AccessLogEntry, AdministrativeLogEntry

LOGS: dict[str, type[AccessLogEntry] | type[AdministrativeLogEntry]] = {
    "access_log_entry": AccessLogEntry,
    "administrative_log_entry": AdministrativeLogEntry,
}
CHAIN_COLUMNS = frozenset({"chain_position", "chain_hash"})
GENESIS = "0" * 64
# Arbitrary constant for pg_advisory_xact_lock: "audit" sealing.
_ADVISORY_LOCK_KEY = 0x61756469
_BATCH = 1000


def canonical(table: Table, row: Any) -> bytes:
    """The entry's fields (all but the chain's own), in a fixed form: sorted keys, UTC times."""
    fields: dict[str, Any] = {"table": table.name}
    for column in table.columns:
        if column.name in CHAIN_COLUMNS:
            continue
        value = getattr(row, column.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        fields[column.name] = value
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link(previous_hash: str, table: Table, row: Any) -> str:
    return hashlib.sha256(previous_hash.encode() + canonical(table, row)).hexdigest()


def _take_sealing_lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
    else:
        # A write as first statement: SQLite holds its write lock until this transaction ends.
        session.execute(text("UPDATE access_log_entry SET id = id WHERE 0"))


def seal(session: Session) -> dict[str, int]:
    """Seal every entry committed and not yet sealed, in id order; commits. Returns how many per log."""
    _take_sealing_lock(session)
    sealed: dict[str, int] = {}
    for name, model in LOGS.items():
        table = model.__table__
        head = session.execute(
            select(table.c.chain_position, table.c.chain_hash)
            .where(table.c.chain_position.is_not(None))
            .order_by(table.c.chain_position.desc()).limit(1)
        ).first()
        position, previous = (head.chain_position, head.chain_hash) if head else (0, GENESIS)
        rows = session.execute(select(table).where(table.c.chain_position.is_(None)).order_by(table.c.id)).all()
        for row in rows:
            position += 1
            previous = link(previous, table, row)
            # Core, not the ORM: the ORM refuses every update of an append-only model.
            session.connection().execute(
                update(table).where(table.c.id == row.id, table.c.chain_hash.is_(None))
                .values(chain_position=position, chain_hash=previous)
            )
        sealed[name] = len(rows)
    session.commit()
    return sealed


@dataclass(frozen=True)
class ChainReport:
    log: str
    sealed: int
    unsealed: int
    head_position: int
    head_hash: str
    # The first entry where the chain breaks (its id, or None when a position is missing), and why.
    broken_at_id: int | None = None
    broken_at_position: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return not self.reason


def _sealed_rows(session: Session, table: Table) -> Iterator[Any]:
    # Paged by position, so verifying a log of millions of entries keeps memory flat.
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.chain_position > last).order_by(table.c.chain_position).limit(_BATCH)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].chain_position


def verify_log(session: Session, name: str) -> ChainReport:
    table = LOGS[name].__table__
    unsealed = session.execute(
        select(func.count()).select_from(table).where(table.c.chain_position.is_(None))
    ).scalar_one()
    previous, expected = GENESIS, 1
    for row in _sealed_rows(session, table):
        if row.chain_position != expected:
            return ChainReport(name, expected - 1, unsealed, expected - 1, previous, None, expected,
                               f"entry at position {expected} is missing (next is {row.chain_position}, id {row.id})")
        recomputed = link(previous, table, row)
        if recomputed != row.chain_hash:
            return ChainReport(name, expected - 1, unsealed, expected - 1, previous, row.id, expected,
                               f"entry id {row.id} at position {expected} does not match its hash")
        previous, expected = row.chain_hash, expected + 1
    return ChainReport(name, expected - 1, unsealed, expected - 1, previous)


def verify(session: Session) -> list[ChainReport]:
    return [verify_log(session, name) for name in LOGS]
