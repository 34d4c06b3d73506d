"""Oggi on the web: every due deadline counted and paged, sections by Rome calendar day, stages
by programme, and the quick actions (a contact, a reminder put off, the next overdue pact), on
SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, insert, select, update

from casework.models import (
    Beneficiary,
    ChangeRecord,
    DeadlineSnooze,
    FollowUpContact,
    Gender,
    Pact,
    Performer,
    Programme,
)
from casework.pacts import operations as ops
from casework.pacts.today import PAGE_SIZE
from casework.reminders import end_of_local_day
from casework.web import context
from tests.web.conftest import csrf_token, sign_in

ROME = ZoneInfo("Europe/Rome")
# Wednesday 11 March 2026, 00:30 in Rome (still the 10th in UTC).
NOW = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
TODAY = date(2026, 3, 11)


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture(autouse=True)
def moment(monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr(context, "now", lambda: clock["now"])
    return clock


@pytest.fixture(autouse=True)
def opened_in_march(db, people):
    """The fixture's pact, opened before the moments the tests look from."""
    opened = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    db.execute(update(Pact).where(Pact.id == people.pact.id).values(opened_at=opened, state_entered_at=opened))
    db.commit()
    db.refresh(people.pact)


def due(db, pact: Pact, day: date, rule: str = "screening_due") -> None:
    db.execute(update(Pact).where(Pact.id == pact.id).values(
        next_deadline_at=end_of_local_day(day, ROME), next_deadline_label=rule))
    db.commit()


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/notifications")})
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


def many_pacts(db, people, count: int, first_day: date) -> None:
    """`count` more pacts of the manager, due one a day from `first_day` (several a day beyond a week)."""
    template = people.pact
    people_rows = [{"first_name": f"Nome{n}", "last_name": f"Cognome{n:04d}", "gender": Gender.FEMALE,
                    "comune_id": people.beneficiary.comune_id} for n in range(count)]
    ids = db.scalars(insert(Beneficiary).returning(Beneficiary.id, sort_by_parameter_order=True), people_rows).all()
    db.execute(insert(Pact), [{
        "beneficiary_id": beneficiary_id, "programme_id": template.programme_id,
        "case_manager_id": template.case_manager_id, "workflow_name": template.workflow_name,
        "workflow_version": template.workflow_version, "state": "referral", "version": 1,
        "opened_at": template.opened_at, "state_entered_at": template.opened_at, "updated_at": template.opened_at,
        "next_deadline_at": end_of_local_day(first_day + timedelta(days=n % 9), ROME),
        "next_deadline_label": "screening_due",
    } for n, beneficiary_id in enumerate(ids)])
    db.commit()


# --- the list ---------------------------------------------------------------------------------


def test_a_deadline_missed_yesterday_is_one_day_late_all_night(app, db, people):
    """Due 10/03 in Rome, seen at 00:30 of the 11th (23:30 UTC of the 10th): 1 day late, not 0."""
    due(db, people.pact, date(2026, 3, 10))
    page = text(client_for(app, "giulia").get("/"))
    assert "1 day late" in page
    assert "0 days late" not in page


def test_a_deadline_due_today_is_labelled_today_not_within_the_week(app, db, people, moment):
    due(db, people.pact, TODAY)
    moment["now"] = datetime(2026, 3, 11, 22, 59, tzinfo=UTC)  # 23:59 in Rome: still today
    page = text(client_for(app, "giulia").get("/"))
    today_section = page.split('id="today-title"')[1].split('id="soon-title"')[0]
    assert "Maria" in today_section and "today" in today_section
    assert "Maria" not in page.split('id="soon-title"')[1].split('id="stages-title"')[0]


def test_days_are_rome_days_across_the_change_to_summer_time(app, db, people, moment):
    """29 March 2026 has 23 hours in Rome: due on the 28th, seen on the 30th at 00:10, 2 days late."""
    due(db, people.pact, date(2026, 3, 28))
    moment["now"] = datetime(2026, 3, 30, 0, 10, tzinfo=ROME).astimezone(UTC)
    assert "2 days late" in text(client_for(app, "giulia").get("/"))


