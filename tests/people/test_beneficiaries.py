"""Registering people, correcting their record, household, duplicates and opening a pact."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from codicefiscale import codicefiscale
from sqlalchemy import select

from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import (
    AccessLogEntry,
    Beneficiary,
    ChangeRecord,
    Gender,
    Pact,
    Programme,
    Relation,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.people import beneficiaries as people
from casework.people.listing import ListFilters, list_people
from casework.security.access import can_see_beneficiary
from tests.conftest import MONDAY_9AM, ZONE


def code_for(last: str, first: str, born: str, gender: str = "F") -> str:
    return codicefiscale.encode(lastname=last, firstname=first, gender=gender, birthdate=born,
                                birthplace="Settimo Torinese")


ANNA = people.PersonDetails(
    first_name="Anna", last_name="Ferrero", gender=Gender.FEMALE, birth_date=date(1990, 5, 17),
    codice_fiscale=code_for("Ferrero", "Anna", "17/05/1990"),
)


def invalid(excinfo: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return excinfo.value.errors


def create(session, user, details=ANNA, **kwargs) -> Beneficiary:
    return people.create_beneficiary(session, user, details, clock=Clock(MONDAY_9AM, ZONE), **kwargs)


def test_the_creator_sees_a_new_person_before_any_pact(session, world, clock):
    typed = " ".join([ANNA.codice_fiscale[:6].lower(), ANNA.codice_fiscale[6:]])
    anna = create(session, world.manager, replace(ANNA, codice_fiscale=typed, comune_id=world.comune.id))
    session.commit()
    assert anna.created_by_id == world.manager.id
    assert anna.codice_fiscale == ANNA.codice_fiscale  # stored upper-case
    assert anna.comune == world.comune
    assert can_see_beneficiary(session, world.manager, anna.id)
    assert not can_see_beneficiary(session, world.colleague, anna.id)


def test_an_administrator_may_not_register_people(session, world, clock):
    admin = User(username="admin", full_name="Admin", email="a@example.org", password_hash="!",
                 role=Role.ADMIN, territory=world.comune.parent)
    session.add(admin)
    session.flush()
    with pytest.raises(people.NotAllowed):
        create(session, admin)


@pytest.mark.parametrize(("typed", "code"), [
    ("BNCMRA85D43I703X", "invalid_checksum"),
    ("BNCMRA85D43", "invalid_length"),
    ("BNCMRA85Z43I703I", "invalid_format"),
])
def test_a_wrong_codice_fiscale_is_refused(session, world, typed, code):
    with pytest.raises(InvalidInput) as refused:
        create(session, world.manager, replace(ANNA, codice_fiscale=typed, birth_date=None))
    assert invalid(refused) == {"codice_fiscale": code}


def test_the_codice_fiscale_must_match_birth_date_and_gender(session, world):
    with pytest.raises(InvalidInput) as refused:
        create(session, world.manager, replace(ANNA, birth_date=date(1990, 5, 18)))
    assert invalid(refused) == {"codice_fiscale": "birth_date_mismatch"}
    with pytest.raises(InvalidInput) as refused:
        create(session, world.manager, replace(ANNA, gender=Gender.MALE))
    assert invalid(refused) == {"codice_fiscale": "gender_mismatch"}


def test_codice_fiscale_edge_cases_are_accepted(session, world):
    # An omocode (digits replaced by letters), a gender the code cannot express, and the
    # century the two-digit year leaves open.
    omocode = codicefiscale.decode(ANNA.codice_fiscale)["omocodes"][1]
    assert create(session, world.manager, replace(ANNA, codice_fiscale=omocode)).codice_fiscale == omocode
    other = create(session, world.manager, replace(
        ANNA, first_name="Alex", gender=Gender.OTHER, codice_fiscale=code_for("Ferrero", "Alex", "01/02/1999", "M"),
        birth_date=date(1999, 2, 1)))
    assert other.gender == Gender.OTHER
    old = create(session, world.manager, replace(
        ANNA, first_name="Ada", codice_fiscale=code_for("Ferrero", "Ada", "01/02/1920"), birth_date=date(1920, 2, 1)))
    assert old.birth_date == date(1920, 2, 1)


def test_every_wrong_field_is_reported_at_once(session, world, clock):
    tomorrow = clock.now.date() + timedelta(days=1)
    unione = world.comune.parent
    with pytest.raises(InvalidInput) as refused:
        create(session, world.manager, people.PersonDetails(
            first_name="  ", last_name="x" * 101, gender=Gender.FEMALE, birth_date=tomorrow,
            email="not-an-address", phone="call me", comune_id=unione.id,
        ))
    assert invalid(refused) == {
        "first_name": "required", "last_name": "too_long", "birth_date": "in_future", "email": "invalid_email",
        "phone": "invalid_phone", "comune_id": "not_a_comune",
    }
    with pytest.raises(InvalidInput) as refused:
        create(session, world.manager, replace(ANNA, codice_fiscale="", birth_date=date(1899, 12, 31)))
    assert invalid(refused) == {"birth_date": "before_1900"}


def test_reasonable_contacts_are_accepted(session, world):
    anna = create(session, world.manager, replace(ANNA, phone="+39 011 800.12-34", email="anna@example.it"))
    assert (anna.phone, anna.email) == ("+39 011 800.12-34", "anna@example.it")


def test_a_registered_codice_fiscale_blocks_even_when_confirmed(session, world):
    anna = create(session, world.manager)
    session.commit()
    with pytest.raises(people.PossibleDuplicates) as found:
        create(session, world.manager, replace(ANNA, first_name="Annamaria"), confirm_duplicates=True)
    assert found.value.blocking
    assert found.value.duplicates == [people.PossibleDuplicate("codice_fiscale", anna.id, "Anna Ferrero")]


def test_same_name_and_birth_date_warns_until_confirmed(session, world):
    create(session, world.manager)
    session.commit()
    twin = replace(ANNA, first_name="ANNA", last_name="Ferrerò", codice_fiscale="")
    with pytest.raises(people.PossibleDuplicates) as found:
        create(session, world.manager, twin)
    assert not found.value.blocking
    assert [d.reason for d in found.value.duplicates] == ["name_and_birth_date"]
    assert create(session, world.manager, twin, confirm_duplicates=True).id is not None


def test_duplicates_the_user_may_not_see_are_reported_without_details(session, world):
    create(session, world.colleague)
    session.commit()
    with pytest.raises(people.PossibleDuplicates) as found:
        create(session, world.manager)
    assert found.value.duplicates == [people.PossibleDuplicate("codice_fiscale", None, None)]


def test_a_different_person_born_the_same_day_is_no_duplicate(session, world):
    create(session, world.manager)
    other = create(session, world.manager, replace(ANNA, first_name="Lucia", codice_fiscale=""))
    assert other.id is not None


def test_editing_records_each_changed_field(session, world, clock):
    anna = create(session, world.manager)
    session.commit()
    version = anna.version
    later = Clock(clock.now + timedelta(hours=1), ZONE)
    changes = people.update_beneficiary(
        session, world.manager, anna, replace(ANNA, phone="011 1234567", comune_id=world.comune.id),
        expected_version=version, clock=later)
    session.commit()
    assert {(c.field, c.old_value, c.new_value) for c in changes} == {
        ("phone", "", "011 1234567"), ("comune", "", "Settimo Torinese"),
    }
    assert anna.version == version + 1
    stored = session.scalars(select(ChangeRecord).where(ChangeRecord.entity_id == anna.id)).all()
    assert {record.actor_id for record in stored} == {world.manager.id}
    assert {record.at for record in stored} == {later.now}
    assert people.update_beneficiary(session, world.manager, anna, replace(ANNA, phone="011 1234567",
                                     comune_id=world.comune.id), expected_version=anna.version, clock=later) == []


def test_an_edit_of_a_stale_read_is_refused(session, world, clock):
    anna = create(session, world.manager)
    session.commit()
    people.update_beneficiary(session, world.manager, anna, replace(ANNA, phone="0111234567"),
                              expected_version=anna.version, clock=clock)
    session.commit()
    with pytest.raises(people.BeneficiaryConflict):
        people.update_beneficiary(session, world.manager, anna, replace(ANNA, phone="0119999999"),
                                  expected_version=anna.version - 1, clock=clock)
    assert anna.phone == "0111234567"


def test_a_concurrent_edit_is_detected_on_save(session_factory, world, clock):
    with session_factory() as first, session_factory() as second:
        anna = create(first, world.manager)
        first.commit()
        mine = first.get(Beneficiary, anna.id)
        theirs = second.get(Beneficiary, anna.id)
        manager = second.get(User, world.manager.id)
        people.update_beneficiary(second, manager, theirs, replace(ANNA, phone="0111111111"),
                                  expected_version=theirs.version, clock=clock)
        second.commit()
        with pytest.raises(people.BeneficiaryConflict):
            people.update_beneficiary(first, first.get(User, world.manager.id), mine,
                                      replace(ANNA, phone="0112222222"), expected_version=mine.version, clock=clock)
        first.rollback()
        assert first.get(Beneficiary, anna.id).phone == "0111111111"


def test_an_edit_may_not_take_anothers_codice_fiscale(session, world, clock):
    create(session, world.manager)
    lucia = create(session, world.manager, replace(ANNA, first_name="Lucia", codice_fiscale=""))
    with pytest.raises(InvalidInput) as refused:
        people.update_beneficiary(session, world.manager, lucia, replace(ANNA, first_name="Lucia"),
                                  expected_version=lucia.version, clock=clock)
    assert invalid(refused) == {"codice_fiscale": "already_registered"}


def test_household_members_are_added_and_removed_with_history(session, world, clock):
    anna = create(session, world.manager)
    session.commit()
    luca = people.add_household_member(
        session, world.manager, anna, people.HouseholdDetails("Luca", Relation.CHILD, birth_date=date(2015, 9, 1)),
        expected_version=anna.version, clock=clock)
    session.commit()
    assert [member.first_name for member in anna.household] == ["Luca"]
    assert anna.version == 2
    with pytest.raises(people.BeneficiaryConflict):
        people.remove_household_member(session, world.manager, anna, luca.id, expected_version=1, clock=clock)
    with pytest.raises(InvalidInput) as refused:
        people.add_household_member(session, world.manager, anna, people.HouseholdDetails(" ", Relation.PARENT,
                                    birth_date=date(1850, 1, 1)), expected_version=anna.version, clock=clock)
    assert invalid(refused) == {"first_name": "required", "birth_date": "before_1900"}
    people.remove_household_member(session, world.manager, anna, luca.id, expected_version=anna.version, clock=clock)
    session.commit()
    assert anna.household == []
    history = session.scalars(select(ChangeRecord).where(ChangeRecord.entity_id == anna.id)
                              .order_by(ChangeRecord.id)).all()
    assert [(r.field, r.old_value, r.new_value) for r in history] == [
        ("household", "", "Luca (child, 2015-09-01)"), ("household", "Luca (child, 2015-09-01)", ""),
    ]


def test_opening_a_pact_makes_the_user_its_case_manager(session, world, registry, clock):
    anna = create(session, world.manager)
    pact = people.open_pact_for(session, registry, world.manager, anna, world.programme, clock)
    session.commit()
    assert (pact.case_manager_id, pact.beneficiary_id, pact.programme_id) == (world.manager.id, anna.id,
                                                                               world.programme.id)
    with pytest.raises(InvalidInput) as refused:
        people.open_pact_for(session, registry, world.manager, anna, world.programme, clock)
    assert invalid(refused) == {"programme_id": "already_open"}


def test_pacts_open_only_in_running_programmes_of_the_users_territory(session, world, registry, clock):
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    elsewhere = Programme(code="LODI", name="Lodi", funder="—", territory=lodi, starts_on=date(2025, 1, 1),
                          workflow_name="patto_personalizzato")
    ended = Programme(code="OLD", name="Old", funder="—", territory=world.programme.territory,
                      starts_on=date(2020, 1, 1), ends_on=date(2021, 1, 1), workflow_name="patto_personalizzato")
    session.add_all([lodi, elsewhere, ended])
    anna = create(session, world.manager)
    offered = people.programmes_open_to(session, world.manager, clock=clock)
    assert {programme.code for programme in offered} == {"TILDE", "CHANCE"}
    for programme in (elsewhere, ended):
        with pytest.raises(InvalidInput) as refused:
            people.open_pact_for(session, registry, world.manager, anna, programme, clock)
        assert invalid(refused) == {"programme_id": "not_allowed"}
    assert session.scalar(select(Pact).where(Pact.beneficiary_id == anna.id)) is None


def test_nobody_changes_a_person_they_may_not_see(session, world, registry, clock):
    with pytest.raises(people.NotAllowed):
        people.open_pact_for(session, registry, world.colleague, world.beneficiary, world.programme, clock)
    with pytest.raises(people.NotAllowed):
        people.update_beneficiary(session, world.colleague, world.beneficiary, ANNA,
                                  expected_version=world.beneficiary.version, clock=clock)
    with pytest.raises(people.NotAllowed):
        people.add_household_member(session, world.colleague, world.beneficiary,
                                    people.HouseholdDetails("Luca", Relation.CHILD),
                                    expected_version=world.beneficiary.version, clock=clock)


def test_the_list_is_scoped_searchable_and_paginated(session, world, registry, clock):
    for number in range(30):
        create(session, world.manager, people.PersonDetails(
            first_name=f"Persona{number:02d}", last_name="Gallo", gender=Gender.MALE))
    create(session, world.colleague, replace(ANNA, codice_fiscale=""))
    session.commit()

    def listed(user, text: str = "", page: int = 1):
        return list_people(session, registry, user, ListFilters(text=text), now=clock.now, zone=clock.zone, locale="it",
                           page=page, per_page=25)

    first = listed(world.manager)
    assert (first.total, first.pages, len(first.items)) == (30, 2, 25)
    second = listed(world.manager, page=9)
    assert (second.page, len(second.items)) == (2, 5)
    assert [b.beneficiary.first_name for b in listed(world.manager, "gallo persona07").items] == ["Persona07"]
    assert listed(world.manager, "Ferrero").total == 0
    assert listed(world.colleague, "Ferrero").total == 1


def test_the_record_logs_the_access_and_lists_visible_pacts(session, world, registry, clock):
    anna = create(session, world.manager)
    people.open_pact_for(session, registry, world.manager, anna, world.programme, clock)
    session.commit()
    record = people.beneficiary_record(session, registry, world.manager, anna.id, clock=clock, locale="it",
                                       ip_address="10.0.0.1")
    session.commit()
    assert record is not None and record.beneficiary.id == anna.id
    [summary] = record.pacts
    assert (summary.programme, summary.stage, summary.is_open) == ("TILDE", "Segnalazione", True)
    assert summary.next_deadline and summary.next_deadline_at is not None
    assert people.beneficiary_record(session, registry, world.colleague, anna.id, clock=clock, locale="it") is None
    [entry] = session.scalars(select(AccessLogEntry)).all()
    assert (entry.user_id, entry.action, entry.subject_type, entry.subject_id, entry.ip_address) == (
        world.manager.id, "view", "beneficiary", anna.id, "10.0.0.1")


def test_the_history_says_who_created_and_who_changed(session, world, clock):
    anna = create(session, world.manager)
    session.commit()
    people.update_beneficiary(session, world.manager, anna, replace(ANNA, address="Via Roma 1"),
                              expected_version=anna.version, clock=clock)
    session.commit()
    history = people.beneficiary_history(session, world.manager, anna.id, now=clock.now)
    assert history is not None
    assert history.created_by == world.manager.full_name
    assert [(c.actor, c.field, c.old_value, c.new_value) for c in history.changes] == [
        (world.manager.full_name, "address", "", "Via Roma 1")]
    assert people.beneficiary_history(session, world.colleague, anna.id, now=clock.now) is None


def test_a_supervisor_edits_people_of_their_territory(session, world, registry, clock):
    anna = create(session, world.manager)
    people.open_pact_for(session, registry, world.manager, anna, world.programme, clock)
    session.commit()
    [change] = people.update_beneficiary(session, world.supervisor, anna, replace(ANNA, address="Via Roma 1"),
                                         expected_version=anna.version, clock=clock)
    assert change.actor_id == world.supervisor.id
