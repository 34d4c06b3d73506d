"""The beneficiary list's core, on both databases: stage and next deadline per person, each
filter, the scoping, and a fixed number of queries whatever the page holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from casework.models import Beneficiary, Gender, Pact, Programme, Role, Territory, TerritoryKind, User
from casework.pacts import operations as ops
from casework.people.listing import ListFilters, list_people, stage_key


@pytest.fixture
def town(session, registry, clock):
    area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    comune = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=area)

    def user(name: str, role: Role) -> User:
        return User(username=name, full_name=name, email=f"{name}@example.org", password_hash="!", role=role,
                    territory=area)

    staff = {"manager": user("manager", Role.CASE_MANAGER), "colleague": user("colleague", Role.CASE_MANAGER),
             "supervisor": user("supervisor", Role.SUPERVISOR)}
    tilde = Programme(code="TILDE", name="TILDE", funder="-", territory=area, starts_on=date(2025, 1, 1),
                      workflow_name="patto_personalizzato")
    chance = Programme(code="CHANCE", name="CHANCE", funder="-", territory=area, starts_on=date(2025, 1, 1),
                       workflow_name="chance_dispersione")
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=area,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True)
    session.add_all([area, comune, *staff.values(), tilde, chance, restricted])
    session.flush()

    def person(first: str, last: str, programme: Programme | None, manager: str = "manager", days: int | None = None):
        someone = Beneficiary(first_name=first, last_name=last, gender=Gender.FEMALE, comune=comune,
                              created_by_id=staff[manager].id)
        session.add(someone)
        session.flush()
        if programme is not None:
            pact = ops.open_pact(session, registry, beneficiary=someone, programme=programme,
                                 case_manager=staff[manager], actor=staff[manager], clock=clock)
            pact.next_deadline_at = None if days is None else clock.now + timedelta(days=days)
        return someone

    person("Anna", "Bruno", tilde, days=-3)  # late
    person("Bice", "Conti", tilde, days=2)  # due soon
    person("Carla", "Deiana", chance, days=30)  # on time
    person("Dora", "Esposito", None)  # registered, no pact yet
    person("Elsa", "Fabbri", restricted, manager="colleague", days=-1)
    session.commit()
    return staff, {"tilde": tilde, "chance": chance, "restricted": restricted}


def names(listed) -> list[str]:
    return [f"{item.beneficiary.last_name} {item.beneficiary.first_name}" for item in listed.items]


def run(session, registry, clock, user, **filters):
    return list_people(session, registry, user, ListFilters(**filters), now=clock.now, zone=clock.zone, locale="it")


def test_each_person_with_their_stage_and_next_deadline(session, registry, clock, town):
    staff, programmes = town
    listed = run(session, registry, clock, staff["manager"])
    assert names(listed) == ["Bruno Anna", "Conti Bice", "Deiana Carla", "Esposito Dora"]
    bruno, conti, deiana, esposito = listed.items
    assert [(line.programme, line.stage) for line in bruno.pacts] == [("TILDE", "Segnalazione")]
    assert bruno.next_deadline.deadline_state == "late"
    assert conti.next_deadline.deadline_state == "soon"
    assert deiana.next_deadline.deadline_state == "on_time" and deiana.pacts[0].programme == "CHANCE"
    assert esposito.pacts == [] and esposito.next_deadline is None


def test_the_filters(session, registry, clock, town):
    staff, programmes = town
    manager = staff["manager"]
    assert names(run(session, registry, clock, manager, deadline="late")) == ["Bruno Anna"]
    assert names(run(session, registry, clock, manager, deadline="soon")) == ["Conti Bice"]
    assert names(run(session, registry, clock, manager, programme_id=programmes["chance"].id)) == ["Deiana Carla"]
    assert names(run(session, registry, clock, manager, text="conti")) == ["Conti Bice"]
    assert names(run(session, registry, clock, manager, text="  ", deadline="nonsense")) == [
        "Bruno Anna", "Conti Bice", "Deiana Carla", "Esposito Dora"]
    # The text finds whom the header's search finds: names by their start, any word, any case.
    assert names(run(session, registry, clock, manager, text="CON")) == ["Conti Bice"]
    assert names(run(session, registry, clock, manager, text="b")) == ["Bruno Anna", "Conti Bice"]
    assert names(run(session, registry, clock, manager, text="carla deia")) == ["Deiana Carla"]
    assert names(run(session, registry, clock, manager, text="onti")) == []  # not inside a name
    assert names(run(session, registry, clock, manager, text="%_")) == []  # nothing to search by
    assert names(run(session, registry, clock, manager, text="Fabbri")) == []  # the colleague's restricted case
    listed = run(session, registry, clock, manager)
    groups = {group.workflow: [stage.key for stage in group.stages] for group in listed.stages}
    assert len(groups) == 2  # TILDE's and CHANCE's workflows, each named
    tilde_stage = stage_key("patto_personalizzato", "referral")
    assert tilde_stage in [key for keys in groups.values() for key in keys]
    assert names(run(session, registry, clock, manager, stage=tilde_stage)) == ["Bruno Anna", "Conti Bice"]
    assert names(run(session, registry, clock, manager, stage="no:such")) == []
    assert [name for _, name in listed.programmes] == ["CHANCE", "TILDE"]


def test_the_list_follows_the_scoping(session, registry, clock, town):
    staff, programmes = town
    # The restricted case is the colleague's alone: not the supervisor's, not in their filters.
    supervisor = run(session, registry, clock, staff["supervisor"])
    assert names(supervisor) == ["Bruno Anna", "Conti Bice", "Deiana Carla"]
    assert "Ricomincio da me" not in [name for _, name in supervisor.programmes]
    assert names(run(session, registry, clock, staff["supervisor"], programme_id=programmes["restricted"].id)) == []
    colleague = run(session, registry, clock, staff["colleague"])
    assert names(colleague) == ["Fabbri Elsa"]
    assert [name for _, name in colleague.programmes] == ["Ricomincio da me"]


@pytest.mark.parametrize("many", [2, 20])
def test_the_number_of_queries_is_fixed(session, engine, registry, clock, town, many):
    staff, programmes = town
    comune = session.get(Territory, programmes["tilde"].territory_id)
    for number in range(many):
        someone = Beneficiary(first_name=f"Gemma{number:02d}", last_name="Galli", gender=Gender.FEMALE,
                              comune=comune)
        session.add(someone)
        session.flush()
        ops.open_pact(session, registry, beneficiary=someone, programme=programmes["tilde"],
                      case_manager=staff["manager"], actor=staff["manager"], clock=clock)
    session.commit()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    session.expire_all()
    manager = session.get(User, staff["manager"].id)
    event.listen(engine, "before_cursor_execute", count)
    try:
        listed = run(session, registry, clock, manager, text="galli")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(listed.items) == min(many, 25)
    assert len(statements) == 5


def test_the_programme_filter_offers_the_programmes_of_open_pacts(session, registry, clock, town):
    staff, programmes = town
    manager = staff["manager"]
    offered = [name for _, name in run(session, registry, clock, manager).programmes]
    assert offered == ["CHANCE", "TILDE"]
    deiana = next(item for item in run(session, registry, clock, manager, text="deiana").items)
    pact = session.get(Pact, deiana.pacts[0].pact_id)
    pact.closed_at = clock.now
    session.commit()
    # CHANCE now has only a closed pact of theirs: choosing it would list nobody.
    assert [name for _, name in run(session, registry, clock, manager).programmes] == ["TILDE"]
