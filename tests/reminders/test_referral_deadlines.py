"""A service referral's overdue steps: reminders and escalations through the workflow's deadline rules.

The default workflow's `service_referrals` block: the service answers within 5 working days of
the request (reminder 1 day before, escalations when 2 and 10 days overdue); it starts on the
agreed date (reminder that day, escalations when 3 and 10 days overdue). The referral rows are
written directly, as any code path would leave them: the triggers queue the pact, the sweep does
the rest.

The person lives in San Mauro Torinese, whose patron saint's day is Thursday 12 March 2026.
Requested on Monday 9 March 2026: the five working days are 10, 11, 13, 16 and 17 March (the
12th does not count there), so the answer is due on Tuesday 17 March:

- reminder: Monday 16 March, 08:00 Rome (07:00 UTC);
- escalation to the unione's supervisor: overdue by 2 whole days, Friday 20 March, 08:00;
- second escalation to the ambito's: overdue by 10, Saturday 28 March -> Monday 30 March,
  08:00 Rome in summer time (06:00 UTC).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import event, func, select

from casework import migrate
from casework.db import make_engine
from casework.models import (
    Beneficiary,
    DeadlineRefresh,
    EmailStatus,
    Gender,
    Notification,
    Organisation,
    OrganisationKind,
    Pact,
    PactDeadline,
    Service,
    ServiceAccess,
    ServiceCost,
    ServiceMacroArea,
    ServiceReferral,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    TerritoryKind,
)
from casework.models.reminders import REFERRAL_REFRESH_DDL
from casework.pacts.page import pact_page
from casework.pacts.today import todays_work
from casework.reminders.calendar_feed import ics_feed
from casework.reminders.deadline_rows import find_rule, live_deadlines, refresh_pact_deadlines
from casework.reminders.notifications import list_notifications
from casework.workflow.loader import load_workflow_file
from tests.reminders.helpers import (
    POLICY,
    ROME,
    add_territorial_manager,
    emails,
    fired,
    move_to,
    open_pact_at,
    rome,
    sweep_at,
)
from tests.workflow.test_workflow_files import BASE, assert_reported, edit, write

UTC = timezone.utc  # noqa: UP017 (as the other reminder tests)
Status = ServiceReferralStatus
ANSWER_LABEL = "Risposta del servizio all'invio — Emporio solidale"
START_LABEL = "Avvio del servizio alla data concordata — Emporio solidale"


# --- the world: a comune with its patron's day, a service, a pact in co-design -------------------

def _service(session, world, name: str = "Emporio solidale") -> Service:
    area = session.scalar(select(ServiceMacroArea).where(ServiceMacroArea.code == "cibo")) or ServiceMacroArea(
        code="cibo", label_it="Cibo", label_en="Food")
    kind = session.scalar(select(ServiceType).where(ServiceType.code == "emporio")) or ServiceType(
        macro_area=area, code="emporio", label_it="Emporio solidale", label_en="Social supermarket", need_area="cibo")
    organisation = Organisation(name=f"Caritas — {name}", kind=OrganisationKind.ASSOCIATION, territory=world.comune)
    at = rome(2026, 1, 10)
    service = Service(organisation=organisation, service_type=kind, name=name, access=ServiceAccess.FREE_ACCESS,
                      cost=ServiceCost.FREE, last_checked_on=date(2026, 1, 10), created_at=at, updated_at=at)
    session.add(service)
    session.commit()
    return service


def _pact(session, registry, world) -> Pact:
    """A pact in co-design since 2 March (its own deadline, the signature, falls on 1 April)."""
    comune = Territory(name="San Mauro Torinese", kind=TerritoryKind.COMUNE, istat_code="001249",
                       parent=world.comune.parent, province="TO", cadastral_code="I030",
                       patron_month=3, patron_day=12)
    person = Beneficiary(first_name="Luca", last_name="Ferri", gender=Gender.MALE, comune=comune)
    session.add(comune)
    session.commit()
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9), beneficiary=person)
    move_to(session, registry, pact, "co_design", rome(2026, 3, 2, 10), world.manager)
    return pact


def _refer(session, pact: Pact, service: Service, requested_at: datetime, **values) -> ServiceReferral:
    referral = ServiceReferral(pact_id=pact.id, service=service, status=Status.REQUESTED, need_area="cibo",
                               proposed_at=requested_at - timedelta(hours=1), requested_at=requested_at,
                               updated_at=requested_at, **values)
    session.add(referral)
    session.commit()
    return referral


def _change(session_factory, referral_id: int, **values) -> None:
    """A referral moved on, in its own transaction, as any code path would write it."""
    with session_factory() as other:
        referral = other.get(ServiceReferral, referral_id)
        for name, value in values.items():
            setattr(referral, name, value)
        other.commit()


def _referral_fired(session_factory) -> list[tuple[str, date, str, str]]:
    return [(rule, due, kind, user) for _, rule, due, kind, user in fired(session_factory) if "@" in rule]


def _row(session_factory, pact: Pact, rule_id: str) -> PactDeadline:
    with session_factory() as check:
        return check.scalars(select(PactDeadline).where(PactDeadline.pact_id == pact.id,
                                                        PactDeadline.rule_id == rule_id)
                             .order_by(PactDeadline.id.desc())).first()


# --- the answer -----------------------------------------------------------------------------------

def test_no_answer_brings_a_reminder_then_two_escalations_at_rome_times_skipping_the_patron_day_once_each(
        session, session_factory, registry, world):
    hierarchy = add_territorial_manager(session, world)
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    answer = f"referral_answer@{referral.id}"

    sweep_at(session_factory, registry, rome(2026, 3, 9, 11))
    row = _row(session_factory, pact, answer)
    assert (row.due_on, row.anchor_on, row.ended_at) == (date(2026, 3, 17), date(2026, 3, 9), None)
    assert row.next_fire_at == datetime(2026, 3, 16, 7, tzinfo=UTC)

    sweep_at(session_factory, registry, rome(2026, 3, 16, 7, 59))
    assert _referral_fired(session_factory) == []
    for _ in range(2):
        sweep_at(session_factory, registry, rome(2026, 3, 16, 8))
    assert _referral_fired(session_factory) == [(answer, date(2026, 3, 17), "reminder", "giulia")]
    assert _row(session_factory, pact, answer).next_fire_at == datetime(2026, 3, 20, 7, tzinfo=UTC)

    sweep_at(session_factory, registry, rome(2026, 3, 19, 23))
    assert len(_referral_fired(session_factory)) == 1
    for _ in range(2):
        sweep_at(session_factory, registry, rome(2026, 3, 20, 8))
    assert _referral_fired(session_factory)[1:] == [(answer, date(2026, 3, 17), "escalation", "elena")]
    assert _row(session_factory, pact, answer).next_fire_at == datetime(2026, 3, 30, 6, tzinfo=UTC)

    for _ in range(2):
        sweep_at(session_factory, registry, rome(2026, 3, 30, 8))
    assert _referral_fired(session_factory)[2:] == [
        (answer, date(2026, 3, 17), "escalation_again", hierarchy.territorial_manager.username)]

    # Each in words naming the service: the e-mails and the notifications.
    referral_mails = [mail for mail in emails(session_factory) if "Emporio solidale" in mail.body]
    assert len(referral_mails) == 3
    assert ANSWER_LABEL in referral_mails[0].subject and referral_mails[0].to_address == world.manager.email
    assert all(ANSWER_LABEL in mail.body for mail in referral_mails)
    titles = [view.title for view in list_notifications(session, registry, world.manager, now=rome(2026, 3, 16, 9))]
    assert any(ANSWER_LABEL in title for title in titles), titles
    titles = [view.title for view in list_notifications(session, registry, world.supervisor, now=rome(2026, 3, 20, 9))]
    assert any(ANSWER_LABEL in title for title in titles), titles


def test_the_same_request_in_a_comune_without_a_holiday_of_its_own_is_due_a_day_earlier(
        session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2026, 3, 2, 9))  # Settimo Torinese
    move_to(session, registry, pact, "co_design", rome(2026, 3, 2, 10), world.manager)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 9, 11))
    row = _row(session_factory, pact, f"referral_answer@{referral.id}")
    assert row.due_on == date(2026, 3, 16)
    assert row.next_fire_at == datetime(2026, 3, 13, 7, tzinfo=UTC)  # Friday 13, the day before


def test_the_answer_ends_the_answer_deadline_met_and_starts_the_start_deadline(
        session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 9, 11))

    _change(session_factory, referral.id, status=Status.ACCEPTED, answered_at=rome(2026, 3, 13, 11),
            agreed_start_on=date(2026, 3, 23))
    sweep_at(session_factory, registry, rome(2026, 3, 13, 12))
    answer = _row(session_factory, pact, f"referral_answer@{referral.id}")
    assert answer.ended_at is not None and answer.met is True and answer.next_fire_at is None
    start = _row(session_factory, pact, f"referral_start@{referral.id}")
    assert (start.due_on, start.anchor_on, start.ended_at) == (date(2026, 3, 23), date(2026, 3, 23), None)
    assert start.natural_anchor_at == rome(2026, 3, 13, 11)
    assert start.next_fire_at == datetime(2026, 3, 23, 7, tzinfo=UTC)  # the agreed day itself, 08:00

    # Agreed again for a later day: the same deadline moves, nothing is counted missed.
    _change(session_factory, referral.id, agreed_start_on=date(2026, 3, 25))
    sweep_at(session_factory, registry, rome(2026, 3, 16, 9))
    moved = _row(session_factory, pact, f"referral_start@{referral.id}")
    assert (moved.id, moved.due_on, moved.ended_at) == (start.id, date(2026, 3, 25), None)
    sweep_at(session_factory, registry, rome(2026, 3, 24, 9))
    assert _referral_fired(session_factory) == []


def test_the_day_of_the_answer_decides_whether_it_came_in_time_not_when_the_sweep_sees_it(
        session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    service = _service(session, world)
    on_time = _refer(session, pact, service, rome(2026, 3, 9, 10))
    late = _refer(session, pact, service, rome(2026, 3, 9, 11))
    sweep_at(session_factory, registry, rome(2026, 3, 9, 12))
    _change(session_factory, on_time.id, status=Status.ACCEPTED, answered_at=rome(2026, 3, 17, 18),
            agreed_start_on=date(2026, 4, 1))
    _change(session_factory, late.id, status=Status.REFUSED, refusal_reason="no_places",
            answered_at=rome(2026, 3, 18, 10), ended_at=rome(2026, 3, 18, 10))
    # The scheduler was down until Thursday 19 March.
    sweep_at(session_factory, registry, rome(2026, 3, 19, 11))
    answered = _row(session_factory, pact, f"referral_answer@{on_time.id}")
    refused = _row(session_factory, pact, f"referral_answer@{late.id}")
    assert (answered.met, refused.met) == (True, False)
    assert answered.ended_at == datetime(2026, 3, 17, 22, 59, 59, 999999, tzinfo=UTC)  # the end of its day
    assert refused.ended_at == datetime(2026, 3, 18, 22, 59, 59, 999999, tzinfo=UTC)


# --- the start ------------------------------------------------------------------------------------

def test_a_service_not_started_by_the_agreed_date_escalates_and_a_late_start_ends_it_missed(
        session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10), answered_at=rome(2026, 3, 10, 9),
                      agreed_start_on=date(2026, 3, 23))
    _change(session_factory, referral.id, status=Status.ACCEPTED)
    start = f"referral_start@{referral.id}"

    sweep_at(session_factory, registry, rome(2026, 3, 10, 10))
    for _ in range(2):
        sweep_at(session_factory, registry, rome(2026, 3, 23, 8))
    assert _referral_fired(session_factory) == [(start, date(2026, 3, 23), "reminder", "giulia")]
    # Overdue by 3 whole days: Friday 27 March, 08:00.
    sweep_at(session_factory, registry, rome(2026, 3, 27, 7, 59))
    assert len(_referral_fired(session_factory)) == 1
    for _ in range(2):
        sweep_at(session_factory, registry, rome(2026, 3, 27, 8))
    assert _referral_fired(session_factory)[1:] == [(start, date(2026, 3, 23), "escalation", "elena")]
    escalation = [mail for mail in emails(session_factory) if mail.to_address == world.supervisor.email]
    assert len(escalation) == 1 and START_LABEL in escalation[0].body

    _change(session_factory, referral.id, status=Status.STARTED, started_on=date(2026, 3, 30))
    sweep_at(session_factory, registry, rome(2026, 3, 30, 12))
    row = _row(session_factory, pact, start)
    assert row.ended_at is not None and row.met is False
    with session_factory() as check:
        assert [r.rule_id for r in live_deadlines(check, check.get(Pact, pact.id))] == ["pact_signature_due"]


def test_a_start_on_the_agreed_day_ends_the_deadline_met(session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10), answered_at=rome(2026, 3, 10, 9),
                      agreed_start_on=date(2026, 3, 23))
    _change(session_factory, referral.id, status=Status.ACCEPTED)
    sweep_at(session_factory, registry, rome(2026, 3, 10, 10))
    _change(session_factory, referral.id, status=Status.STARTED, started_on=date(2026, 3, 23))
    sweep_at(session_factory, registry, rome(2026, 3, 24, 9))
    row = _row(session_factory, pact, f"referral_start@{referral.id}")
    assert row.ended_at is not None and row.met is True


# --- refused, dropped -----------------------------------------------------------------------------

def test_a_refusal_ends_the_answer_deadline_resolves_its_notifications_and_cancels_its_unsent_email(
        session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 16, 8))
    [mail] = [mail for mail in emails(session_factory) if ANSWER_LABEL in mail.body]
    assert mail.status == EmailStatus.PENDING

    _change(session_factory, referral.id, status=Status.REFUSED, refusal_reason="no_places",
            answered_at=rome(2026, 3, 16, 9), ended_at=rome(2026, 3, 16, 9))
    sweep_at(session_factory, registry, rome(2026, 3, 16, 9, 5))
    row = _row(session_factory, pact, f"referral_answer@{referral.id}")
    assert row.ended_at is not None and row.met is True and row.next_fire_at is None
    assert [m.status for m in emails(session_factory) if m.id == mail.id] == [EmailStatus.CANCELLED]
    with session_factory() as check:
        waiting = check.scalars(select(Notification).where(Notification.deadline_id == row.id)).all()
        assert waiting and all(n.resolved_at is not None for n in waiting)
        assert f"referral_start@{referral.id}" not in {r.rule_id for r in live_deadlines(check, check.get(Pact, pact.id))}
    sweep_at(session_factory, registry, rome(2026, 3, 30, 9))
    assert [kind for _, _, kind, _ in _referral_fired(session_factory)] == ["reminder"]


def test_dropping_an_accepted_referral_ends_its_start_deadline_and_cancels_its_unsent_email(
        session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10), answered_at=rome(2026, 3, 10, 9),
                      agreed_start_on=date(2026, 3, 23))
    _change(session_factory, referral.id, status=Status.ACCEPTED)
    sweep_at(session_factory, registry, rome(2026, 3, 23, 8))
    [mail] = [mail for mail in emails(session_factory) if START_LABEL in mail.body]

    _change(session_factory, referral.id, status=Status.DROPPED, drop_reason="beneficiary_withdrew",
            ended_at=rome(2026, 3, 23, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 23, 10, 5))
    row = _row(session_factory, pact, f"referral_start@{referral.id}")
    assert row.ended_at is not None and row.next_fire_at is None
    assert [m.status for m in emails(session_factory) if m.id == mail.id] == [EmailStatus.CANCELLED]
    sweep_at(session_factory, registry, rome(2026, 3, 31, 9))
    assert [kind for _, _, kind, _ in _referral_fired(session_factory)] == ["reminder"]


def test_closing_the_pact_ends_its_referrals_deadlines(session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 9, 11))
    move_to(session, registry, pact, "withdrawn", rome(2026, 3, 10, 9), world.manager)
    sweep_at(session_factory, registry, rome(2026, 3, 10, 10))
    row = _row(session_factory, pact, f"referral_answer@{referral.id}")
    assert row.ended_at == rome(2026, 3, 10, 9)
    sweep_at(session_factory, registry, rome(2026, 3, 31, 9))
    assert _referral_fired(session_factory) == []


# --- where it is shown ----------------------------------------------------------------------------

def test_the_pact_header_oggi_and_the_calendar_name_the_service(session, session_factory, registry, world):
    pact = _pact(session, registry, world)
    referral = _refer(session, pact, _service(session, world), rome(2026, 3, 9, 10))
    now = rome(2026, 3, 13, 9)
    sweep_at(session_factory, registry, now)
    session.expire_all()
    assert pact.next_deadline_label == f"referral_answer@{referral.id}"
    assert pact.next_deadline_at.astimezone(ROME).date() == date(2026, 3, 17)

    header = pact_page(session, registry, world.manager, pact, now=now, locale="it", zone=ROME).header
    assert header.deadline_label == ANSWER_LABEL and header.deadline_on == date(2026, 3, 17)
    assert ANSWER_LABEL in {deadline.label for deadline in header.deadlines}

    today = todays_work(session, world.manager, registry, now=now, locale="it", zone=ROME)
    labels = {item.deadline_label for section in today.sections for item in section.items}
    assert ANSWER_LABEL in labels

    feed = Calendar.from_ical(ics_feed(session, world.manager, now, registry=registry, zone=ROME))
    summaries = [str(entry["summary"]) for entry in feed.walk("VEVENT")]
    assert any(summary.endswith(ANSWER_LABEL) for summary in summaries), summaries
    english = registry.get(pact.workflow_name, pact.workflow_version).definition.label_of(
        "deadline", pact.next_deadline_label, "en")
    assert english == "Service's answer to the referral"  # the rule's words, where no name is looked up


def test_find_rule_resolves_a_referral_deadline_to_the_workflow_s_rule_whatever_the_state(registry):
    definition = registry.get("patto_personalizzato", 1).definition
    rule = find_rule(definition, "follow_up", "referral_answer@17")
    assert (rule.id, rule.amount, rule.unit, rule.anchor) == ("referral_answer", 5, "working_days", "requested")
    assert find_rule(definition, "co_design", "referral_start@3").amount == 0
    assert find_rule(definition, "co_design", "referral_nothing@3") is None
    assert find_rule(definition, "co_design", "referral_answer@x") is None


# --- the queue --------------------------------------------------------------------------------------

def test_a_new_referral_and_each_change_of_its_steps_queue_the_pact_in_the_same_transaction(
        session, registry, world):
    pact = _pact(session, registry, world)
    service = _service(session, world)
    session.execute(DeadlineRefresh.__table__.delete())
    session.commit()

    def queued() -> int:
        return session.scalar(select(func.count()).select_from(DeadlineRefresh)
                              .where(DeadlineRefresh.pact_id == pact.id))

    referral = ServiceReferral(pact_id=pact.id, service=service, status=Status.PROPOSED, proposed_at=rome(2026, 3, 9),
                               updated_at=rome(2026, 3, 9))
    session.add(referral)
    session.flush()
    assert queued() == 1
    referral.note = "Telefonato al servizio"
    session.flush()
    assert queued() == 1  # a note is no step
    referral.status, referral.requested_at = Status.REQUESTED, rome(2026, 3, 9, 10)
    session.flush()
    assert queued() == 2
    referral.agreed_start_on = date(2026, 3, 23)
    session.flush()
    assert queued() == 3
    session.rollback()
    assert queued() == 0


def test_refreshing_a_pact_costs_the_same_queries_with_one_referral_or_many(
        engine, session, registry, world):
    service = _service(session, world)
    few, many = _pact(session, registry, world), open_pact_at(session, registry, world, rome(2026, 3, 2, 9))
    _refer(session, few, service, rome(2026, 3, 9, 10))
    for day in range(9, 14):
        _refer(session, many, service, rome(2026, 3, day, 10), answered_at=rome(2026, 3, day, 11),
               agreed_start_on=date(2026, 3, 30))
    now = rome(2026, 3, 13, 12)
    counts = []
    for pact in (few, many):
        refresh_pact_deadlines(session, registry, pact, now=now, policy=POLICY)
        session.commit()
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany, seen=seen):
            seen.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            rows = refresh_pact_deadlines(session, registry, pact, now=now, policy=POLICY)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(seen))
        session.commit()
    assert len(rows) == 1 + 5  # the state's own and each referral's answer
    assert counts[0] == counts[1], counts


# --- the workflow file --------------------------------------------------------------------------------

REFERRALS = """
service_referrals:  # <block>
  deadlines:
    - id: referral_answer  # <answer>
      label: {it: Risposta del servizio, en: Service's answer}
      in: 5  # <answer in>
      unit: working_days
      from: requested  # <answer from>
    - id: referral_start
      label: {it: Avvio del servizio, en: Service starts}
      in: 0
      from: agreed_start
      escalate_after_days: 3  # <start escalate>
"""


def test_a_workflow_without_the_block_has_no_referral_deadlines_and_one_with_it_reads_them(tmp_path):
    assert load_workflow_file(write(tmp_path / "without", BASE)).referral_deadlines == ()
    definition = load_workflow_file(write(tmp_path / "with", BASE + REFERRALS))
    assert [(r.id, r.amount, r.unit, r.anchor, r.escalate_after_days) for r in definition.referral_deadlines] == [
        ("referral_answer", 5, "working_days", "requested", None), ("referral_start", 0, "days", "agreed_start", 3)]


BAD_BLOCKS = {
    "an unknown anchor": (
        [("      from: requested  # <answer from>", "      from: sent  # <answer from>")],
        [("# <answer from>", ["bad deadline in service_referrals", "'referral_answer'", "'from' must be one of",
                              "requested, agreed_start", "'sent'"])],
    ),
    "a state's anchor": (
        [("      from: requested  # <answer from>", "      from: entered  # <answer from>")],
        [("# <answer from>", ["service_referrals", "'from'", "'entered'"])],
    ),
    "no anchor": (
        [("      from: requested  # <answer from>\n", "")],
        [("# <answer>", ["service_referrals", "'referral_answer'", "has no 'from'"])],
    ),
    "an answer due the day of the request": (
        [("      in: 5  # <answer in>", "      in: 0  # <answer in>")],
        [("# <answer in>", ["service_referrals", "'in'", ">= 1"])],
    ),
    "a recurring referral deadline": (
        [("      escalate_after_days: 3  # <start escalate>", "      every: 3  # <start escalate>")],
        [("# <start escalate>", ["unknown key 'every'", "service_referrals"])],
    ),
    "a block that is a list": (
        [("service_referrals:  # <block>\n  deadlines:", "service_referrals:  # <block>\n  - deadlines:")],
        [("# <block>", ["service_referrals must be a mapping"])],
    ),
    "a typo in the block": (
        [("service_referrals:  # <block>\n  deadlines:", "service_referrals:  # <block>\n  deadline:  # <typo>")],
        [("# <typo>", ["unknown key 'deadline' in service_referrals"]),
         ("# <block>", ["service_referrals has no 'deadlines'"])],
    ),
}


@pytest.mark.parametrize("replacements,expected", list(BAD_BLOCKS.values()), ids=list(BAD_BLOCKS))
def test_a_bad_service_referrals_block_is_refused_with_file_line_and_cause(tmp_path, replacements, expected):
    text = edit(BASE + REFERRALS, *replacements)
    assert_reported(write(tmp_path, text), text, expected)


# --- the migration ------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")


def _referral_triggers(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                names = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'service_referral'")
            else:
                names = connection.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'service_referral'::regclass AND NOT tgisinternal")
            return {name for (name,) in names}
    finally:
        engine.dispose()


def test_the_migration_creates_the_models_triggers_and_its_downgrade_drops_them(empty_database_url):
    migrate.upgrade(empty_database_url)
    dialect = "sqlite" if empty_database_url.startswith("sqlite") else "postgresql"
    expected = {statement.split()[2] for statement in REFERRAL_REFRESH_DDL[dialect]}
    assert _referral_triggers(empty_database_url) == expected
    migrate.downgrade(empty_database_url, "0013")
    assert _referral_triggers(empty_database_url) == set()
    migrate.upgrade(empty_database_url)
    assert _referral_triggers(empty_database_url) == expected
