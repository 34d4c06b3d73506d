"""The header search's core, on both databases: each key finds, scoping decides who is found,
bad text is refused with a code, and the number of queries does not grow with the results."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import event, select

from casework.errors import InvalidInput
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
from casework.models.beneficiary import name_key, phone_key
from casework.pacts import operations as ops
from casework.people import search as finder

NOW_LOCALE = "it"


@pytest.fixture
def town(session, registry, clock):
    """An ordinary and a restricted programme; people followed by different case managers."""
    area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    comune = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=area)
    elsewhere = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)

    def user(name: str, role: Role, territory: Territory = area) -> User:
        return User(username=name, full_name=name, email=f"{name}@example.org", password_hash="!",
                    role=role, territory=territory)

    staff = {
        "manager": user("manager", Role.CASE_MANAGER), "colleague": user("colleague", Role.CASE_MANAGER),
        "supervisor": user("supervisor", Role.SUPERVISOR), "admin": user("admin", Role.ADMIN),
        "lodi": user("lodi", Role.SUPERVISOR, elsewhere),
    }
    ordinary = Programme(code="TILDE", name="TILDE", funder="-", territory=area, starts_on=date(2025, 1, 1),
                         workflow_name="patto_personalizzato")
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=area,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True)
    people = {
        "maria": Beneficiary(first_name="Maria", last_name="D'Angelo", gender=Gender.FEMALE, comune=comune,
                             codice_fiscale="DNGMRA80A41L219X", phone="+39 333 123 4567"),
        "luca": Beneficiary(first_name="Luca", last_name="De Luca", gender=Gender.MALE, comune=comune,
                            phone="011 555 1234"),
        "sara": Beneficiary(first_name="Sara", last_name="Dellavalle", gender=Gender.FEMALE, comune=comune,
                            codice_fiscale="DLLSRA90B50L219Y", phone="333 987 6543"),
        "giorgio": Beneficiary(first_name="Giorgio", last_name="Gesù", gender=Gender.MALE, comune=comune),
    }
    session.add_all([area, comune, elsewhere, *staff.values(), ordinary, restricted, *people.values()])
    session.flush()

    def pact(person: str, programme: Programme, manager: str):
        return ops.open_pact(session, registry, beneficiary=people[person], programme=programme,
                             case_manager=staff[manager], actor=staff[manager], clock=clock)

    pacts = {
        "maria": pact("maria", ordinary, "manager"),
        "luca": pact("luca", ordinary, "colleague"),
        "sara": pact("sara", restricted, "colleague"),  # violence: only the assigned see her
        "giorgio": pact("giorgio", ordinary, "manager"),
    }
    session.commit()
    return staff, people, pacts


def found_names(session, registry, user, text, clock) -> list[str]:
    results = finder.search(session, registry, user, text, now=clock.now, locale=NOW_LOCALE)
    return [person.name for person in results.people]


@pytest.mark.parametrize(("text", "expected"), [
    ("d'angelo", ["D'Angelo Maria"]),  # apostrophe and case ignored
    ("DANGELO", ["D'Angelo Maria"]),
    ("mar", ["D'Angelo Maria"]),  # first name prefix
    ("maria d'ang", ["D'Angelo Maria"]),  # words in any order
    ("d'angelo maria", ["D'Angelo Maria"]),
    ("gesu", ["Gesù Giorgio"]),  # accents ignored
    ("  Gesù  ", ["Gesù Giorgio"]),
    ("dngmra80", ["D'Angelo Maria"]),  # codice fiscale prefix, any case
    ("DNGMRA80A41L219X", ["D'Angelo Maria"]),
    ("333 123", ["D'Angelo Maria"]),  # phone typed without the country code
    ("+393331234567", ["D'Angelo Maria"]),
    ("0115551", ["De Luca Luca"]),
    ("zzz", []),
])
def test_each_key_finds_the_person(session, registry, clock, town, text, expected):
    staff, _people, pacts = town
    session.add(PactMember(pact=pacts["luca"], user=staff["manager"], role="educatore"))
    session.commit()
    assert found_names(session, registry, staff["manager"], text, clock) == expected


def test_a_surname_of_two_words_is_found_typed_either_way(session, registry, clock, town):
    staff, _people, _pacts = town
    assert found_names(session, registry, staff["colleague"], "de luca", clock) == ["De Luca Luca"]
    assert found_names(session, registry, staff["colleague"], "deluca", clock) == ["De Luca Luca"]


def test_a_case_manager_finds_only_the_people_they_may_see(session, registry, clock, town):
    staff, _people, _pacts = town
    # "d" starts D'Angelo, De Luca and Dellavalle: Maria is the manager's, the others the colleague's.
    assert found_names(session, registry, staff["manager"], "de", clock) == []
    assert found_names(session, registry, staff["manager"], "dan", clock) == ["D'Angelo Maria"]
    assert found_names(session, registry, staff["colleague"], "de", clock) == ["De Luca Luca", "Dellavalle Sara"]
    assert found_names(session, registry, staff["manager"], "luca", clock) == []
    assert found_names(session, registry, staff["manager"], "0115551234", clock) == []


def test_a_restricted_person_is_never_suggested_to_someone_not_assigned(session, registry, clock, town):
    staff, _people, pacts = town
    for key in ("della", "sara", "DLLSRA90", "333 987", "3339876543"):
        assert found_names(session, registry, staff["supervisor"], key, clock) == [], key
        assert found_names(session, registry, staff["manager"], key, clock) == [], key
        assert found_names(session, registry, staff["colleague"], key, clock) == ["Dellavalle Sara"], key
    not_found = finder.search(session, registry, staff["supervisor"], str(pacts["sara"].id), now=clock.now,
                              locale=NOW_LOCALE)
    assert not_found.pacts == []
    # Put on the équipe, the supervisor is assigned and finds her.
    session.add(PactMember(pact=pacts["sara"], user=staff["supervisor"], role="coordinamento"))
    session.commit()
    assert found_names(session, registry, staff["supervisor"], "della", clock) == ["Dellavalle Sara"]


def test_roles(session, registry, clock, town):
    staff, _people, _pacts = town
    # The supervisor of the area sees every ordinary case; another territory's none; an administrator none.
    assert found_names(session, registry, staff["supervisor"], "de", clock) == ["De Luca Luca"]
    assert found_names(session, registry, staff["supervisor"], "gesu", clock) == ["Gesù Giorgio"]
    assert found_names(session, registry, staff["lodi"], "gesu", clock) == []
    assert found_names(session, registry, staff["admin"], "gesu", clock) == []


def test_a_pact_is_found_by_its_number(session, registry, clock, town):
    staff, _people, pacts = town
    number = pacts["maria"].id
    for text in (str(number), f"#{number}", f"n. {number}", f"patto {number}"):
        results = finder.search(session, registry, staff["manager"], text, now=clock.now, locale=NOW_LOCALE)
        assert [(pact.pact_id, pact.person, pact.programme) for pact in results.pacts] == [
            (number, "D'Angelo Maria", "TILDE")], text
        assert results.pacts[0].stage  # the stage's label in the reader's language
    other = finder.search(session, registry, staff["manager"], str(pacts["luca"].id), now=clock.now,
                          locale=NOW_LOCALE)
    assert other.pacts == []


@pytest.mark.parametrize(("text", "code"), [
    ("", "required"), ("   ", "required"), ("\t\n", "required"), ("a", "too_short"), ("'", "too_short"),
    (" x ", "too_short"), ("%%", "too_short"), ("__", "too_short"), ("a" * 101, "too_long"),
])
def test_bad_text_is_refused_with_a_code(session, registry, clock, town, text, code):
    staff, _people, _pacts = town
    with pytest.raises(InvalidInput) as refused:
        finder.search(session, registry, staff["manager"], text, now=clock.now, locale=NOW_LOCALE)
    assert refused.value.errors == {"q": code}


def test_odd_text_finds_nothing_and_fails_nothing(session, registry, clock, town):
    staff, _people, _pacts = town
    for text in ("50%", "a_b", "' OR 1=1 --", "日本語", "9" * 30):
        results = finder.search(session, registry, staff["manager"], text, now=clock.now, locale=NOW_LOCALE)
        assert results.people == [] and results.pacts == [], text


def test_suggestions_stop_at_the_limit_and_say_there_are_more(session, registry, clock, town):
    staff, people, pacts = town
    comune = people["maria"].comune
    for number in range(12):
        person = Beneficiary(first_name=f"Anna{number:02d}", last_name="Bianchi", gender=Gender.FEMALE,
                             comune=comune)
        session.add(person)
        session.flush()
        ops.open_pact(session, registry, beneficiary=person, programme=pacts["maria"].programme,
                      case_manager=staff["manager"], actor=staff["manager"], clock=clock)
    session.commit()
    results = finder.search(session, registry, staff["manager"], "bianchi", now=clock.now, locale=NOW_LOCALE)
    assert len(results.people) == finder.SUGGESTIONS and results.more
    assert [person.name for person in results.people][:2] == ["Bianchi Anna00", "Bianchi Anna01"]
    everything = finder.search(session, registry, staff["manager"], "bianchi", now=clock.now, locale=NOW_LOCALE,
                               limit=50)
    assert len(everything.people) == 12 and not everything.more


@pytest.mark.parametrize("many", [1, 15])
def test_the_number_of_queries_does_not_grow_with_the_results(session, engine, registry, clock, town, many):
    staff, people, pacts = town
    comune = people["maria"].comune
    for number in range(many):
        person = Beneficiary(first_name=f"Anna{number:02d}", last_name="Bianchi", gender=Gender.FEMALE,
                             comune=comune)
        session.add(person)
        session.flush()
        ops.open_pact(session, registry, beneficiary=person, programme=pacts["maria"].programme,
                      case_manager=staff["manager"], actor=staff["manager"], clock=clock)
    session.commit()
    manager = session.scalars(select(User).where(User.username == "manager")).one()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        finder.search(session, registry, manager, "bianchi", now=clock.now, locale=NOW_LOCALE)
        by_name = len(statements)
        finder.search(session, registry, manager, str(pacts["maria"].id), now=clock.now, locale=NOW_LOCALE)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert by_name == 1
    assert len(statements) == 3  # a number: the people query as before, and the pact


def test_the_keys_are_kept_on_every_change():
    person = Beneficiary(first_name="José", last_name="O'Neill Ruiz", gender=Gender.MALE, phone="0039 347-11.22 33")
    assert (person.first_name_key, person.last_name_key, person.phone_key) == ("jose", "oneillruiz", "347112233")
    person.last_name = "Àlvarez"
    person.phone = "+41 79 123 45 67"
    assert (person.last_name_key, person.phone_key) == ("alvarez", "41791234567")
    assert name_key("Straße") == "strasse" and phone_key("") == ""
