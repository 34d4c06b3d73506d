"""Oggi's and the pact page's main parts are drawn once and kept (casework/web/kept_parts.py):
what a user notices is only that the pages are fast. Never a part that outlived a change, another
viewer's part, another session's CSRF token, or yesterday's deadlines. SQLite and PostgreSQL."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import event

from casework.models import Pact
from casework.pacts import operations as ops
from casework.reminders import end_of_local_day
from casework.web import context
from tests.conftest import ZONE
from tests.web.conftest import CSRF, csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _signed_in(app: Flask, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


class _Statements:
    def __init__(self, app: Flask):
        self.engine = app.extensions["casework"]["engine"]
        self.count = 0

    def _count(self, *_args):
        self.count += 1

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)


def _statements(app: Flask, client, url: str) -> tuple[int, str]:
    with _Statements(app) as counted:
        response = client.get(url)
    assert response.status_code == 200
    return counted.count, html.unescape(response.get_data(as_text=True))


def _due_yesterday(db, pact_id: int) -> None:
    """The pact's next deadline fell due at the end of yesterday (a change of data, counted)."""
    pact = db.get(Pact, pact_id)
    yesterday = context.now().astimezone(ZONE).date() - timedelta(days=1)
    pact.next_deadline_at = end_of_local_day(yesterday, ZONE)
    pact.next_deadline_label = "first_contact"
    db.commit()


def test_a_kept_page_is_drawn_once_and_drawn_again_after_a_change(app, db, people):
    client = _signed_in(app, "giulia")
    url = f"/pacts/{people.pact.id}"
    first, _page = _statements(app, client, url)
    second, again = _statements(app, client, url)
    assert second < first and "Bianchi" in again
    people.beneficiary.last_name = "Bianchini"  # written elsewhere, as by another user
    db.commit()
    _count, changed = _statements(app, client, url)
    assert "Bianchini" in changed  # the change moved the data version: the part is drawn again


def test_oggi_is_drawn_again_after_a_move_and_when_the_day_ends(app, db, people, monkeypatch):
    today = context.now().astimezone(ZONE).date()
    ten_to_midnight = datetime.combine(today, time(23, 50), tzinfo=ZONE).astimezone(UTC)
    clock = [ten_to_midnight]
    monkeypatch.setattr(context, "now", lambda: clock[0])
    client = _signed_in(app, "giulia")
    _due_yesterday(db, people.pact.id)
    _count, page = _statements(app, client, "/")
    assert "Bianchi" in page and "1 giorno di ritardo" in page
    # Twenty minutes later it is another day, and nothing else changed: one more day late.
    clock[0] = ten_to_midnight + timedelta(minutes=20)
    _count, later = _statements(app, client, "/")
    assert "2 giorni di ritardo" in later
    # A move through the engine's own statement (past the ORM) is a change too.
    db.expire_all()
    pact = db.get(Pact, people.pact.id)
    ops.transition_pact(db, app.extensions["casework"]["registry"], pact, "withdraw", actor=people.manager,
                        clock=ops.Clock(clock[0], ZONE), reason="moved_away")
    db.commit()
    _count, after = _statements(app, client, "/")
    assert "giorni di ritardo" not in after and "0 in ritardo" in after


def test_each_viewer_gets_their_own_part(app, db, people):
    manager = _signed_in(app, "giulia")
    url = f"/pacts/{people.pact.id}"
    assert manager.get(url).status_code == 200
    stranger = _signed_in(app, "paolo")  # a supervisor of another territory
    assert stranger.get(url).status_code == 404
    colleague = _signed_in(app, "marco")  # same territory, not on the pact's équipe
    assert colleague.get(url).status_code in (403, 404)
    supervisor = _signed_in(app, "elena")
    page = supervisor.get(url).get_data(as_text=True)
    assert "(you)" not in page and "(tu)" not in page  # not the case manager's own words


def test_a_kept_part_carries_each_session_its_own_csrf_token(app, db, people):
    url = f"/pacts/{people.pact.id}"
    first = _signed_in(app, "giulia")
    second = _signed_in(app, "giulia")  # the same person on another computer
    token_one = CSRF.findall(first.get(url).get_data(as_text=True))
    token_two = CSRF.findall(second.get(url).get_data(as_text=True))
    assert token_one and token_two and set(token_one).isdisjoint(token_two)
    assert len(set(token_two)) == 1  # every form of the page carries the session's one token
    assert not any("kept-part-csrf" in token for token in token_one + token_two)
    # The second session saves from the kept page: its token is its own, so the save goes through.
    db.expire_all()
    version = db.get(Pact, people.pact.id).version
    response = second.post(f"{url}/referral", data={
        "referral-version": version, "referral-source": "school", "referral-reason": "assenze ripetute",
        "referral-referrer_name": "Prof.ssa Verdi", "referral-referrer_contact": "verdi@scuola.it",
        "referral-referred_on": context.now().astimezone(ZONE).date().isoformat(), "csrf_token": token_two[0],
    })
    assert response.status_code == 302
    assert "assenze ripetute" in html.unescape(second.get(url).get_data(as_text=True))


def test_the_access_log_has_every_viewing_of_a_kept_page(app, db, people):
    from sqlalchemy import func, select

    from casework.models import AccessLogEntry

    client = _signed_in(app, "giulia")
    for _ in range(3):
        assert client.get(f"/pacts/{people.pact.id}").status_code == 200
    viewed = db.scalar(select(func.count()).select_from(AccessLogEntry).where(
        AccessLogEntry.subject_type == "pact", AccessLogEntry.subject_id == people.pact.id,
        AccessLogEntry.action == "view"))
    assert viewed == 3


def test_a_refused_form_is_never_kept(app, db, people):
    client = _signed_in(app, "giulia")
    url = f"/pacts/{people.pact.id}"
    db.expire_all()
    version = db.get(Pact, people.pact.id).version
    refused = submit(client, f"{url}/referral", {"referral-version": version, "referral-reason": "x" * 5000},
                     form_page=url)
    assert refused.status_code == 422
    fresh = client.get(url).get_data(as_text=True)
    assert "x" * 5000 not in fresh and csrf_token(client, url) in fresh


@pytest.mark.parametrize(("username", "address"), [
    ("giulia", "/"), ("giulia", "/pacts/{pact}"), ("giulia", "/beneficiaries?q=Bianchi"), ("giulia", "/cerca?q=Bianchi"),
    ("elena", "/caseload/pacts?manager={manager}"), ("elena", "/indicators?start=2025-01-01&end=2025-12-31"),
])
def test_every_kept_page_shows_the_same_the_second_time_with_no_marker(app, db, people, username, address):
    client = _signed_in(app, username)
    url = address.format(pact=people.pact.id, manager=people.manager.id)
    first_count, first = _statements(app, client, url)
    second_count, second = _statements(app, client, url)
    assert second_count < first_count  # drawn once, then kept
    assert "kept-part-csrf" not in first + second
    assert CSRF.sub("", first) == CSRF.sub("", second)  # the same page, whatever the token
    tokens = set(CSRF.findall(second))
    assert len(tokens) == 1  # the header's forms and the kept part's carry the session's token


def test_the_list_is_drawn_again_for_other_filters_and_after_a_change(app, db, people):
    client = _signed_in(app, "giulia")
    code = people.beneficiary.codice_fiscale

    def found(text: str) -> bool:
        return code in client.get(f"/beneficiaries?q={text}").get_data(as_text=True)

    assert found("Bianchi") and not found("Verdi")
    people.beneficiary.last_name = "Verdi"
    db.commit()
    assert found("Verdi") and not found("Bianchi")
