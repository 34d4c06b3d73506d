"""The scoping rules, role by role, on both databases: who sees which pact and which person."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casework.models import (
    Beneficiary,
    Gender,
    PactMember,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.security.access import (
    can_see_beneficiary,
    can_see_pact,
    visible_beneficiaries,
    visible_pacts,
)
from casework.supervision.reassignment import reassign_pacts


@pytest.fixture
def town(session, registry, clock):
    """Two areas; in the first, an ordinary and a restricted programme with one pact each."""
    area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    comune = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=area)
    elsewhere = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    lodi = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=elsewhere)

    def user(name: str, role: Role, territory: Territory, active: bool = True) -> User:
        return User(username=name, full_name=name, email=f"{name}@example.org", password_hash="!",
                    role=role, territory=territory, active=active)

    people = {
        "manager": user("manager", Role.CASE_MANAGER, area),
        "teammate": user("teammate", Role.CASE_MANAGER, area),
        "bystander": user("bystander", Role.CASE_MANAGER, area),
        "supervisor": user("supervisor", Role.SUPERVISOR, area),
        "comune_supervisor": user("comune_supervisor", Role.SUPERVISOR, comune),
        "lodi_supervisor": user("lodi_supervisor", Role.SUPERVISOR, elsewhere),
        "admin": user("admin", Role.ADMIN, area),
        "retired": user("retired", Role.CASE_MANAGER, area, active=False),
    }
    ordinary = Programme(code="TILDE", name="TILDE", funder="-", territory=area, starts_on=date(2025, 1, 1),
                         workflow_name="patto_personalizzato")
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=area,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True)
    maria = Beneficiary(first_name="Maria", last_name="Neri", gender=Gender.FEMALE, comune=comune)
    sara = Beneficiary(first_name="Sara", last_name="Verdi", gender=Gender.FEMALE, comune=comune)
    session.add_all([area, comune, elsewhere, lodi, *people.values(), ordinary, restricted, maria, sara])
    session.flush()
    ordinary_pact = ops.open_pact(session, registry, beneficiary=maria, programme=ordinary,
                                  case_manager=people["manager"], actor=people["manager"], clock=clock)
    restricted_pact = ops.open_pact(session, registry, beneficiary=sara, programme=restricted,
                                    case_manager=people["manager"], actor=people["manager"], clock=clock)
    session.add(PactMember(pact=ordinary_pact, user=people["teammate"], role="educatore"))
    session.commit()
    return people, ordinary_pact, restricted_pact


# who -> (sees the ordinary pact, sees the restricted pact)
EXPECTED = {
    "manager": (True, True),
    "teammate": (True, False),  # on the équipe of the ordinary pact only
    "bystander": (False, False),
    "supervisor": (True, False),  # restricted cases only for the people assigned
    "comune_supervisor": (True, False),  # the beneficiary lives in their comune
    "lodi_supervisor": (False, False),
    "admin": (False, False),
    "retired": (False, False),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_who_sees_which_pact(session, town, who):
    people, ordinary_pact, restricted_pact = town
    user = people[who]
    expected = EXPECTED[who]
    assert (can_see_pact(session, user, ordinary_pact.id), can_see_pact(session, user, restricted_pact.id)) == expected
    visible = set(session.scalars(visible_pacts(user)))
    assert visible == {p for p, seen in zip((ordinary_pact, restricted_pact), expected, strict=True) if seen}
    people_seen = {b.id for b in session.scalars(visible_beneficiaries(user))}
    assert people_seen == {p.beneficiary_id for p in visible}
    assert can_see_beneficiary(session, user, ordinary_pact.beneficiary_id) == expected[0]


def test_a_supervisor_on_the_equipe_of_a_restricted_case_sees_that_case_only(session, town, registry, clock):
    people, _, restricted_pact = town
    other = ops.open_pact(session, registry, beneficiary=restricted_pact.beneficiary,
                          programme=restricted_pact.programme, case_manager=people["manager"],
                          actor=people["manager"], clock=clock)
    session.add(PactMember(pact=restricted_pact, user=people["supervisor"], role="coordinamento"))
    session.commit()
    assert can_see_pact(session, people["supervisor"], restricted_pact.id)
    assert not can_see_pact(session, people["supervisor"], other.id)


def test_a_person_registered_without_a_pact_is_seen_by_who_registered_them(session, town):
    people, _, _ = town
    newcomer = Beneficiary(first_name="Ada", last_name="Bruno", gender=Gender.FEMALE,
                           created_by_id=people["bystander"].id)
    session.add(newcomer)
    session.commit()
    assert can_see_beneficiary(session, people["bystander"], newcomer.id)
    assert not can_see_beneficiary(session, people["manager"], newcomer.id)
    assert newcomer in session.scalars(visible_beneficiaries(people["bystander"])).all()
    assert session.scalar(select(Beneficiary).where(Beneficiary.id == newcomer.id)) is not None


def test_the_registrar_loses_the_person_when_the_pact_goes_to_a_colleague(session, town, registry, clock):
    people, ordinary_pact, _ = town
    registrar, colleague = people["bystander"], people["teammate"]
    newcomer = Beneficiary(first_name="Ada", last_name="Bruno", gender=Gender.FEMALE,
                           comune=ordinary_pact.beneficiary.comune, created_by_id=registrar.id)
    session.add(newcomer)
    session.commit()
    assert can_see_beneficiary(session, registrar, newcomer.id)

    pact = ops.open_pact(session, registry, beneficiary=newcomer, programme=ordinary_pact.programme,
                         case_manager=registrar, actor=registrar, clock=clock)
    session.commit()
    assert can_see_beneficiary(session, registrar, newcomer.id)  # now as the manager of the pact

    reassign_pacts(session, registry, people["supervisor"], {pact.id: pact.version}, colleague.id,
                   "Cambio di équipe", now=clock.now, zone=clock.zone)
    session.commit()
    assert not can_see_pact(session, registrar, pact.id)
    assert not can_see_beneficiary(session, registrar, newcomer.id)
    assert newcomer not in session.scalars(visible_beneficiaries(registrar)).all()
    assert can_see_beneficiary(session, colleague, newcomer.id)


def test_a_closed_pact_still_decides_who_sees_the_person(session, town, registry, clock):
    """Once any pact exists the registrar's own right ends, even when the pact is not theirs."""
    people, ordinary_pact, _ = town
    registrar = people["bystander"]
    newcomer = Beneficiary(first_name="Ada", last_name="Bruno", gender=Gender.FEMALE,
                           created_by_id=registrar.id)
    session.add(newcomer)
    session.flush()
    pact = ops.open_pact(session, registry, beneficiary=newcomer, programme=ordinary_pact.programme,
                         case_manager=people["manager"], actor=people["manager"], clock=clock)
    pact.closed_at = clock.now
    session.commit()
    assert not can_see_beneficiary(session, registrar, newcomer.id)
    assert can_see_beneficiary(session, people["manager"], newcomer.id)
