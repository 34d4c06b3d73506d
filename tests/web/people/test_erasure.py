"""Erasing a person (GDPR art. 17): a supervisor who sees them, with a reason and a confirmation,
once every pact of theirs is closed; their identity and free text go, the indicators stay the
same, and the erasure is logged. SQLite and PostgreSQL."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from casework.models import (
    AccessLogEntry,
    AdministrativeLogEntry,
    Beneficiary,
    ChangeRecord,
    ContactChannel,
    FollowUpContact,
    HouseholdMember,
    Pact,
    Programme,
    Relation,
    TransitionRecord,
    User,
)
from casework.pacts import operations as ops
from casework.reporting.indicators import compute
from casework.reporting.period import IndicatorScope
from casework.security import record_changes
from tests.conftest import ZONE
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _client(app: Flask, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def _closed_with_history(app, db, people, *, days_ago: int = 0) -> None:
    registry = app.extensions["casework"]["registry"]
    pact = db.get(Pact, people.pact.id)
    clock = ops.Clock(datetime.now(UTC), ZONE)
    db.add(HouseholdMember(beneficiary_id=people.beneficiary.id, first_name="Luca", relation=Relation.CHILD))
    ops.log_contact(db, registry, pact, contact_at=clock.now, channel=ContactChannel.PHONE,
                    notes="la signora Bianchi ha chiamato", actor=people.manager, clock=clock)
    record_changes(db, "beneficiary", people.beneficiary.id, {"phone": "011 1"}, {"phone": "011 2"},
                   actor=people.manager, now=clock.now)
    ops.transition_pact(db, registry, pact, "withdraw", actor=people.manager, clock=clock,
                        comment="trasferita a Lodi da Maria", reason="moved_away")
    db.commit()
    if days_ago:  # closed long ago, as far as the retention period is concerned
        db.expire_all()
        moved = db.get(Pact, pact.id)
        moved.opened_at = clock.now - timedelta(days=days_ago + 30)
        moved.closed_at = clock.now - timedelta(days=days_ago)
        db.commit()


def _indicators(app, db, user_id: int):
    db.expire_all()
    scope = IndicatorScope(programme_id=None, territory_id=None, start=date.today() - timedelta(days=300), end=date.today() + timedelta(days=30))
    report = compute(db, app.extensions["casework"]["registry"], db.get(User, user_id), scope,
                     now=datetime.now(UTC), locale="en", zone=ZONE)
    return report.tables, report.key_figures


def test_a_supervisor_erases_a_closed_case_and_the_indicators_stay_the_same(app, db, people):
    _closed_with_history(app, db, people)
    before = _indicators(app, db, people.supervisor.id)
    client = _client(app, "elena")
    url = f"/beneficiaries/{people.beneficiary.id}/erase"
    assert "Cancella la persona" in html.unescape(client.get(url).get_data(as_text=True))
    response = submit(client, url, {"reason": "richiesta dell'interessata", "confirm": "y"})
    assert response.status_code == 302
    db.expire_all()
    person = db.get(Beneficiary, people.beneficiary.id)
    assert (person.first_name, person.last_name, person.codice_fiscale, person.erased_at is not None) == (
        "Persona", f"cancellata n. {person.id}", None, True)
    assert (person.gender, person.birth_date, person.comune_id) == (
        people.beneficiary.gender, date(1985, 4, 3), people.beneficiary.comune_id)
    assert db.scalars(select(HouseholdMember)).all() == []
    assert [contact.notes for contact in db.scalars(select(FollowUpContact))] == ["—"]
    assert {record.comment for record in db.scalars(select(TransitionRecord))} == {"—"}
    assert {(change.old_value, change.new_value) for change in db.scalars(select(ChangeRecord))} == {("—", "—")}
    assert _indicators(app, db, people.supervisor.id) == before
    assert db.scalar(select(AccessLogEntry.detail).where(AccessLogEntry.action == "erase")) == (
        "erasure: richiesta dell'interessata")
    assert db.scalar(select(AdministrativeLogEntry.action).where(AdministrativeLogEntry.action == "erase"))
    page = html.unescape(client.get(f"/beneficiaries/{person.id}").get_data(as_text=True))
    assert "Bianchi" not in page and "BNCMRA85D43I703I" not in page


def test_an_erasure_needs_a_closed_case_a_reason_and_a_confirmation(app, db, people):
    client = _client(app, "elena")
    url = f"/beneficiaries/{people.beneficiary.id}/erase"
    unconfirmed = submit(client, url, {"reason": "richiesta"})
    assert unconfirmed.status_code == 422 and "una cancellazione non si può annullare" in html.unescape(
        unconfirmed.get_data(as_text=True))
    still_open = submit(client, url, {"reason": "richiesta", "confirm": "y"})
    assert still_open.status_code == 422
    assert "ancora aperto" in html.unescape(still_open.get_data(as_text=True))
    db.expire_all()
    assert db.get(Beneficiary, people.beneficiary.id).erased_at is None


@pytest.mark.parametrize(("username", "status"), [("giulia", 403), ("paolo", 404), ("admin", 403)])
def test_only_a_supervisor_who_sees_the_person_erases(app, db, people, username, status):
    _closed_with_history(app, db, people)
    client = _client(app, username)
    url = f"/beneficiaries/{people.beneficiary.id}/erase"
    assert client.get(url).status_code == status
    db.expire_all()
    assert db.get(Beneficiary, people.beneficiary.id).erased_at is None


def test_people_past_their_programme_retention_are_listed_not_erased(app, db, people):
    _closed_with_history(app, db, people, days_ago=70)
    client = _client(app, "elena")
    assert "Nessuno da cancellare" in html.unescape(client.get("/beneficiaries/erasures").get_data(as_text=True))
    db.get(Programme, people.programme.id).retention_months = 2
    db.commit()
    listed = html.unescape(client.get("/beneficiaries/erasures").get_data(as_text=True))
    assert "Maria Bianchi" in listed and f"/beneficiaries/{people.beneficiary.id}/erase" in listed
    db.expire_all()
    assert db.get(Beneficiary, people.beneficiary.id).erased_at is None  # a list only
    db.get(Programme, people.programme.id).retention_months = 3
    db.commit()
    assert "Maria Bianchi" not in client.get("/beneficiaries/erasures").get_data(as_text=True)


def test_the_daily_proposal_tells_each_supervisor_once_and_erases_nobody(app, db, people):
    from casework.models import Notification
    from casework.people import propose_erasures

    _closed_with_history(app, db, people, days_ago=70)
    db.get(Programme, people.programme.id).retention_months = 2
    db.commit()
    now = datetime.now(UTC)
    assert propose_erasures(db, now=now, holder="test") == 1  # elena sees the person; paolo does not
    assert propose_erasures(db, now=now + timedelta(days=1), holder="test") == 0  # already told
    notices = db.scalars(select(Notification).where(Notification.user_id == people.supervisor.id)).all()
    assert len(notices) == 1 and "1 people reached the end" in notices[0].message["en"]
    assert not db.scalars(select(Notification).where(Notification.user_id == people.other_supervisor.id)).all()
    db.expire_all()
    assert db.get(Beneficiary, people.beneficiary.id).erased_at is None
