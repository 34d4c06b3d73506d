"""The core's checks of a person's record: every wrong field named at once, and the comune
limited to the user's territory (the record's own comune stays allowed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select

from casework.clock import Clock
from casework.errors import InvalidInput
from casework.models import Territory, TerritoryKind
from casework.people import beneficiaries as people
from tests.conftest import MONDAY_9AM, ZONE
from tests.people.test_beneficiaries import ANNA

CLOCK = Clock(MONDAY_9AM, ZONE)


@pytest.fixture
def elsewhere(session) -> Territory:
    area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    comune = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=area)
    session.add_all([area, comune])
    session.commit()
    return comune


def test_every_wrong_field_is_named_in_one_refusal(session, world):
    wrong = replace(ANNA, first_name="", birth_date=date(2100, 1, 1), codice_fiscale="RSSMRA85T10A562X",
                    email="anna@", phone="x", address="v" * 201)
    with pytest.raises(InvalidInput) as refused:
        people.create_beneficiary(session, world.manager, wrong, clock=CLOCK)
    assert refused.value.errors == {
        "first_name": "required", "birth_date": "in_future", "codice_fiscale": "invalid_checksum",
        "email": "invalid_email", "phone": "invalid_phone", "address": "too_long",
    }


def test_a_comune_outside_the_users_territory_is_refused(session, world, elsewhere):
    with pytest.raises(InvalidInput) as refused:
        people.create_beneficiary(session, world.manager, replace(ANNA, comune_id=elsewhere.id), clock=CLOCK)
    assert refused.value.errors == {"comune_id": "outside_territory"}
    assert people.person_problems(session, replace(ANNA, comune_id=elsewhere.id), today=date(2026, 3, 2),
                                  user=world.manager) == {"comune_id": "outside_territory"}
    anna = people.create_beneficiary(session, world.manager, replace(ANNA, comune_id=world.comune.id), clock=CLOCK)
    assert anna.comune_id == world.comune.id


def test_a_record_keeps_its_comune_outside_the_territory_but_cannot_move_there(session, world, elsewhere):
    maria = people.create_beneficiary(session, world.manager, replace(ANNA, first_name="Maria", last_name="Rossi",
                                                                     codice_fiscale=""), clock=CLOCK)
    other = Territory(name="Casalpusterlengo", kind=TerritoryKind.COMUNE, istat_code="098010",
                      parent_id=elsewhere.parent_id)
    session.add(other)
    maria.comune_id = elsewhere.id
    session.commit()
    kept = replace(ANNA, first_name="Maria", last_name="Rossi", codice_fiscale="", comune_id=elsewhere.id,
                   phone="011 1234567")
    [change] = people.update_beneficiary(session, world.manager, maria, kept, expected_version=maria.version,
                                         clock=CLOCK)
    assert change.field == "phone"
    with pytest.raises(InvalidInput) as refused:
        people.update_beneficiary(session, world.manager, maria, replace(kept, comune_id=other.id),
                                  expected_version=maria.version, clock=CLOCK)
    assert refused.value.errors == {"comune_id": "outside_territory"}


def test_the_comuni_offered_are_the_territorys_and_the_records_own(session, world, elsewhere):
    assert [c.name for c in people.comuni(session, world.manager)] == ["Settimo Torinese"]
    assert [c.name for c in people.comuni(session, world.manager, keep=elsewhere.id)] == ["Lodi", "Settimo Torinese"]
    assert session.scalar(select(Territory.id).where(Territory.name == "Lodi")) == elsewhere.id
