"""The territory tree edited by an administrator: groups, ISTAT comuni, moves, holidays, removal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casework.administration import territories as core
from casework.errors import InvalidInput
from casework.models import (
    AdministrativeLogEntry,
    Organisation,
    OrganisationKind,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.reminders.calendars import working_calendars
from casework.reminders.workdays import WorkingCalendar
from tests.conftest import MONDAY_9AM


@pytest.fixture
def admin(session, world) -> User:
    user = User(username="admin", full_name="Admin", email="admin@example.org", password_hash="!",
                role=Role.ADMIN, territory=world.comune.parent)
    session.add(user)
    session.commit()
    return user


def _errors(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        call()
    return raised.value.errors


def _log(session, action=None):
    query = select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type == "territory")
    if action:
        query = query.where(AdministrativeLogEntry.action == action)
    return list(session.scalars(query.order_by(AdministrativeLogEntry.id)))


def test_an_administrator_builds_a_consortium_with_a_comune_from_the_istat_list(session, admin):
    consorzio = core.create_territory(session, admin, name="  Consorzio   Monviso Solidale ",
                                      kind="consorzio", parent_id=None, now=MONDAY_9AM, ip_address="192.0.2.1")
    saluzzo = core.add_comune(session, admin, istat_code="004203", parent_id=consorzio.id, now=MONDAY_9AM)
    session.commit()
    assert (consorzio.name, consorzio.kind, consorzio.parent_id) == (
        "Consorzio Monviso Solidale", TerritoryKind.CONSORZIO, None)
    assert (saluzzo.name, saluzzo.kind, saluzzo.istat_code, saluzzo.province, saluzzo.cadastral_code,
            saluzzo.parent_id) == ("Saluzzo", TerritoryKind.COMUNE, "004203", "CN", "H727", consorzio.id)
    [first, second] = _log(session, "create")
    assert (first.subject_label, first.ip_address, first.changes["kind"]) == (
        "Consorzio Monviso Solidale", "192.0.2.1", [None, "consorzio"])
    assert (second.subject_label, second.changes["istat_code"], second.changes["cadastral_code"]) == (
        "Saluzzo (CN)", [None, "004203"], [None, "H727"])


def test_bad_groups_and_comuni_are_refused_with_every_reason(session, world, admin):
    unione = world.comune.parent
    assert _errors(lambda: core.create_territory(session, admin, name="", kind="comune", parent_id=world.comune.id,
                                                 now=MONDAY_9AM)) == {
        "name": "required", "kind": "invalid_kind", "parent_id": "parent_is_comune"}
    assert _errors(lambda: core.create_territory(session, admin, name="x" * 121, kind="ambito", parent_id=999_999,
                                                 now=MONDAY_9AM)) == {"name": "too_long", "parent_id": "unknown_parent"}
    assert _errors(lambda: core.add_comune(session, admin, istat_code="123456", parent_id=None,
                                           now=MONDAY_9AM)) == {"istat_code": "unknown_istat_code",
                                                                "parent_id": "required"}
    # Settimo Torinese (001265) is in the tree already.
    assert _errors(lambda: core.add_comune(session, admin, istat_code="001265", parent_id=unione.id,
                                           now=MONDAY_9AM)) == {"istat_code": "duplicate_comune"}
    assert _log(session) == []


def test_only_an_active_administrator_edits_the_tree(session, world, admin):
    for user in (world.supervisor, world.manager):
        with pytest.raises(core.NotAllowed):
            core.create_territory(session, user, name="Ambito", kind="ambito", parent_id=None, now=MONDAY_9AM)
    admin.active = False
    with pytest.raises(core.NotAllowed):
        core.add_comune(session, admin, istat_code="001272", parent_id=world.comune.parent_id, now=MONDAY_9AM)


def test_rename_and_move_within_the_tree_but_never_below_itself(session, world, admin):
    unione = world.comune.parent
    ambito = core.create_territory(session, admin, name="Ambito Torino Nord", kind="ambito", parent_id=None,
                                   now=MONDAY_9AM)
    core.update_territory(session, admin, unione.id, name="Unione NET (Nord Est Torino)", parent_id=ambito.id,
                          now=MONDAY_9AM)
    session.commit()
    assert (unione.name, unione.parent_id) == ("Unione NET (Nord Est Torino)", ambito.id)
    [entry] = _log(session, "update")
    assert entry.changes == {"name": ["Unione NET", "Unione NET (Nord Est Torino)"],
                             "parent": [None, "Ambito Torino Nord"]}
    # The ambito inside the unione it contains: a cycle; inside itself: a cycle too.
    assert _errors(lambda: core.update_territory(session, admin, ambito.id, name="Ambito", parent_id=unione.id,
                                                 now=MONDAY_9AM)) == {"parent_id": "cycle"}
    assert _errors(lambda: core.update_territory(session, admin, ambito.id, name="Ambito", parent_id=ambito.id,
                                                 now=MONDAY_9AM)) == {"parent_id": "cycle"}
    # A comune always sits inside something, and never inside a comune.
    assert _errors(lambda: core.update_territory(session, admin, world.comune.id, name="Settimo", parent_id=None,
                                                 now=MONDAY_9AM)) == {"parent_id": "required"}
    session.rollback()
    assert session.get(Territory, ambito.id).parent_id is None
    assert [row.territory.name for row in core.parent_choices(session, session.get(Territory, ambito.id))] == []


def test_a_comune_carries_its_patron_day_and_closure_days(session, world, admin):
    assert working_calendars(session) == {}
    core.set_comune_holidays(session, admin, world.comune.id, patron_month=5, patron_day=23,
                             closure_days="02/11/2026\n2026-12-24, 02/11/2026", now=MONDAY_9AM)
    session.commit()
    assert (world.comune.patron_month, world.comune.patron_day) == (5, 23)
    assert [c.day for c in world.comune.closure_days] == [date(2026, 11, 2), date(2026, 12, 24)]
    # The session's copy of the calendars follows at once.
    assert working_calendars(session) == {
        world.comune.id: WorkingCalendar([date(2026, 11, 2), date(2026, 12, 24)], (5, 23))}
    [entry] = _log(session, "update")
    assert entry.changes == {"patron_day": [None, "23/05"], "closure_days": [None, "02/11/2026, 24/12/2026"]}

    core.set_comune_holidays(session, admin, world.comune.id, patron_month=None, patron_day=None,
                             closure_days="", now=MONDAY_9AM)
    session.commit()
    assert (world.comune.patron_month, world.comune.closure_days) == (None, [])
    assert working_calendars(session) == {}


@pytest.mark.parametrize("month,day,closures,errors", [
    (2, 30, "", {"patron_day": "impossible_day"}),
    (4, 31, "", {"patron_day": "impossible_day"}),
    (13, 1, "", {"patron_day": "impossible_day"}),
    (2, None, "", {"patron_day": "patron_incomplete"}),
    (None, None, "31/02/2026", {"closure_days": "invalid_closure_day"}),
    (None, None, "next monday", {"closure_days": "invalid_closure_day"}),
    (2, 30, "2026/11/02", {"patron_day": "impossible_day", "closure_days": "invalid_closure_day"}),
])
def test_impossible_holidays_are_refused(session, world, admin, month, day, closures, errors):
    assert _errors(lambda: core.set_comune_holidays(session, admin, world.comune.id, patron_month=month,
                                                    patron_day=day, closure_days=closures, now=MONDAY_9AM)) == errors


def test_29_february_is_a_possible_patron_day(session, world, admin):
    core.set_comune_holidays(session, admin, world.comune.id, patron_month=2, patron_day=29, closure_days="",
                             now=MONDAY_9AM)
    assert (world.comune.patron_month, world.comune.patron_day) == (2, 29)


def test_only_comuni_have_holidays_of_their_own(session, world, admin):
    assert _errors(lambda: core.set_comune_holidays(session, admin, world.comune.parent_id, patron_month=1,
                                                    patron_day=2, closure_days="", now=MONDAY_9AM)) == {
        "patron_day": "not_a_comune"}


def test_a_territory_in_use_cannot_be_removed_and_an_unused_one_can(session, world, admin):
    # The comune has a person; the unione has users, programmes and the comune inside it.
    for territory in (world.comune, world.comune.parent):
        assert _errors(lambda t=territory: core.delete_territory(session, admin, t.id, now=MONDAY_9AM)) == {
            "territory": "in_use"}
    empty = core.add_comune(session, admin, istat_code="001272", parent_id=world.comune.parent_id, now=MONDAY_9AM)
    session.add(Organisation(name="Coop Il Ponte", kind=OrganisationKind.COOPERATIVE, territory=empty))
    session.commit()
    assert core.territory_uses(session, empty.id).organisations == 1
    assert _errors(lambda: core.delete_territory(session, admin, empty.id, now=MONDAY_9AM)) == {"territory": "in_use"}
    session.rollback()
    session.delete(session.scalars(select(Organisation)).one())
    session.commit()
    assert core.delete_territory(session, admin, empty.id, now=MONDAY_9AM) == "Torino (TO)"
    session.commit()
    assert session.get(Territory, empty.id) is None
    [entry] = _log(session, "delete")
    assert entry.changes == {"name": ["Torino", None], "kind": ["comune", None], "istat_code": ["001272", None]}


def test_the_tree_lists_each_territory_after_its_parent_with_what_uses_it(session, world, admin):
    ambito = core.create_territory(session, admin, name="Ambito Torino Nord", kind="ambito", parent_id=None,
                                   now=MONDAY_9AM)
    core.update_territory(session, admin, world.comune.parent_id, name="Unione NET", parent_id=ambito.id,
                          now=MONDAY_9AM)
    session.commit()
    rows = core.territory_tree(session)
    assert [(row.territory.name, row.depth) for row in rows] == [
        ("Ambito Torino Nord", 0), ("Unione NET", 1), ("Settimo Torinese", 2)]
    assert (rows[1].users, rows[1].programmes, rows[2].people) == (4, 2, 1)


def test_a_comune_added_twice_at_the_same_moment_is_refused_not_a_crash(session_factory, session, world, admin):
    # Another administrator adds Torino between this one's duplicate check and its write.
    real = core._check_parent

    def check_parent_meanwhile(*args, **kwargs):
        with session_factory() as other:
            other.add(Territory(name="Torino", kind=TerritoryKind.COMUNE, istat_code="001272",
                                parent_id=world.comune.parent_id))
            other.commit()
        return real(*args, **kwargs)

    session.commit()  # this session starts its check afresh, as a new request would
    core._check_parent = check_parent_meanwhile
    try:
        assert _errors(lambda: core.add_comune(session, admin, istat_code="001272",
                                               parent_id=world.comune.parent_id, now=MONDAY_9AM)) == {
            "istat_code": "duplicate_comune"}
    finally:
        core._check_parent = real
    session.rollback()
    assert len(session.scalars(select(Territory).where(Territory.istat_code == "001272")).all()) == 1
