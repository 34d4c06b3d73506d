"""Editing a goal or an action on its own page: history kept, 409 on a stale version with the
input kept, 422 with every wrong field marked, 404 for a pact one may not see, 403 for an
administrator. On both databases."""

from __future__ import annotations

import html as html_module
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from casework.clock import Clock
from casework.models import Action, ChangeRecord, Goal, Pact, Performer
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def items(db, people):
    pact = db.get(Pact, people.pact.id)
    clock = Clock(datetime.now(UTC), ZONE)
    goal = ops.add_goal(db, pact, description="Trovare lavoro", need_area="lavoro", target_date=date(2026, 6, 30),
                        clock=clock)
    action = ops.add_action(db, pact, description="Iscrizione al centro per l'impiego", performer=Performer.BENEFICIARY,
                            goal=goal, clock=clock)
    db.commit()
    return goal.id, action.id


def signed_in(app, username: str, *, english: bool = True):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def text(response) -> str:
    return html_module.unescape(response.get_data(as_text=True))


def version(db, pact_id: int) -> int:
    db.expire_all()
    return db.get(Pact, pact_id).version


def goal_url(pact_id: int, goal_id: int) -> str:
    return f"/pacts/{pact_id}/goals/{goal_id}/edit"


def action_url(pact_id: int, action_id: int) -> str:
    return f"/pacts/{pact_id}/actions/{action_id}/edit"


def test_the_pact_page_links_each_goal_and_action_to_its_edit_page(app, people, items):
    goal_id, action_id = items
    page = signed_in(app, "giulia").get(f"/pacts/{people.pact.id}").get_data(as_text=True)
    assert f'href="{goal_url(people.pact.id, goal_id)}"' in page
    assert f'href="{action_url(people.pact.id, action_id)}"' in page


def test_a_goal_is_edited_and_its_history_shows_before_and_after(app, db, people, items):
    goal_id, _ = items
    client = signed_in(app, "giulia")
    form = text(client.get(goal_url(people.pact.id, goal_id)))
    assert "Trovare lavoro" in form and "Not changed since it was entered." in form
    assert re.search(r'<textarea[^>]*maxlength="2000"', form)

    response = submit(client, goal_url(people.pact.id, goal_id), {
        "goal-version": version(db, people.pact.id), "goal-description": "Trovare un lavoro part-time",
        "goal-need_area": "lavoro", "goal-target_date": "2026-09-30",
    })
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/pacts/{people.pact.id}#goal-{goal_id}")
    db.expire_all()
    goal = db.get(Goal, goal_id)
    assert (goal.description, goal.target_date) == ("Trovare un lavoro part-time", date(2026, 9, 30))

    history = text(client.get(goal_url(people.pact.id, goal_id)))
    assert re.search(r"Description</th><td>Trovare lavoro</td><td>Trovare un lavoro part-time</td>", history)
    assert re.search(r"Target date</th><td>30/06/2026</td><td>30/09/2026</td>", history)
    timeline = text(client.get(f"/pacts/{people.pact.id}/timeline"))
    assert "Pact changed: target date of a goal (Trovare un lavoro part-time)" in timeline
    assert "Before: 30/06/2026" in timeline and "After: 30/09/2026" in timeline


def test_an_action_is_edited_with_who_does_it_in_words(app, db, people, items):
    goal_id, action_id = items
    client = signed_in(app, "giulia", english=False)
    response = submit(client, action_url(people.pact.id, action_id), {
        "action-version": version(db, people.pact.id), "action-description": "Iscrizione al centro per l'impiego",
        "action-performer": "service", "action-performer_detail": "CPI Settimo", "action-due_on": "",
        "action-goal": str(goal_id),
    })
    assert response.status_code == 302
    db.expire_all()
    assert (db.get(Action, action_id).performer, db.get(Action, action_id).performer_detail) == (
        Performer.SERVICE, "CPI Settimo")
    history = text(client.get(action_url(people.pact.id, action_id)))
    assert "Chi la svolge</th><td>Persona beneficiaria</td><td>Un servizio</td>" in history


