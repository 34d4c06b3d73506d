"""Cover for an absence in the access scoping: the colleague sees the absent case manager's
pacts and people from the first to the last day (Rome local dates), not a minute outside, and
the access log says the view was made under cover. On both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casework.administration.covers import CoverInput, create_cover, end_cover
from casework.clock import Clock
from casework.models import AccessLogEntry, Beneficiary, Gender, PactMember, Programme, Role, User
from casework.pacts import operations as ops
from casework.security import (
    can_see_beneficiary,
    can_see_pact,
    covered_colleagues,
    log_access,
    visible_beneficiaries,
    visible_pacts,
)
from tests.conftest import ZONE
from tests.reminders.helpers import rome

START = rome(2026, 3, 2, 9)


@pytest.fixture
def absence(session, registry, world):
    """Giulia is away from Monday 9 to Friday 13 March 2026; Marco covers her. Giulia manages
    an ordinary and a restricted pact and sits on the équipe of a third manager's pact."""
    third = User(username="sara", full_name="Sara Neri", email="sara@example.org", password_hash="!",
                 role=Role.CASE_MANAGER, territory=world.manager.territory)
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=world.manager.territory,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True)
    anna = Beneficiary(first_name="Anna", last_name="Verdi", gender=Gender.FEMALE, comune=world.comune)
    luca = Beneficiary(first_name="Luca", last_name="Bassi", gender=Gender.MALE, comune=world.comune)
    session.add_all([third, restricted, anna, luca])
    session.flush()
    clock = Clock(START, ZONE)
    ordinary = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                             case_manager=world.manager, actor=world.manager, clock=clock)
    hidden = ops.open_pact(session, registry, beneficiary=anna, programme=restricted,
                           case_manager=world.manager, actor=world.manager, clock=clock)
    on_team = ops.open_pact(session, registry, beneficiary=luca, programme=world.programme,
                            case_manager=third, actor=third, clock=clock)
    session.add(PactMember(pact=on_team, user=world.manager, role="educatrice"))
    session.commit()
    cover = create_cover(session, world.supervisor, CoverInput(world.manager.id, world.colleague.id,
                                                                date(2026, 3, 9), date(2026, 3, 13), "ferie"),
                         clock=clock)
    session.commit()
    return cover, {"ordinary": ordinary, "restricted": hidden, "on_team": on_team}


@pytest.mark.parametrize(("when", "sees"), [
    (rome(2026, 3, 8, 23, 59), False),  # the day before, one minute to midnight in Rome
    (rome(2026, 3, 9, 0, 0), True),  # the first day, at midnight
    (rome(2026, 3, 13, 23, 59), True),  # the last day, one minute to midnight
    (rome(2026, 3, 14, 0, 0), False),  # the day after
])
def test_the_colleague_sees_the_absent_managers_pacts_and_people_only_between_the_dates(
    session, world, absence, when, sees,
):
    _, pacts = absence
    colleague = world.colleague
    for pact in pacts.values():
        assert can_see_pact(session, colleague, pact.id, now=when) is sees
        assert can_see_beneficiary(session, colleague, pact.beneficiary_id, now=when) is sees
    visible = {pact.id for pact in session.scalars(visible_pacts(colleague, when))}
    assert visible == ({pact.id for pact in pacts.values()} if sees else set())
    people = {person.id for person in session.scalars(visible_beneficiaries(colleague, when))}
    assert people == ({pact.beneficiary_id for pact in pacts.values()} if sees else set())
    # The absent manager and the supervisor see what they saw before; nobody else gains anything.
    assert can_see_pact(session, world.manager, pacts["restricted"].id, now=when)
    assert not can_see_pact(session, world.supervisor, pacts["restricted"].id, now=when)


def test_a_cover_ended_early_stops_at_once(session, world, absence):
    cover, pacts = absence
    end_cover(session, world.supervisor, cover.id, now=rome(2026, 3, 11, 12))
    session.commit()
    assert can_see_pact(session, world.colleague, pacts["ordinary"].id, now=rome(2026, 3, 11, 11, 59))
    assert not can_see_pact(session, world.colleague, pacts["ordinary"].id, now=rome(2026, 3, 11, 12, 1))


def test_only_the_named_colleague_gains_access(session, world, absence):
    _, pacts = absence
    bystander = User(username="luigi", full_name="Luigi", email="luigi@example.org", password_hash="!",
                     role=Role.CASE_MANAGER, territory=world.manager.territory)
    session.add(bystander)
    session.commit()
    assert not can_see_pact(session, bystander, pacts["ordinary"].id, now=rome(2026, 3, 10))
    # A deactivated colleague sees nothing, cover or not.
    world.colleague.active = False
    session.commit()
    assert not can_see_pact(session, world.colleague, pacts["ordinary"].id, now=rome(2026, 3, 10))


def test_every_access_under_cover_is_logged_as_such(session, world, absence):
    _, pacts = absence
    during = rome(2026, 3, 10, 10)
    pact = pacts["ordinary"]
    log_access(session, world.colleague, "view", "pact", pact.id, now=during, ip_address="10.0.0.7")
    log_access(session, world.colleague, "view", "beneficiary", pact.beneficiary_id, now=during, detail="scheda")
    log_access(session, world.manager, "view", "pact", pact.id, now=during)
    session.commit()
    entries = session.execute(
        select(User.username, AccessLogEntry.subject_type, AccessLogEntry.detail)
        .join(User, User.id == AccessLogEntry.user_id).order_by(AccessLogEntry.id)
    ).all()
    assert [tuple(entry) for entry in entries] == [
        ("marco", "pact", "cover for giulia"),
        ("marco", "beneficiary", "scheda cover for giulia"),
        ("giulia", "pact", ""),
    ]
    # Seen in their own right (on the équipe), the colleague's access is not "under cover".
    session.add(PactMember(pact=pact, user=world.colleague, role="educatore"))
    session.commit()
    assert covered_colleagues(session, world.colleague, subject_type="pact", subject_id=pact.id, now=during) == []
