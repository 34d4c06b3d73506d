"""Naming and ending covers in the core: every rule refused with its code, nothing half-saved,
creations and ends in the administrative log. On both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casework.administration import covers as core
from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import (
    AbsenceCover,
    AdministrativeLogEntry,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from tests.conftest import ZONE
from tests.reminders.helpers import rome

CLOCK = Clock(rome(2026, 3, 2, 9), ZONE)


@pytest.fixture
def outsider(session):
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    user = User(username="pietro", full_name="Pietro", email="pietro@example.org", password_hash="!",
                role=Role.CASE_MANAGER, territory=lodi)
    session.add_all([lodi, user])
    session.commit()
    return user


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_supervisor_names_a_cover_and_ends_it(session, world):
    cover = core.create_cover(session, world.supervisor, core.CoverInput(
        world.manager.id, world.colleague.id, date(2026, 3, 9), date(2026, 3, 13), "  ferie  "), clock=CLOCK,
        ip_address="10.0.0.9")
    session.commit()
    assert (cover.reason, cover.starts_at, cover.ends_at) == (
        "ferie", rome(2026, 3, 9, 0, 0), rome(2026, 3, 14, 0, 0))
    assert core.status_of(cover, CLOCK.now) == "upcoming"
    assert core.status_of(cover, rome(2026, 3, 9, 0, 0)) == "active"
    assert [row.cover.id for row in core.list_covers(session, world.supervisor, now=CLOCK.now)] == [cover.id]
    assert core.covering_now(session, world.colleague, now=rome(2026, 3, 10)) == [
        core.CoveringNow("Giulia", date(2026, 3, 13))]
    assert core.covering_now(session, world.colleague, now=rome(2026, 3, 14)) == []

    core.end_cover(session, world.supervisor, cover.id, now=rome(2026, 3, 10, 12))
    session.commit()
    assert core.status_of(cover, rome(2026, 3, 10, 13)) == "ended"
    with pytest.raises(InvalidInput) as refused:
        core.end_cover(session, world.supervisor, cover.id, now=rome(2026, 3, 10, 13))
    assert refused.value.errors == {"cover": "already_ended"}
    entries = session.scalars(select(AdministrativeLogEntry).order_by(AdministrativeLogEntry.id)).all()
    assert [(entry.action, entry.subject_type, entry.subject_id) for entry in entries] == [
        ("create", "cover", cover.id), ("end", "cover", cover.id)]
    assert entries[0].changes["covering_user"] == [None, "marco"] and entries[0].ip_address == "10.0.0.9"


@pytest.mark.parametrize(("data", "errors"), [
    (core.CoverInput(None, None, None, None), {"absent_user_id": "required", "covering_user_id": "required",
                                               "starts_on": "required", "ends_on": "required"}),
    (core.CoverInput("manager", "manager", date(2026, 3, 9), date(2026, 3, 13)), {"covering_user_id": "same_person"}),
    (core.CoverInput("manager", "colleague", date(2026, 3, 13), date(2026, 3, 9)), {"ends_on": "ends_before_starts"}),
    (core.CoverInput("manager", "colleague", date(2026, 2, 1), date(2026, 3, 1)), {"ends_on": "in_past"}),
    (core.CoverInput("manager", "supervisor", date(2026, 3, 9), date(2026, 3, 13)),
     {"covering_user_id": "outside_territory"}),
    (core.CoverInput("outsider", "colleague", date(2026, 3, 9), date(2026, 3, 13)),
     {"absent_user_id": "outside_territory"}),
    (core.CoverInput("manager", "colleague", date(2026, 3, 9), date(2026, 3, 13), "x" * 301), {"reason": "too_long"}),
])
def test_bad_covers_are_refused(session, world, outsider, data, errors):
    people = {"manager": world.manager, "colleague": world.colleague, "supervisor": world.supervisor,
              "outsider": outsider}
    data = core.CoverInput(*(people[value].id if isinstance(value, str) and value in people else value
                             for value in (data.absent_user_id, data.covering_user_id, data.starts_on, data.ends_on,
                                           data.reason)))
    with pytest.raises(InvalidInput) as refused:
        core.create_cover(session, world.supervisor, data, clock=CLOCK)
    assert refused.value.errors == errors
    session.rollback()
    assert _count(session, AbsenceCover) == 0 and _count(session, AdministrativeLogEntry) == 0


def test_the_same_colleague_cannot_cover_the_same_days_twice(session, world):
    data = core.CoverInput(world.manager.id, world.colleague.id, date(2026, 3, 9), date(2026, 3, 13))
    core.create_cover(session, world.supervisor, data, clock=CLOCK)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        core.create_cover(session, world.supervisor, core.CoverInput(
            world.manager.id, world.colleague.id, date(2026, 3, 13), date(2026, 3, 20)), clock=CLOCK)
    assert refused.value.errors == {"covering_user_id": "already_covering"}
    # The days after are free.
    core.create_cover(session, world.supervisor, core.CoverInput(
        world.manager.id, world.colleague.id, date(2026, 3, 14), date(2026, 3, 20)), clock=CLOCK)


def test_only_a_supervisor_of_the_territory_manages_covers(session, world, outsider):
    data = core.CoverInput(world.manager.id, world.colleague.id, date(2026, 3, 9), date(2026, 3, 13))
    with pytest.raises(core.NotAllowed):
        core.create_cover(session, world.manager, data, clock=CLOCK)
    cover = core.create_cover(session, world.supervisor, data, clock=CLOCK)
    session.commit()
    lodi_supervisor = User(username="paolo", full_name="Paolo", email="paolo@example.org", password_hash="!",
                           role=Role.SUPERVISOR, territory=outsider.territory)
    session.add(lodi_supervisor)
    session.commit()
    assert core.get_cover(session, lodi_supervisor, cover.id) is None
    assert core.list_covers(session, lodi_supervisor, now=CLOCK.now) == []
    with pytest.raises(core.CoverNotFound):
        core.end_cover(session, lodi_supervisor, cover.id, now=CLOCK.now)