def test_every_due_deadline_is_counted_and_reachable_by_page(app, db, people):
    many_pacts(db, people, 130, TODAY - timedelta(days=1))
    client = client_for(app, "giulia")
    first = text(client.get("/"))
    # 130 made plus the fixture's pact (due in 10 working days: beyond the week, not listed).
    assert re.search(r"<strong>\d+ deadlines</strong>", first)
    total = int(re.search(r"<strong>(\d+) deadlines</strong>", first).group(1))
    shown = set()
    for number in range(1, -(-total // PAGE_SIZE) + 1):
        page = text(client.get(f"/?page={number}"))
        shown |= set(re.findall(r"Cognome(\d{4})", page.split('id="stages-title"')[0]))
    assert len(shown) == total
    assert total == sum(1 for n in range(130) if n % 9 <= 8)  # every one due by the end of the week
    assert 'aria-current="page"' in first and "Page 1 of 3." in first


def test_the_page_costs_the_same_queries_for_10_or_400_deadlines(app, db, people):
    engine = app.extensions["casework"]["engine"]
    client = client_for(app, "giulia")

    def queries() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    many_pacts(db, people, 10, TODAY - timedelta(days=2))
    few = queries()
    many_pacts(db, people, 390, TODAY - timedelta(days=2))
    assert queries() == few


def test_pacts_by_stage_are_grouped_by_programme(app, db, people):
    chance = Programme(code="CHANCE", name="CHANCE", funder="—", territory_id=people.programme.territory_id,
                       starts_on=date(2025, 1, 1), workflow_name="chance_dispersione")
    db.add(chance)
    db.flush()
    template = people.pact
    db.execute(insert(Pact), [{
        "beneficiary_id": template.beneficiary_id, "programme_id": chance.id, "case_manager_id": template.case_manager_id,
        "workflow_name": "chance_dispersione", "workflow_version": 1, "state": "referral", "version": 1,
        "opened_at": template.opened_at, "state_entered_at": template.opened_at, "updated_at": template.opened_at,
    }])
    db.commit()
    page = text(client_for(app, "giulia").get("/"))
    stages = page.split('id="stages-title"')[1].split('id="recent-title"')[0]
    assert "CHANCE · 1 open pact" in stages and "TILDE · 1 open pact" in stages
    assert stages.count("Referral") == 2  # one row in each programme's table, each under its name


# --- the next overdue pact ----------------------------------------------------------------------


def test_next_overdue_goes_through_the_overdue_pacts_in_order(app, db, people):
    many_pacts(db, people, 3, TODAY - timedelta(days=3))  # due on the 8th, 9th, 10th: all late
    ids = db.scalars(select(Pact.id).where(Pact.next_deadline_at < NOW).order_by(Pact.next_deadline_at)).all()
    client = client_for(app, "giulia")
    assert client.get("/oggi/prossimo-in-ritardo").headers["Location"].endswith(f"/pacts/{ids[0]}")
    assert client.get(f"/oggi/prossimo-in-ritardo?dopo={ids[0]}").headers["Location"].endswith(f"/pacts/{ids[1]}")
    assert client.get(f"/oggi/prossimo-in-ritardo?dopo={ids[2]}").headers["Location"].endswith(f"/pacts/{ids[0]}")
    # A colleague sees none of them.
    other = client_for(app, "marco").get(f"/oggi/prossimo-in-ritardo?dopo={ids[0]}", follow_redirects=True)
    assert "No other pact is overdue." in text(other)


# --- quick actions: a follow-up contact ---------------------------------------------------------


def contact_data(**changes) -> dict:
    return {"contact-contact_at": "2026-03-11T00:15", "contact-channel": "phone", "contact-notes": "Sentita al telefono",
            "contact-next_contact_on": "", "contact-next": "/?page=1", **changes}


def post(client, url: str, data: dict):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/")})


def test_a_contact_logged_from_oggi_is_recorded_and_brings_back_to_oggi(app, db, people):
    due(db, people.pact, date(2026, 3, 9))
    client = client_for(app, "giulia")
    url = f"/oggi/patti/{people.pact.id}/contatto"
    form_page = client.get(url + "?next=/%3Fpage%3D1")
    assert form_page.status_code == 200 and 'name="contact-notes"' in text(form_page)
    response = post(client, url, contact_data())
    assert response.status_code == 302 and response.headers["Location"] == "/?page=1"
    contact = db.scalars(select(FollowUpContact).where(FollowUpContact.pact_id == people.pact.id)).one()
    assert contact.notes == "Sentita al telefono" and contact.recorded_by_id == people.manager.id
    assert "Contact recorded for Maria Bianchi." in text(client.get("/"))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"contact-contact_at": "2026-13-40T10:00"}, "contact-contact_at", "Not a valid datetime value."),
    ({"contact-contact_at": "2026-03-12T10:00"}, "contact-contact_at", "This date is in the future."),
    ({"contact-notes": "x" * 4001}, "contact-notes", "4000"),
    ({"contact-channel": ""}, "contact-channel", "This field is required."),
])
def test_a_refused_contact_shows_why_next_to_the_field(app, db, people, changes, field, message):
    client = client_for(app, "giulia")
    response = post(client, f"/oggi/patti/{people.pact.id}/contatto", contact_data(**changes))
    assert response.status_code == 422
    page = text(response)
    assert f'id="{field}-error"' in page and message in page
    assert db.scalars(select(FollowUpContact)).all() == []


