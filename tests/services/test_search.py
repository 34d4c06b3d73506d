"""Searching the directory: words (stems, accents), every filter, their combinations, pages,
"open now" in Rome's time; on both databases, with a fixed number of queries."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from casework.models import ServiceCost
from casework.services import ServiceQuery, get_service, is_open, opening_table, search_services
from tests.conftest import ZONE
from tests.services.search_support import build_places, make_service

# Monday 2 March 2026, 10:30 in Rome (09:30 UTC).
MONDAY_1030 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
MORNINGS = [{"day": day, "opens": "09:00", "closes": "12:30"} for day in range(5)]
AFTERNOONS = [{"day": 0, "opens": "14:00", "closes": "18:00"}, {"day": 2, "opens": "14:00", "closes": "18:00"}]


@pytest.fixture
def directory(session):
    places = build_places(session)
    make_service(session, places, "Ludoteca Il Girasole", "ludoteca", ["settimo"], opening_hours=MORNINGS,
                 description="Giochi e laboratori per bambini", languages=("it", "fr"))
    make_service(session, places, "Ludoteca Arcobaleno", "ludoteca", ["volpiano"], opening_hours=AFTERNOONS,
                 capacity=10, places_available=0, cost=ServiceCost.PAID)
    make_service(session, places, "Mediazione per famiglie", "mediazione_culturale", ["settimo", "volpiano"],
                 organisation="comune", languages=("ar", "it"), opening_hours=MORNINGS)
    make_service(session, places, "Doposcuola San Giuseppe", "doposcuola", ["leini"], capacity=20,
                 places_available=4, cost=ServiceCost.DISCOUNTED)
    make_service(session, places, "Emporio solidale Sud", "emporio_solidale", ["moncalieri"])
    make_service(session, places, "Ludoteca chiusa", "ludoteca", ["settimo"], active=False)
    session.commit()
    return places


def names(session, **criteria) -> list[str]:
    page = search_services(session, ServiceQuery(**criteria), now=MONDAY_1030, zone=ZONE, page=1)
    return [service.name for service in page.items]


def test_words_match_by_stem_accents_and_prefix_all_of_them(session, directory):
    assert names(session, text="ludoteche") == ["Ludoteca Arcobaleno", "Ludoteca Il Girasole"]
    assert names(session, text="mediazione linguistica") == ["Mediazione per famiglie"]
    assert names(session, text="CITTÀ") == names(session, text="citta") == ["Mediazione per famiglie"]
    assert names(session, text="ludoteca girasole") == ["Ludoteca Il Girasole"]
    assert names(session, text="ludoteca pizza") == []
    assert names(session, text="  di  per ") == names(session)  # only stop words: no text filter


def test_each_filter_and_their_combinations(session, directory):
    places = directory
    assert names(session) == ["Doposcuola San Giuseppe", "Emporio solidale Sud", "Ludoteca Arcobaleno",
                              "Ludoteca Il Girasole", "Mediazione per famiglie"]
    assert names(session, macro_area="famiglia") == ["Ludoteca Arcobaleno", "Ludoteca Il Girasole"]
    assert names(session, service_type="doposcuola") == ["Doposcuola San Giuseppe"]
    assert names(session, comune_id=places.comuni["volpiano"].id) == ["Ludoteca Arcobaleno",
                                                                     "Mediazione per famiglie"]
    assert names(session, language="ar") == ["Mediazione per famiglie"]
    assert names(session, free_only=True) == ["Emporio solidale Sud", "Ludoteca Il Girasole",
                                              "Mediazione per famiglie"]
    assert names(session, with_places=True) == ["Doposcuola San Giuseppe", "Emporio solidale Sud",
                                                 "Ludoteca Il Girasole", "Mediazione per famiglie"]
    assert names(session, open_now=True) == ["Ludoteca Il Girasole", "Mediazione per famiglie"]
    assert names(session, territory_ids=(places.ambiti["sud"].id,)) == ["Emporio solidale Sud"]
    assert names(session, territory_ids=(places.comuni["leini"].id, places.ambiti["sud"].id)) == [
        "Doposcuola San Giuseppe", "Emporio solidale Sud"]
    assert names(session, text="ludoteca", comune_id=places.comuni["settimo"].id, open_now=True,
                 free_only=True) == ["Ludoteca Il Girasole"]
    assert names(session, text="ludoteca", active_only=False, comune_id=places.comuni["settimo"].id) == [
        "Ludoteca Il Girasole", "Ludoteca chiusa"]
    assert names(session, comune_id=999999) == []


def test_pages_and_totals(session, directory):
    first = search_services(session, ServiceQuery(), now=MONDAY_1030, zone=ZONE, page=1, per_page=2)
    assert (first.total, first.page, first.pages, first.has_previous, first.has_next) == (5, 1, 3, False, True)
    last = search_services(session, ServiceQuery(), now=MONDAY_1030, zone=ZONE, page=3, per_page=2)
    assert [service.name for service in last.items] == ["Mediazione per famiglie"]
    beyond = search_services(session, ServiceQuery(), now=MONDAY_1030, zone=ZONE, page=99, per_page=2)
    assert beyond.page == 3 and beyond.items == last.items
    opened = search_services(session, ServiceQuery(open_now=True), now=MONDAY_1030, zone=ZONE, page=2, per_page=1)
    assert (opened.total, opened.pages, [s.name for s in opened.items]) == (2, 2, ["Mediazione per famiglie"])
    empty = search_services(session, ServiceQuery(text="pizza"), now=MONDAY_1030, zone=ZONE, page=1)
    assert (empty.total, empty.page, empty.pages, empty.items) == (0, 1, 1, [])


def test_open_now_reads_rome_time():
    rome = ZONE
    assert is_open(MORNINGS, datetime(2026, 3, 2, 9, 0, tzinfo=rome))
    assert not is_open(MORNINGS, datetime(2026, 3, 2, 12, 30, tzinfo=rome))  # closes at 12:30
    assert not is_open(MORNINGS, datetime(2026, 3, 7, 10, 0, tzinfo=rome))  # Saturday
    # 07:30 UTC in summer is 09:30 in Rome: open; the same UTC time read as local would not be.
    assert is_open(MORNINGS, datetime(2026, 7, 6, 7, 30, tzinfo=timezone.utc).astimezone(rome))
    assert not is_open([{"day": 0, "opens": "9", "closes": "x"}], datetime(2026, 3, 2, 10, 0, tzinfo=rome))
    assert opening_table(MORNINGS[:2] + AFTERNOONS) == [(0, ["09:00–12:30", "14:00–18:00"]), (1, ["09:00–12:30"]),
                                                         (2, ["14:00–18:00"])]


def test_the_detail_loads_everything_and_a_page_costs_the_same_whatever_its_size(session, directory, engine):
    found = search_services(session, ServiceQuery(text="mediazione"), now=MONDAY_1030, zone=ZONE, page=1)
    service = get_service(session, found.items[0].id)
    assert service.organisation.name == "Città di Settimo"
    assert [comune.territory.name for comune in service.comuni] == ["Settimo Torinese", "Volpiano"]
    assert get_service(session, 999999) is None

    def count(criteria: dict) -> int:
        statements: list[str] = []

        def record(*args):
            statements.append(args[2])

        session.expire_all()
        event.listen(engine, "before_cursor_execute", record)
        try:
            page = search_services(session, ServiceQuery(**criteria), now=MONDAY_1030, zone=ZONE, page=1)
            for item in page.items:  # what a card shows
                _ = (item.organisation.name, item.service_type.macro_area.label_it,
                     [c.territory.name for c in item.comuni], [lang.language for lang in item.languages])
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    before = (count({}), count({"open_now": True, "text": "ludoteca"}))
    for number in range(15):
        make_service(session, directory, f"Ludoteca {number}", "ludoteca", ["settimo", "leini"],
                     languages=("en",), opening_hours=MORNINGS)
    session.commit()
    assert (count({}), count({"open_now": True, "text": "ludoteca"})) == before
    assert before[0] <= 5 and before[1] <= 5
