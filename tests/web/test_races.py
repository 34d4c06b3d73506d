"""Races on every versioned form, over a real HTTP server: each loser is told, none gets a 500.

Several people read the same form at the same version (a barrier: every read is done before
any save is sent), then all send it at once. Exactly one save wins each round; every other
answer is the form's conflict page (409) with what that person typed kept; the database
holds the winner's values, and the record's version moved once per accepted save.

Every versioned form: the pact's referral, screening, goal and action (their edit pages),
signature, contact and outcome; the person's record; the programme; the caseload's
reassignment; a referral to a service; and the registration of one person by many at once
(its codice fiscale is unique: the others are told she is registered).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from flask import Flask
from flask_babel import force_locale
from flask_babel import gettext as translate
from sqlalchemy import func, select, update

from casework.models import (
    Action,
    Beneficiary,
    FollowUpContact,
    Goal,
    Pact,
    PactOutcome,
    Performer,
    Programme,
    Screening,
    ServiceReferral,
)
from casework.pacts import operations as ops
from casework.services import propose_referral
from casework.web.pacts.goals import CONFLICT as ITEM_CONFLICT
from casework.web.pacts.page import CONFLICT_MESSAGE
from casework.web.people.beneficiaries import ERROR_MESSAGES as PEOPLE_ERRORS
from casework.web.services.referrals import CONFLICT_MESSAGE as SERVICES_CONFLICT
from tests.conftest import ZONE
from tests.services.referral_helpers import make_service
from tests.support import valid_answers
from tests.web.conftest import PASSWORD, People

PEOPLE = 4  # threads sending each round
ROUNDS = 2
TIME_LIMIT = 60  # seconds: a stuck server fails the test instead of hanging it


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app



# --- Reading a form as a browser sends it ---------------------------------------------------


class _FormReader(HTMLParser):
    """The fields of the POST form whose action is `action`, with the values a browser would send
    (a form without an action posts to its page: `page`)."""

    def __init__(self, action: str, page: str):
        super().__init__(convert_charrefs=True)
        self.action, self.page = action, page
        self.inside = False
        self.found = False
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("method", "").lower() == "post" and found.get("action", self.page) == self.action
            self.found = self.found or self.inside
            return
        if not self.inside or not found.get("name"):
            if tag == "option" and self.inside and self._select is not None:
                self._option(found)
            return
        name = found["name"]
        if tag == "input":
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self.fields[name] = found.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = found.get("value", "")
        elif tag == "select":
            self._select, self._select_first = name, None
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = ""

    def _option(self, found: dict[str, str]) -> None:
        if self._select_first is None:
            self._select_first = found.get("value", "")
            self.fields.setdefault(self._select, self._select_first)
        if "selected" in found:
            self.fields[self._select] = found.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data


def form_fields(page: str, action: str, path: str) -> dict[str, str]:
    reader = _FormReader(action, path)
    reader.feed(page)
    assert reader.found, f"no form posting to {action} on the page"
    return reader.fields


# --- The race ---------------------------------------------------------------------------------


@dataclass
class Answer:
    round: int
    person: int
    status: int
    marker: str
    page: str


@dataclass
class Race:
    """One form raced: who reads it where, what each person changes in it, how to check the result."""

    username: str
    page: str  # the page that shows the form
    action: str  # where it posts
    fill: Callable[[dict[str, str], str, str], dict[str, str]]  # (fields read, page, marker) -> fields sent
    conflict_message: str
    keeps_marker: bool = True  # whether the 409 page shows the marker typed (a text field)
    before_round: Callable[[int], None] = field(default=lambda number: None)
    people: int = PEOPLE
    rounds: int = ROUNDS


def run_race(server: str, race: Race) -> list[Answer]:
    answers: list[Answer] = []
    failures: list[str] = []
    lock = threading.Lock()
    rounds = iter(range(race.rounds))
    current = {"round": -1}

    def next_round() -> None:  # run by one thread when all arrive: nobody reads before it is done
        current["round"] = next(rounds)
        race.before_round(current["round"])

    starting = threading.Barrier(race.people, action=next_round, timeout=TIME_LIMIT)
    read = threading.Barrier(race.people, timeout=TIME_LIMIT)

    def person(number: int) -> None:
        browser = requests.Session()
        try:
            login = browser.get(f"{server}/login", timeout=TIME_LIMIT)
            signed = browser.post(f"{server}/login", allow_redirects=False, timeout=TIME_LIMIT, data={
                "username": race.username, "password": PASSWORD, "csrf_token": _csrf(login.text)})
            assert signed.status_code == 302, signed.status_code
            for _ in range(race.rounds):
                starting.wait()
                page = browser.get(f"{server}{race.page}", timeout=TIME_LIMIT)
                assert page.status_code == 200, (race.page, page.status_code)
                marker = f"persona {number} giro {current['round']}"
                data = race.fill(form_fields(page.text, race.action, race.page), page.text, marker)
                read.wait()  # everyone has read the same version before anyone saves
                answer = browser.post(f"{server}{race.action}", data=data, allow_redirects=False, timeout=TIME_LIMIT)
                with lock:
                    answers.append(Answer(current["round"], number, answer.status_code, marker, answer.text))
        except Exception as error:  # noqa: BLE001 - reported by the test
            with lock:
                failures.append(repr(error))
            starting.abort()
            read.abort()
        finally:
            browser.close()

    threads = [threading.Thread(target=person, args=(number,)) for number in range(race.people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT * race.rounds)
    assert failures == [], failures
    return answers


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def check_answers(race: Race, answers: list[Answer]) -> list[Answer]:
    """Each round: one save accepted, every other person told of the conflict with their input kept.
    Returns the accepted saves, in order."""
    statuses = Counter(answer.status for answer in answers)
    assert statuses[500] == 0, statuses
    assert len(answers) == race.people * race.rounds, statuses
    winners = []
    for number in range(race.rounds):
        this_round = [answer for answer in answers if answer.round == number]
        accepted = [answer for answer in this_round if answer.status in (302, 303)]
        assert len(accepted) == 1, Counter(answer.status for answer in this_round)
        winners.extend(accepted)
        for loser in this_round:
            if loser is accepted[0]:
                continue
            assert loser.status == 409, (loser.status, _alerts(loser.page))
            page = unescape(loser.page)
            assert race.conflict_message in page, page[:3000]
            if race.keeps_marker:
                assert loser.marker in page
    return winners


def _alerts(page: str) -> list[str]:
    """What a page says in its alerts and next to its fields: why a save was refused."""
    return [re.sub(r"\s+", " ", unescape(text)).strip()
            for text in re.findall(r'class="[^"]*(?:alert|invalid-feedback)[^"]*"[^>]*>(.*?)</', page, re.DOTALL)]


def italian(app: Flask, message: Any) -> str:
    """A message as the Italian page shows it (a lazy text, or a source string)."""
    with app.test_request_context(), force_locale("it"):
        return translate(message) if isinstance(message, str) else str(message)


# --- The pact's forms -------------------------------------------------------------------------


def _pact_ready(db, people: People) -> Pact:
    """Giulia's pact, opened two days ago (a contact an hour ago falls within it), with a goal and
    an action (the goal and action edit forms, the signature)."""
    pact = db.get(Pact, people.pact.id)
    clock = ops.Clock(datetime.now(UTC), ZONE)
    db.execute(update(Pact).where(Pact.id == pact.id).values(opened_at=datetime.now(UTC) - timedelta(days=2)))
    db.refresh(pact)
    goal = ops.add_goal(db, pact, description="trovare casa", clock=clock)
    ops.add_action(db, pact, description="colloquio", performer=Performer.FAMILY, goal=goal, clock=clock)
    db.commit()
    return pact


def _version(db, pact_id: int) -> int:
    db.expire_all()
    return db.scalar(select(Pact.version).where(Pact.id == pact_id))


def _setting(**values: str) -> Callable[[dict[str, str], str, str], dict[str, str]]:
    """Fill: the fields as read, with `values` set ("{marker}" is this person's marker)."""
    def fill(fields: dict[str, str], page: str, marker: str) -> dict[str, str]:
        return {**fields, **{name: value.format(marker=marker) for name, value in values.items()}}

    return fill


def _pact_race(app: Flask, db, people: People, name: str) -> tuple[Race, Callable[[list[Answer]], None]]:
    """The race of one of the pact's forms, and the check of what the database holds after it."""
    pact = _pact_ready(db, people)
    pact_id, goal_id, action_id = pact.id, pact.goals[0].id, pact.actions[0].id
    start = _version(db, pact_id)
    page = f"/pacts/{pact_id}"
    now = datetime.now(ZONE)
    clock = ops.Clock(datetime.now(UTC), ZONE)
    message = italian(app, CONFLICT_MESSAGE)

    def versions_moved(winners: list[Answer]) -> None:
        assert _version(db, pact_id) == start + len(winners)

    if name == "referral":
        def stored(winners: list[Answer]) -> None:
            versions_moved(winners)
            assert db.get(Pact, pact_id).referral.reason == winners[-1].marker

        return Race("giulia", page, f"{page}/referral", _setting(**{
            "referral-source": "school", "referral-reason": "{marker}",
            "referral-referred_on": now.date().isoformat()}), message), stored

    if name == "screening":
        questionnaire = app.extensions["casework"]["registry"].engine_for(pact).definition.questionnaire
        answers = {f"screening-q_{question}": ("yes" if value else "no") if isinstance(value, bool) else str(value)
                   for question, value in valid_answers(questionnaire).items()}

        def screenings(winners: list[Answer]) -> None:
            versions_moved(winners)
            count = db.scalar(select(func.count()).select_from(Screening).where(Screening.pact_id == pact_id))
            assert count == len(winners)

        return Race("giulia", page, f"{page}/screening", _setting(**answers), message, keeps_marker=False), screenings

    if name in ("goal", "action"):
        item_id, model = (goal_id, Goal) if name == "goal" else (action_id, Action)
        edit = f"/pacts/{pact_id}/{name}s/{item_id}/edit"

        def edited(winners: list[Answer]) -> None:
            versions_moved(winners)
            db.expire_all()
            assert db.get(model, item_id).description == winners[-1].marker

        return Race("giulia", edit, edit, _setting(**{f"{name}-description": "{marker}"}),
                    italian(app, ITEM_CONFLICT)), edited

    if name == "signature":
        def change_content(number: int) -> None:
            """The revision to sign, printed: a pact is signed again only once its content changed."""
            db.expire_all()
            current = db.get(Pact, pact_id)
            if number:
                ops.add_goal(db, current, description=f"obiettivo {number}", clock=clock)
            ops.prepare_revision(db, current, actor=None, clock=clock)
            db.commit()

        def signed(winners: list[Answer]) -> None:
            db.expire_all()
            revisions = db.get(Pact, pact_id).revisions
            assert [revision.signed_by for revision in revisions] == [winner.marker for winner in winners]
            # Each round also added a goal (but the first) and prepared the revision.
            assert _version(db, pact_id) == start + len(winners) + (ROUNDS - 1) + ROUNDS

        return Race("giulia", page, f"{page}/signature", _setting(**{
            "signature-signed_by": "{marker}", "signature-signed_on": now.date().isoformat(),
            "signature-consent_given": "y"}), message, before_round=change_content), signed

    if name == "contact":
        def contacts(winners: list[Answer]) -> None:
            versions_moved(winners)
            notes = db.scalars(select(FollowUpContact.notes).where(FollowUpContact.pact_id == pact_id)).all()
            assert sorted(notes) == sorted(winner.marker for winner in winners)

        return Race("giulia", page, f"{page}/contacts", _setting(**{
            "contact-contact_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "contact-channel": "phone",
            "contact-notes": "{marker}", "contact-next_contact_on": ""}), message), contacts

    assert name == "outcome"
    outcome = next(iter(app.extensions["casework"]["registry"].engine_for(pact).definition.outcomes))

    def outcome_stored(winners: list[Answer]) -> None:
        versions_moved(winners)
        db.expire_all()
        assert db.scalar(select(PactOutcome.notes).where(PactOutcome.pact_id == pact_id)) == winners[-1].marker

    return Race("giulia", page, f"{page}/outcome", _setting(**{
        "outcome-outcome": outcome, "outcome-goals_achieved": "partly", "outcome-notes": "{marker}"}),
        message), outcome_stored


@pytest.mark.parametrize("name", ["referral", "screening", "goal", "action", "signature", "contact", "outcome"])
def test_racing_saves_of_a_pact_form(app, db, people, server, name):
    race, stored = _pact_race(app, db, people, name)
    winners = check_answers(race, run_race(server, race))
    stored(winners)


def test_twenty_people_saving_one_referral(app, db, people, server):
    """The report: twenty people saving the same pact's referral at once, round after round."""
    race, stored = _pact_race(app, db, people, "referral")
    race.people = 20
    winners = check_answers(race, run_race(server, race))
    stored(winners)


# --- The person, the programme, the reassignment --------------------------------------------


def test_racing_saves_of_a_person(app, db, people, server):
    person_id = people.beneficiary.id
    start = db.get(Beneficiary, person_id).version
    path = f"/beneficiaries/{person_id}/edit"
    race = Race("giulia", path, path, _setting(address="{marker}"), italian(app, (
        "Someone else changed this person's record while you were working on it. Nothing was saved: "
        "check the current record and send your changes again.")))
    winners = check_answers(race, run_race(server, race))
    db.expire_all()
    person = db.get(Beneficiary, person_id)
    assert person.address == winners[-1].marker
    assert person.version == start + len(winners)


def test_racing_saves_of_a_programme(app, db, people, server):
    programme_id = people.programme.id
    path = f"/programmes/{programme_id}/edit"
    race = Race("elena", path, path, _setting(description="{marker}"), italian(app, (
        "Someone else changed this programme while you were working on it. Nothing was saved: "
        "check the programme as saved now and send your changes again.")))
    winners = check_answers(race, run_race(server, race))
    db.expire_all()
    assert db.get(Programme, programme_id).description == winners[-1].marker


def test_racing_reassignments(app, db, people, server):
    pact_id = people.pact.id
    start = _version(db, pact_id)
    managers = {people.manager.id: people.colleague.id, people.colleague.id: people.manager.id}
    target: dict[str, int] = {}

    def reassign(fields: dict[str, str], page: str, marker: str) -> dict[str, str]:
        version = re.search(rf'value="{pact_id}:(\d+)"', page).group(1)
        return {**fields, "reassign-pacts": f"{pact_id}:{version}", "reassign-to_manager": str(target["id"]),
                "reassign-reason": marker}

    def holder_now(number: int) -> None:  # each round hands the pact to whoever does not hold it
        db.expire_all()
        target["id"] = managers[db.scalar(select(Pact.case_manager_id).where(Pact.id == pact_id))]

    race = Race("elena", "/caseload/pacts", "/caseload/reassign", reassign, italian(app, (
        "Pact no. %(number)s was changed by someone else while you were choosing: nothing was reassigned. "
        "Check the list below and submit again.")) % {"number": pact_id}, before_round=holder_now)
    winners = check_answers(race, run_race(server, race))
    assert _version(db, pact_id) == start + len(winners)
    assert db.scalar(select(Pact.case_manager_id).where(Pact.id == pact_id)) == (
        people.manager.id if len(winners) % 2 == 0 else people.colleague.id)


def test_two_people_registering_the_same_person_at_once(app, db, people, server):
    """The codice fiscale is unique: of the registrations sent at once one is saved, the others
    are told the person is already registered (their input kept); none is a 500."""
    code = "RSSLCU85D43L219Y"
    race = Race("giulia", "/beneficiaries/new", "/beneficiaries/new", _setting(
        first_name="Lucia", last_name="Rossi", gender="female", codice_fiscale=code, address="{marker}"), "")
    answers = run_race(server, race)
    statuses = Counter(answer.status for answer in answers)
    assert statuses == {302: 1, 422: PEOPLE * ROUNDS - 1}, statuses  # a second round finds her registered
    told = italian(app, PEOPLE_ERRORS["already_registered"])
    for loser in (answer for answer in answers if answer.status == 422):
        assert told in _alerts(loser.page) and loser.marker in unescape(loser.page)
    registered = db.scalars(select(Beneficiary.address).where(Beneficiary.codice_fiscale == code)).all()
    assert registered == [next(answer.marker for answer in answers if answer.status == 302)]


def test_racing_saves_of_a_referral_to_a_service(app, db, people, server):
    now = datetime.now(UTC)
    service = make_service(db, people.beneficiary.comune, now=now)
    referral = propose_referral(db, people.manager, people.pact, service.id, now=now, need_area="lavoro")
    db.commit()
    referral_id, start = referral.id, referral.version
    page = f"/pacts/{people.pact.id}"
    race = Race("giulia", page, f"{page}/services/{referral_id}/contact", _setting(**{
        f"contact-{referral_id}-provider_contact": "{marker}"}), italian(app, SERVICES_CONFLICT))
    winners = check_answers(race, run_race(server, race))
    db.expire_all()
    stored = db.get(ServiceReferral, referral_id)
    assert stored.provider_contact == winners[-1].marker
    assert stored.version == start + len(winners)