def test_an_outside_address_is_never_where_oggi_goes_back_to(app, db, people):
    client = client_for(app, "giulia")
    response = post(client, f"/oggi/patti/{people.pact.id}/contatto", contact_data(**{"contact-next": "//evil.example"}))
    assert response.headers["Location"] == "/"


# --- quick actions: putting off a reminder ------------------------------------------------------


def snooze_data(**changes) -> dict:
    return {"snooze-rule_id": "screening_due", "snooze-until_on": "2026-03-14", "snooze-reason": "In ospedale",
            "snooze-next": "/", **changes}


def test_a_put_off_reminder_leaves_oggi_until_its_day_but_the_deadline_stays_late(app, db, people, moment):
    due(db, people.pact, date(2026, 3, 9))
    client = client_for(app, "giulia")
    url = f"/oggi/patti/{people.pact.id}/rimanda"
    assert 'min="2026-03-12"' in text(client.get(url))
    response = post(client, url, snooze_data())
    assert response.status_code == 302
    page = text(client.get("/"))
    assert "Reminder for Maria Bianchi put off until 14/03/2026" in page
    assert "Maria" not in page.split('id="overdue-title"')[1].split('id="stages-title"')[0]
    assert "1 deadline with its reminder put off is not listed." in page
    # Still late on the pact's page; in its history who did it, until when and why.
    assert "Late" in text(client.get(f"/pacts/{people.pact.id}"))
    changes = {c.field: c for c in db.scalars(select(ChangeRecord).where(ChangeRecord.entity == "pact"))}
    assert changes["reminder_snoozed_until_date"].new_value == "2026-03-14"
    assert changes["reminder_snooze_reason"].new_value == "In ospedale"
    assert changes["reminder_snoozed_until_date"].actor_id == people.manager.id
    timeline = text(client.get(f"/pacts/{people.pact.id}/timeline"))
    assert "Pact changed: reminder put off until" in timeline and "After: 14/03/2026" in timeline
    assert "After: In ospedale" in timeline
    # On the 14th it is back, still late.
    moment["now"] = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)
    assert "5 days late" in text(client_for(app, "giulia").get("/"))


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"snooze-until_on": "2026-02-30"}, "snooze-until_on", "Not a valid date value."),
    ({"snooze-until_on": "2026-03-11"}, "snooze-until_on", "Choose a day after today."),
    ({"snooze-until_on": "2026-03-01"}, "snooze-until_on", "Choose a day after today."),
    ({"snooze-reason": "x" * 501}, "snooze-reason", "At most 500 characters."),
])
def test_a_refused_snooze_shows_why_next_to_the_field(app, db, people, changes, field, message):
    due(db, people.pact, date(2026, 3, 9))
    response = post(client_for(app, "giulia"), f"/oggi/patti/{people.pact.id}/rimanda", snooze_data(**changes))
    assert response.status_code == 422
    page = text(response)
    assert f'id="{field}-error"' in page and message in page
    assert db.scalars(select(DeadlineSnooze)).all() == []


def test_a_snooze_of_a_deadline_that_changed_meanwhile_is_refused(app, db, people):
    due(db, people.pact, date(2026, 3, 9), rule="pact_signature_due")
    response = post(client_for(app, "giulia"), f"/oggi/patti/{people.pact.id}/rimanda", snooze_data())
    assert response.status_code == 422
    assert "This deadline has changed meanwhile" in text(response)


