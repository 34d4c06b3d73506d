"""The freeze of a restricted record (GDPR art. 18): while a person's processing is restricted,
nothing about them or their pacts is written, whichever form, command or job tries.

One place catches every write through the ORM: at the end of each flush, the rows it inserted,
changed or deleted are traced to the people they are about (the row of the person themselves,
or any row with a reference to the person or to a pact, read from the schema: a table added
tomorrow is covered without anyone remembering it), and one query looks for an open restriction
among them; if there is one, the flush raises RecordRestricted and its transaction is rolled
back: nothing is written. After the writes, not before: on SQLite a read that opens a
transaction's snapshot before its first write makes that write fail as soon as another writer
commits in between (SQLITE_BUSY_SNAPSHOT, no waiting), and the write lock the flush holds makes
the look at the restrictions current. Statements that bypass the ORM call `refuse_if_restricted`
themselves (the workflow's move of a pact, casework.pacts.operations.transition_pact; an erasure
refuses a restricted person before it starts).

Left writable: the logs (reading a restricted record is logged), the staff's notifications and
mail, and the deadline bookkeeping the system keeps on its own (casework.reminders parks the
reminders of a restricted pact instead: see the sweep). And what the person asks for that
processes less, written inside `asked_by_the_person` (the withdrawal of a consent: a
restriction must not keep their data going to an organisation they no longer agree to).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

from sqlalchemy import event, exists, inspect, or_, select
from sqlalchemy.orm import Session

from casework.errors import RecordRestricted
from casework.models import BeneficiaryRestriction, Pact, User

# Rows that say nothing new about the person: who read what, the staff's messages, and the
# bookkeeping the system redoes on its own. The restriction's own rows, of course.
UNFROZEN_TABLES = frozenset({
    "access_log_entry", "administrative_log_entry", "notification", "outbound_email", "reminder",
    "deadline_refresh", "pact_deadline", "beneficiary_restriction", "data_version", "scheduler_lock",
})
# A pact's columns the deadline bookkeeping rewrites when a calendar or a rule changes.
UNFROZEN_PACT_COLUMNS = frozenset({"next_deadline_at", "next_deadline_label"})


def restricted_pact(pact_id: Any) -> Any:
    """The WHERE condition, on a column of pact ids, that the pact's person has their processing
    restricted now: their reminders and digests wait (parked, they go out once it is lifted)."""
    return exists().where(Pact.id == pact_id, BeneficiaryRestriction.beneficiary_id == Pact.beneficiary_id,
                          BeneficiaryRestriction.lifted_at.is_(None))


def open_restriction_of(session: Session, *, beneficiary_ids: Iterable[int] = (),
                        pact_ids: Iterable[int] = ()) -> RecordRestricted | None:
    """The refusal to raise if one of these people, or the person of one of these pacts, has an
    open restriction; None otherwise (or when given nobody: no query then)."""
    beneficiary_ids, pact_ids = set(beneficiary_ids) - {None}, set(pact_ids) - {None}
    if not beneficiary_ids and not pact_ids:
        return None
    people = []
    if beneficiary_ids:
        people.append(BeneficiaryRestriction.beneficiary_id.in_(beneficiary_ids))
    if pact_ids:
        people.append(BeneficiaryRestriction.beneficiary_id.in_(
            select(Pact.beneficiary_id).where(Pact.id.in_(pact_ids)).scalar_subquery()))
    with session.no_autoflush:
        row = session.execute(
            select(BeneficiaryRestriction.beneficiary_id, BeneficiaryRestriction.restricted_at,
                   BeneficiaryRestriction.reason, User.full_name)
            .join(User, User.id == BeneficiaryRestriction.restricted_by_id)
            .where(BeneficiaryRestriction.lifted_at.is_(None), or_(*people))
            .order_by(BeneficiaryRestriction.beneficiary_id).limit(1)
        ).one_or_none()
    if row is None:
        return None
    return RecordRestricted(row.beneficiary_id, restricted_by=row.full_name, restricted_at=row.restricted_at,
                            reason=row.reason)


def refuse_if_restricted(session: Session, *, beneficiary_ids: Iterable[int] = (), pact_ids: Iterable[int] = ()) -> None:
    """Raise RecordRestricted if a write about these people or pacts would touch a frozen record."""
    refusal = open_restriction_of(session, beneficiary_ids=beneficiary_ids, pact_ids=pact_ids)
    if refusal is not None:
        raise refusal


def _identity(target: Any) -> int | None:
    state = inspect(target)
    return state.identity[0] if state.identity else None


def _referenced(state: Any, table_name: str) -> Iterator[Any]:
    """The ids (or the objects) a row refers to in `table_name`, now and before the change:
    moving a row away from a frozen record is a write to it too."""
    mapper = state.mapper
    for column in mapper.local_table.columns:
        if any(key.column.table.name == table_name for key in column.foreign_keys):
            key = mapper.get_property_by_column(column).key
            yield state.dict.get(key)
            yield state.committed_state.get(key)
    for relationship in mapper.relationships:
        if relationship.direction.name == "MANYTOONE" and relationship.mapper.local_table.name == table_name:
            yield state.dict.get(relationship.key)
            yield state.committed_state.get(relationship.key)


def _add(value: Any, into: set[int]) -> None:
    if isinstance(value, int):
        into.add(value)
    elif hasattr(value, "_sa_instance_state"):
        identity = _identity(value)
        if identity is not None:
            into.add(identity)


def _add_references(state: Any, beneficiary_ids: set[int], pact_ids: set[int]) -> None:
    for value in _referenced(state, "beneficiary"):
        _add(value, beneficiary_ids)
    for value in _referenced(state, "pact"):
        if isinstance(value, Pact) and inspect(value).identity is None:
            _add_references(inspect(value), beneficiary_ids, pact_ids)  # a new pact: whose it is
        else:
            _add(value, pact_ids)


def _touched(session: Session) -> tuple[set[int], set[int]]:
    """(people, pacts) the pending changes of `session` write about."""
    beneficiary_ids: set[int] = set()
    pact_ids: set[int] = set()
    dirty = (target for target in session.dirty if session.is_modified(target, include_collections=False))
    for target in chain(session.new, dirty, session.deleted):
        state = inspect(target)
        table_name = state.mapper.local_table.name
        if table_name in UNFROZEN_TABLES:
            continue
        if table_name == "beneficiary":
            _add(target, beneficiary_ids)
            continue
        if table_name == "pact":
            changed = {attribute.key for attribute in state.attrs if attribute.history.has_changes()}
            if state.persistent and changed and changed <= UNFROZEN_PACT_COLUMNS:
                continue
            _add(target, pact_ids)
        _add_references(state, beneficiary_ids, pact_ids)
    return beneficiary_ids, pact_ids


_ASKED_BY_THE_PERSON = "casework.asked_by_the_person"


@contextmanager
def asked_by_the_person(session: Session) -> Iterator[None]:
    """Let through the writes made inside (and flushed before leaving): they carry out a request
    of the person that reduces what is done with their data, which a restriction must not stop."""
    session.info[_ASKED_BY_THE_PERSON] = session.info.get(_ASKED_BY_THE_PERSON, 0) + 1
    try:
        yield
        session.flush()
    finally:
        session.info[_ASKED_BY_THE_PERSON] -= 1


def _refuse_frozen_writes(session: Session, _context: Any) -> None:
    if session.info.get(_ASKED_BY_THE_PERSON):
        return
    # after_flush: new, dirty, deleted and the attributes' history still show what was flushed.
    beneficiary_ids, pact_ids = _touched(session)
    refuse_if_restricted(session, beneficiary_ids=beneficiary_ids, pact_ids=pact_ids)


def install_record_freeze() -> None:
    """Refuse, in every session, the flushes that write about a restricted person (idempotent;
    casework.security installs it on import)."""
    if not event.contains(Session, "after_flush", _refuse_frozen_writes):
        event.listen(Session, "after_flush", _refuse_frozen_writes)


__all__ = ["asked_by_the_person", "install_record_freeze", "open_restriction_of", "refuse_if_restricted", "restricted_pact"]