def test_a_stale_version_answers_409_keeping_the_input_and_showing_what_is_saved(app, db, people, items):
    goal_id, _ = items
    client = signed_in(app, "giulia")
    read = version(db, people.pact.id)
    ops.add_commitment(db, db.get(Pact, people.pact.id), party=Performer.FAMILY, text="Accompagnare ai colloqui",
                       clock=Clock(datetime.now(UTC), ZONE))
    db.commit()
    response = submit(client, goal_url(people.pact.id, goal_id), {
        "goal-version": read, "goal-description": "Il mio testo nuovo", "goal-need_area": "", "goal-target_date": "",
    })
    assert response.status_code == 409
    page = text(response)
    assert "Il mio testo nuovo" in page and "As saved now" in page and "Trovare lavoro" in page
    assert f'name="goal-version" type="hidden" value="{version(db, people.pact.id)}"' in page
    db.expire_all()
    assert db.get(Goal, goal_id).description == "Trovare lavoro"
    assert db.scalars(select(ChangeRecord)).all() == []


def test_bad_input_answers_422_with_every_wrong_field_marked(app, db, people, items):
    goal_id, action_id = items
    client = signed_in(app, "giulia")
    response = submit(client, goal_url(people.pact.id, goal_id), {
        "goal-version": version(db, people.pact.id), "goal-description": "", "goal-need_area": "astrologia",
        "goal-target_date": "domani",
    })
    assert response.status_code == 422
    page = text(response)
    assert "Correct 3 errors" in page and "data-error-summary" in page
    for field in ("goal-description", "goal-need_area", "goal-target_date"):
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field}"', page), field
        assert f'<a href="#{field}">' in page
    response = submit(client, action_url(people.pact.id, action_id), {
        "action-version": version(db, people.pact.id), "action-description": "x" * 2001, "action-performer": "",
        "action-performer_detail": "", "action-due_on": "", "action-goal": "",
    })
    assert response.status_code == 422
    assert "Correct 2 errors" in text(response)
    db.expire_all()
    assert db.get(Goal, goal_id).description == "Trovare lavoro"


def test_who_may_not_see_the_pact_gets_404_and_an_administrator_403(app, db, people, items):
    goal_id, action_id = items
    for username, status in (("marco", 404), ("paolo", 404), ("admin", 403)):
        client = signed_in(app, username)
        for url in (goal_url(people.pact.id, goal_id), action_url(people.pact.id, action_id)):
            assert client.get(url).status_code == status, (username, url)
            assert submit(client, url, {"goal-version": 1, "goal-description": "x", "action-version": 1,
                                        "action-description": "x", "action-performer": "family"},
                          form_page="/").status_code == status
    assert signed_in(app, "elena").get(goal_url(people.pact.id, goal_id)).status_code == 200
    assert signed_in(app, "giulia").get(goal_url(people.pact.id, 999_999)).status_code == 404
    assert signed_in(app, "giulia").get(action_url(people.pact.id + 1000, action_id)).status_code == 404
    db.expire_all()
    assert db.get(Goal, goal_id).description == "Trovare lavoro"


def test_a_form_without_its_version_is_refused_saying_to_reload(app, db, people, items):
    goal_id, _ = items
    response = submit(signed_in(app, "giulia"), goal_url(people.pact.id, goal_id), {
        "goal-version": "", "goal-description": "Nuovo testo", "goal-need_area": "", "goal-target_date": ""})
    assert response.status_code == 422
    page = text(response)
    assert "This form is incomplete or out of date: reload the page" in page
    assert "Correct 1 error" not in page  # nothing the person can correct in a field
    assert 'href="#goal-version"' not in page  # a hidden field is no link
    db.expire_all()
    assert db.get(Goal, goal_id).description == "Trovare lavoro"


def test_a_closed_pact_shows_no_form_and_refuses_a_post(app, db, people, items):
    goal_id, _ = items
    pact = db.get(Pact, people.pact.id)
    pact.closed_at = datetime.now(UTC)
    db.commit()
    client = signed_in(app, "giulia")
    page = text(client.get(goal_url(people.pact.id, goal_id)))
    assert "This pact is closed" in page and "Save changes" not in page
    response = submit(client, goal_url(people.pact.id, goal_id), {
        "goal-version": version(db, people.pact.id), "goal-description": "Altro", "goal-need_area": "",
        "goal-target_date": ""}, form_page="/")
    assert response.status_code == 422 and "This pact is closed" in text(response)
    db.expire_all()
    assert db.get(Goal, goal_id).description == "Trovare lavoro"
