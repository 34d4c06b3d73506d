"""Many people saving the same pact's forms at once, over a real HTTP server: no answer is a 500.

Every answer is either a saved form (a redirect) or the conflict page (409) with the typed
input kept, and what the database holds adds up: each save that was answered "saved" is
there, whole, and moved the pact's version by one; nothing refused left a trace.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select, update

from casework.models import Commitment, FollowUpContact, Goal, Pact, Referral, Screening
from casework.web.pacts.page import CONFLICT_MESSAGE
from tests.support import valid_answers
from tests.web.conftest import PASSWORD

ROME = ZoneInfo("Europe/Rome")
WORKERS = 10
ROUNDS = 4  # each round: read the page once, then send FORMS_PER_ROUND forms with the version read
FORMS_PER_ROUND = 3
TIME_LIMIT = 60  # seconds: a stuck server fails the test instead of hanging it

CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION = re.compile(r'name="referral-version" type="hidden" value="(\d+)"')


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app



def _forms(app: Flask, pact: Pact) -> dict[str, tuple[str, dict[str, str]]]:
    """Each form of the page as a browser would send it (path, fields), all of them valid."""
    questionnaire = app.extensions["casework"]["registry"].engine_for(pact).definition.questionnaire
    answers = {
        f"screening-q_{question}": ("yes" if value else "no") if isinstance(value, bool) else str(value)
        for question, value in valid_answers(questionnaire).items()
    }
    now = datetime.now(ROME)
    return {
        "referral": ("referral", {"referral-source": "school", "referral-reason": "assenze ripetute",
                                  "referral-referred_on": now.date().isoformat()}),
        "screening": ("screening", answers),
        "goal": ("goals", {"goal-description": "trovare casa", "goal-need_area": "", "goal-target_date": ""}),
        "commitment": ("commitments", {"commitment-party": "family", "commitment-text": "accompagnare"}),
        "contact": ("contacts", {"contact-contact_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                                 "contact-channel": "phone", "contact-notes": "sentita", "contact-next_contact_on": ""}),
    }


def test_many_people_saving_one_pact_get_saved_or_conflict_never_500(app, db, people, server):
    pact_id = people.pact.id
    # Opened two days ago, so a contact an hour ago falls inside the pact's life.
    db.execute(update(Pact).where(Pact.id == pact_id).values(opened_at=datetime.now(UTC) - timedelta(days=2)))
    db.commit()
    forms = _forms(app, db.get(Pact, pact_id))
    with app.test_request_context(), force_locale("it"):
        conflict_message = str(CONFLICT_MESSAGE)
    answers: list[tuple[str, int, bool]] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + TIME_LIMIT
    start = threading.Barrier(WORKERS, timeout=TIME_LIMIT)

    def work(seed: int) -> None:
        chooser = random.Random(seed)
        browser = requests.Session()
        try:
            login = browser.get(f"{server}/login", timeout=TIME_LIMIT)
            browser.post(f"{server}/login", timeout=TIME_LIMIT, data={
                "username": "giulia", "password": PASSWORD, "csrf_token": CSRF.search(login.text).group(1)})
            start.wait()
            for _ in range(ROUNDS):
                if time.monotonic() > deadline:
                    raise TimeoutError("the saves took too long")
                page = browser.get(f"{server}/pacts/{pact_id}", timeout=TIME_LIMIT)
                assert page.status_code == 200, page.status_code
                token, read = CSRF.search(page.text).group(1), VERSION.search(page.text).group(1)
                for name in chooser.sample(sorted(forms), FORMS_PER_ROUND):
                    path, data = forms[name]
                    prefix = "screening" if name == "screening" else name
                    answer = browser.post(
                        f"{server}/pacts/{pact_id}/{path}", allow_redirects=False, timeout=TIME_LIMIT,
                        data={**data, f"{prefix}-version": read, "csrf_token": token},
                    )
                    with lock:
                        answers.append((name, answer.status_code, conflict_message in answer.text))
        except Exception as error:  # noqa: BLE001 - reported by the test below
            with lock:
                failures.append(repr(error))
        finally:
            browser.close()

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIME_LIMIT + 10)

    assert failures == []
    statuses = Counter(status for _, status, _ in answers)
    assert len(answers) == WORKERS * ROUNDS * FORMS_PER_ROUND and statuses[500] == 0, statuses
    assert set(statuses) <= {302, 409}, statuses
    assert all(kept for _, status, kept in answers if status == 409)
    assert statuses[302] >= ROUNDS and statuses[409] > 0, statuses  # both happened: the race was real

    # Nothing half-saved: what was answered "saved" is all there, and only that moved the version.
    saved = Counter(name for name, status, _ in answers if status == 302)
    db.expire_all()

    def count(model) -> int:
        return db.scalar(select(func.count()).select_from(model).where(model.pact_id == pact_id))

    assert count(Goal) == saved["goal"]
    assert count(Commitment) == saved["commitment"]
    assert count(FollowUpContact) == saved["contact"]
    assert count(Screening) == saved["screening"]
    assert count(Referral) == (1 if saved["referral"] else 0)
    assert db.get(Pact, pact_id).version == 1 + sum(saved.values())
