"""Oggi's view model: every due deadline counted and paged, sections by Rome calendar day, the
reminders put off counted apart, the next overdue pact in order, stages by programme."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import update

from casework.models import Pact
from casework.pacts.today import OVERDUE, TODAY, WEEK, next_overdue_pact_id, todays_work
from casework.reminders import end_of_local_day, snooze_deadline
from tests.reminders.helpers import ROME, open_pact_at, rome

NOW = datetime(2026, 3, 10, 23, 30, tzinfo=timezone.utc)  # 00:30 on Wednesday 11/03 in Rome


def pacts_due(session, registry, world, days: list[date], manager=None) -> list[Pact]:
    pacts = []
    for day in days:
        pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9), manager=manager)
        session.execute(update(Pact).where(Pact.id == pact.id).values(next_deadline_at=end_of_local_day(day, ROME)))
        pacts.append(pact)
    session.commit()
    return pacts


def test_sections_counts_and_pages(session, registry, world):
    days = [date(2026, 3, 9)] * 3 + [date(2026, 3, 10)] * 2 + [date(2026, 3, 11)] * 4 + [date(2026, 3, 18)] * 3
    pacts_due(session, registry, world, days + [date(2026, 3, 19)])  # the 19th: beyond the week
    first = todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME, page_size=4)
    assert first.total == 12 and first.pages == 3 and first.page == 1
    assert [(s.key, s.count) for s in first.sections] == [(OVERDUE, 5), (TODAY, 4), (WEEK, 3)]
    assert [item.days for item in first.overdue] == [2, 2, 2, 1]
    last = todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME, page=3, page_size=4)
    assert [len(s.items) for s in last.sections] == [0, 1, 3]
    assert [item.days for item in last.due_soon] == [7, 7, 7]
    assert {item.section for item in last.due_today} == {TODAY}
    # A page beyond the last shows the last.
    assert todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME, page=9,
                       page_size=4).page == 3


def test_a_put_off_reminder_leaves_the_list_and_is_counted_apart(session, registry, world):
    late, other = pacts_due(session, registry, world, [date(2026, 3, 9), date(2026, 3, 9)])
    snooze_deadline(session, late, late.next_deadline_label, until_on=date(2026, 3, 13), actor=world.manager,
                    now=NOW, zone=ROME)
    session.commit()
    work = todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME)
    assert [item.pact.id for item in work.overdue] == [other.id]
    assert (work.total, work.snoozed) == (1, 1)
    on_the_13th = todays_work(session, world.manager, registry, now=rome(2026, 3, 13, 8), locale="it", zone=ROME)
    assert {item.pact.id for item in on_the_13th.overdue} == {late.id, other.id}
    assert {item.days for item in on_the_13th.overdue} == {4}


def test_next_overdue_follows_the_list_and_only_the_pacts_one_may_see(session, registry, world):
    first, second, third = pacts_due(session, registry, world, [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 6)])
    [colleagues] = pacts_due(session, registry, world, [date(2026, 3, 4)], manager=world.colleague)
    assert next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME) == first.id
    assert next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME, after=first.id) == second.id
    assert next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME, after=second.id) == third.id
    assert next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME, after=third.id) == first.id
    # A pact not on their list (a colleague's): they start from their first.
    assert next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME, after=colleagues.id) == first.id
    assert next_overdue_pact_id(session, world.colleague, now=NOW, zone=ROME, after=colleagues.id) is None


def test_the_first_overdue_pact_is_the_same_on_every_page(session, registry, world):
    days = [date(2026, 3, 5), date(2026, 3, 6), date(2026, 3, 6), date(2026, 3, 12), date(2026, 3, 13)]
    first = pacts_due(session, registry, world, days)[0]
    pages = [todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME, page=number, page_size=2)
             for number in (1, 2, 3)]
    assert [work.first_overdue_id for work in pages] == [first.id] * 3
    # A snoozed first: the next one on the list comes first, on the first page as on the others.
    snooze_deadline(session, first, first.next_deadline_label, until_on=date(2026, 3, 13), actor=world.manager,
                    now=NOW, zone=ROME)
    session.commit()
    expected = next_overdue_pact_id(session, world.manager, now=NOW, zone=ROME)
    assert expected != first.id
    assert {todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME, page=number,
                        page_size=2).first_overdue_id for number in (1, 2)} == {expected}
    # Nothing overdue: no button.
    assert todays_work(session, world.colleague, registry, now=NOW, locale="it", zone=ROME).first_overdue_id is None


def test_stages_are_grouped_by_programme_in_the_workflows_order(session, registry, world):
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    open_pact_at(session, registry, world, rome(2026, 3, 2, 9), programme=world.chance)
    work = todays_work(session, world.manager, registry, now=NOW, locale="it", zone=ROME)
    assert [(g.programme, [(s.label, s.count) for s in g.stages]) for g in work.stage_groups] == [
        ("CHANCE", [("Segnalazione", 1)]), ("TILDE", [("Segnalazione", 1)]),
    ]