@pytest.mark.parametrize("rule_id", ["", "   "])
def test_a_snooze_without_its_deadline_says_so_above_the_form(app, db, people, rule_id):
    """The deadline travels in a hidden field: refused, it once answered 422 with no word shown."""
    due(db, people.pact, date(2026, 3, 9))
    response = post(client_for(app, "giulia"), f"/oggi/patti/{people.pact.id}/rimanda",
                    snooze_data(**{"snooze-rule_id": rule_id}))
    assert response.status_code == 422
    assert "This deadline has changed meanwhile" in text(response)
    assert db.scalars(select(DeadlineSnooze)).all() == []


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["contatto", "rimanda"])
def test_quick_actions_on_a_pact_not_visible_answer_404(app, db, people, path):
    client = client_for(app, "marco")  # a colleague: not their pact
    url = f"/oggi/patti/{people.pact.id}/{path}"
    assert client.get(url).status_code == 404
    data = contact_data() if path == "contatto" else snooze_data()
    assert post(client, url, data).status_code == 404
    assert client.get(f"/oggi/patti/999999/{path}").status_code == 404


@pytest.mark.parametrize("username", ["elena", "admin"])
@pytest.mark.parametrize("path", ["contatto", "rimanda"])
def test_quick_actions_are_for_case_managers(app, db, people, username, path):
    client = client_for(app, username)
    url = f"/oggi/patti/{people.pact.id}/{path}"
    assert client.get(url).status_code == 403
    data = contact_data() if path == "contatto" else snooze_data()
    assert post(client, url, data).status_code == 403


def test_a_supervisor_sees_oggi_without_the_quick_actions(app, db, people):
    due(db, people.pact, date(2026, 3, 9))
    page = text(client_for(app, "elena").get("/"))
    assert "Bianchi Maria" in page
    assert "today-contact-dialog" not in page and "/rimanda" not in page


def test_anonymous_visitors_are_sent_to_sign_in(app, people):
    client = app.test_client()
    for url in (f"/oggi/patti/{people.pact.id}/contatto", f"/oggi/patti/{people.pact.id}/rimanda",
                "/oggi/prossimo-in-ritardo"):
        assert client.get(url).status_code == 302


# --- a deadline whose work is done ----------------------------------------------------------------


def test_a_chance_project_signed_on_time_is_not_late_while_it_waits_for_approval(app, db, people, moment):
    registry = app.extensions["casework"]["registry"]
    chance = Programme(code="CHANCE", name="CHANCE", funder="—", territory_id=people.programme.territory_id,
                       starts_on=date(2025, 1, 1), workflow_name="chance_dispersione")
    db.add(chance)
    db.flush()
    entered = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    pact = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=chance, case_manager=people.manager,
                         actor=people.manager, clock=ops.Clock(entered, ROME))
    db.execute(update(Pact).where(Pact.id == pact.id).values(state="individual_project", state_entered_at=entered))
    db.commit()
    db.refresh(pact)
    clock = ops.Clock(entered, ROME)
    goal = ops.add_goal(db, pact, description="Rientro a scuola", clock=clock)
    ops.add_action(db, pact, description="Incontro con la scuola", performer=Performer.CASE_MANAGER, goal=goal,
                   clock=clock)
    ops.refresh_next_deadline(db, registry.engine_for(pact).definition, pact, ROME)
    db.commit()
    client = client_for(app, "giulia")  # 11/03: the project was due by 04/03
    assert "Project signed with the family within 30 days" in text(client.get("/"))
    assert "Late" in text(client.get(f"/pacts/{pact.id}"))

    # Signed on 20/02 (recorded late, as happens): on time, and it waits for the coordinator.
    ops.record_signature(db, pact, signed_on=date(2026, 2, 20), signed_by="Madre", consent_given=True,
                         actor=people.manager, clock=ops.Clock(NOW, ROME), registry=registry)
    db.commit()
    assert "Project signed with the family within 30 days" not in text(client.get("/"))
    shown = text(client.get(f"/pacts/{pact.id}"))
    assert "Project signed with the family within 30 days" not in shown and "Late" not in shown
