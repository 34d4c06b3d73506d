"""The administrative log: written in the caller's transaction, read with filters, never rewritten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from casework.models import AdministrativeLogEntry, AppendOnlyViolation, Role
from casework.security import AdminLogFilters, admin_log, changed_fields, record_admin_change
from tests.conftest import MONDAY_9AM


def test_changed_fields_lists_only_what_changed_as_text():
    before = {"role": Role.CASE_MANAGER, "email": "a@example.org", "active": True}
    after = {"role": Role.SUPERVISOR, "email": "a@example.org", "active": True, "territory_id": 3}
    assert changed_fields(before, after) == {"role": ["case_manager", "supervisor"], "territory_id": [None, "3"]}


def _write(session, world, **overrides):
    values = dict(actor=world.supervisor, action="update", subject_type="user", subject_id=world.manager.id,
                  subject_label="giulia", changes={"role": ["case_manager", "supervisor"]}, now=MONDAY_9AM,
                  ip_address="192.0.2.7")
    values.update(overrides)
    entry = record_admin_change(session, **values)
    session.commit()
    return entry


def test_an_entry_records_who_when_what_and_from_where(session, world):
    entry = _write(session, world)
    session.expire_all()
    stored = session.get(AdministrativeLogEntry, entry.id)
    assert (stored.at, stored.actor_id, stored.ip_address) == (MONDAY_9AM, world.supervisor.id, "192.0.2.7")
    assert (stored.action, stored.subject_type, stored.subject_id, stored.subject_label) == (
        "update", "user", world.manager.id, "giulia")
    assert stored.changes == {"role": ["case_manager", "supervisor"]}


def test_the_log_reads_newest_first_with_filters_and_pages(session, world):
    for day in range(3):
        _write(session, world, now=MONDAY_9AM + timedelta(days=day), subject_label=f"day {day}")
    _write(session, world, actor=world.colleague, subject_type="territory", subject_label="Volpiano",
           now=MONDAY_9AM + timedelta(days=3))
    every = admin_log(session, AdminLogFilters())
    assert every.total == 4
    assert [e.subject_label for e in every.entries] == ["Volpiano", "day 2", "day 1", "day 0"]
    users = admin_log(session, AdminLogFilters(subject_type="user", start=MONDAY_9AM + timedelta(days=1)))
    assert [e.subject_label for e in users.entries] == ["day 2", "day 1"]
    by_colleague = admin_log(session, AdminLogFilters(actor_id=world.colleague.id))
    assert [e.subject_label for e in by_colleague.entries] == ["Volpiano"]
    second = admin_log(session, AdminLogFilters(), page=2, per_page=3)
    assert (second.total, second.pages, len(second.entries)) == (4, 2, 1)


def test_entries_cannot_be_changed_or_deleted(session, world):
    entry = _write(session, world)
    entry.subject_label = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(session.get(AdministrativeLogEntry, entry.id))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    with pytest.raises((AppendOnlyViolation, IntegrityError)):
        session.execute(update(AdministrativeLogEntry).values(subject_label="rewritten"))
    session.rollback()


def test_the_database_itself_refuses_to_rewrite_the_log(session, world):
    _write(session, world)
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE administrative_log_entry SET subject_label = 'x'"))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM administrative_log_entry"))
    session.rollback()
    assert session.query(AdministrativeLogEntry).count() == 1
