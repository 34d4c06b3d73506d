"""The approvals queue: who opens it, what it lists, approving, sending back, conflicts; the pact page's status."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from casework.models import ApprovalDecision, Notification, Pact, PactApproval, Performer, Programme
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.support import advance
from tests.web.conftest import csrf_token, sign_in, submit

ROME = ZoneInfo("Europe/Rome")


def signed_in(app, username: str | None):
    client = app.test_client()
    if username:
        sign_in(client, username)
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def current(db, pact_id: int) -> Pact:
    db.expire_all()
    return db.get(Pact, pact_id)


def decisions(db) -> list[PactApproval]:
    db.expire_all()
    return list(db.scalars(select(PactApproval)))


@pytest.fixture
def registry(app):
    return app.extensions["casework"]["registry"]


@pytest.fixture
def waiting(app, db, people, registry) -> Pact:
    """A CHANCE pact of Giulia's at the individual project, revision 1 signed: it waits for approval."""
    chance = Programme(code="CHANCE", name="CHANCE", funder="Fondazione Cariplo", territory=people.programme.territory,
                       starts_on=date(2025, 1, 1), workflow_name="chance_dispersione")
    db.add(chance)
    db.commit()
    clock = ops.Clock(datetime.now(UTC), ZONE)
    pact = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=chance, case_manager=people.manager,
                         actor=people.manager, clock=clock)
    db.commit()
    for event in ("submit_to_equipe", "take_in", "start_project"):
        advance(db, registry, pact, event, people.manager, clock)
    goal = ops.add_goal(db, pact, description="tornare a scuola", need_area="istruzione", clock=clock)
    ops.add_action(db, pact, description="colloquio con la scuola", performer=Performer.CASE_MANAGER, goal=goal,
                   clock=clock)
    ops.sign_pact(db, pact, signed_on=clock.now.astimezone(ZONE).date(), signed_by="Maria Bianchi", consent_given=True,
                  actor=people.manager, clock=clock)
    db.commit()
    return pact


def decide(client, pact_id: int, kind: str, version: int, comment: str = ""):
    path = "approve" if kind == "approve" else "send-back"
    return submit(client, f"/approvals/{pact_id}/{path}",
                  {f"{kind}-{pact_id}-version": version, f"{kind}-{pact_id}-comment": comment}, form_page="/approvals")


# Who opens the queue --------------------------------------------------------------------------------

@pytest.mark.parametrize(("username", "status"), [("elena", 200), ("paolo", 200), ("giulia", 403), ("admin", 403)])
def test_the_queue_is_for_supervisors(app, waiting, username, status):
    assert signed_in(app, username).get("/approvals").status_code == status


def test_signing_in_is_required(app, waiting):
    response = app.test_client().get("/approvals")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_menu_offers_approvals_to_supervisors_only(app, waiting):
    assert 'href="/approvals"' in text(signed_in(app, "elena").get("/"))
    assert 'href="/approvals"' not in text(signed_in(app, "giulia").get("/"))


@pytest.mark.parametrize(("username", "status"), [("giulia", 403), ("paolo", 404)])
def test_only_a_supervisor_who_sees_the_pact_may_decide(app, db, waiting, username, status):
    client = signed_in(app, username)
    response = submit(client, f"/approvals/{waiting.id}/approve",
                      {f"approve-{waiting.id}-version": waiting.version}, form_page="/")
    assert response.status_code == status
    assert decisions(db) == []


# What it lists ---------------------------------------------------------------------------------------

def test_the_queue_shows_the_pact_and_its_revision(app, waiting):
    page = text(signed_in(app, "elena").get("/approvals"))
    assert f'id="approval-{waiting.id}"' in page
    assert f'<a href="/pacts/{waiting.id}">Maria Bianchi</a> · CHANCE' in page
    assert "Giulia Rossi" in page and "Individual project" in page
    today = datetime.now(ROME).strftime("%d/%m/%Y")
    assert f"Revision 1, prepared on {today}." in page and f"Signed on {today}." in page
    assert f'href="/pacts/{waiting.id}/print">Print view of revision 1</a>' in page
    assert f"since {today} · 0 working days" in page
    assert f'id="approve-{waiting.id}-version" name="approve-{waiting.id}-version" type="hidden" value="{waiting.version}"' in page
    assert f'action="/approvals/{waiting.id}/send-back"' in page


def test_another_territorys_supervisor_sees_an_empty_queue(app, waiting):
    page = text(signed_in(app, "paolo").get("/approvals"))
    assert "No pact is waiting for approval." in page and "Maria Bianchi" not in page


# Deciding -------------------------------------------------------------------------------------------------

def test_approving_tells_the_case_manager_and_lets_the_accompaniment_start(app, db, people, waiting):
    elena = signed_in(app, "elena")
    response = decide(elena, waiting.id, "approve", waiting.version, "Progetto chiaro.")
    assert response.status_code == 302 and response.headers["Location"] == "/approvals"
    page = text(elena.get("/approvals"))
    assert "Pact approved: the case manager has been notified." in page
    assert "No pact is waiting for approval." in page
    [approval] = decisions(db)
    assert (approval.decision, approval.comment, approval.decided_by_id) == (
        ApprovalDecision.APPROVED, "Progetto chiaro.", people.supervisor.id)

    giulia = signed_in(app, "giulia")
    pact_page = text(giulia.get(f"/pacts/{waiting.id}"))
    assert "Revision 1 approved by Elena Rossi on" in pact_page and "Comment: Progetto chiaro." in pact_page
    assert 'name="event" value="start_accompaniment"' in pact_page
    assert "revision 1 was approved by Elena Rossi" in text(giulia.get("/notifications"))


def test_sending_back_without_a_comment_is_refused_next_to_the_field(app, db, waiting):
    read = waiting.version
    response = decide(signed_in(app, "elena"), waiting.id, "send_back", read, "   ")
    assert response.status_code == 422
    page = text(response)
    assert f'id="send_back-{waiting.id}-comment-error"' in page
    assert "Say what needs to change: the case manager reads it." in page
    assert decisions(db) == [] and current(db, waiting.id).version == read


def test_sending_back_keeps_the_pact_where_it_is_and_says_why(app, db, waiting):
    read = waiting.version
    response = decide(signed_in(app, "elena"), waiting.id, "send_back", read, "Manca un obiettivo sulla frequenza.")
    assert response.status_code == 302
    pact = current(db, waiting.id)
    assert pact.state == "individual_project" and pact.version == read + 1
    giulia = signed_in(app, "giulia")
    page = text(giulia.get(f"/pacts/{waiting.id}"))
    assert "Revision 1 sent back by Elena Rossi on" in page and "Manca un obiettivo sulla frequenza." in page
    assert "the pact has not been approved by a supervisor yet" in page
    assert 'name="event" value="start_accompaniment"' not in page
    assert "Manca un obiettivo sulla frequenza." in text(giulia.get("/notifications"))
    assert db.scalar(select(func.count()).select_from(Notification)) == 1


def test_a_decision_on_a_stale_queue_is_a_conflict_and_keeps_the_comment(app, db, people, registry, waiting):
    read = waiting.version
    giulia = signed_in(app, "giulia")  # the case manager changes the pact meanwhile
    submit(giulia, f"/pacts/{waiting.id}/commitments",
           {"commitment-version": read, "commitment-party": "family", "commitment-text": "accompagnare a scuola"},
           form_page=f"/pacts/{waiting.id}")
    now = current(db, waiting.id).version
    assert now == read + 1

    response = decide(signed_in(app, "elena"), waiting.id, "send_back", read, "Rivedere gli impegni.")
    assert response.status_code == 409
    page = text(response)
    assert "Someone else changed this pact while you were editing" in page
    assert "Rivedere gli impegni." in page
    assert f'id="send_back-{waiting.id}-version" name="send_back-{waiting.id}-version" type="hidden" value="{now}"' in page
    assert decisions(db) == []


def test_a_supervisor_cannot_approve_a_revision_they_prepared(app, db, people, registry, waiting):
    pact = current(db, waiting.id)
    ops.add_goal(db, pact, description="laboratorio pomeridiano", clock=ops.Clock(datetime.now(UTC), ZONE))
    ops.prepare_revision(db, pact, actor=db.get(type(people.supervisor), people.supervisor.id),
                         clock=ops.Clock(datetime.now(UTC), ZONE))
    db.commit()
    elena = signed_in(app, "elena")
    page = text(elena.get("/approvals"))
    assert "You prepared this revision: another supervisor must approve it." in page
    assert f'action="/approvals/{pact.id}/approve"' not in page
    response = decide(elena, pact.id, "approve", pact.version)
    assert response.status_code == 422
    assert "You prepared this revision: another supervisor must approve it." in text(response)
    assert decisions(db) == []


# The pact page -------------------------------------------------------------------------------------------

def test_the_pact_page_says_the_pact_waits_and_leads_a_supervisor_to_the_queue(app, waiting):
    supervisor_page = text(signed_in(app, "elena").get(f"/pacts/{waiting.id}"))
    assert "Revision 1 is waiting for a supervisor's approval." in supervisor_page
    assert f'href="/approvals#approval-{waiting.id}"' in supervisor_page
    manager_page = text(signed_in(app, "giulia").get(f"/pacts/{waiting.id}"))
    assert "Revision 1 is waiting for a supervisor's approval." in manager_page
    assert "A supervisor approves the pact before: Start accompaniment." in manager_page
    assert 'href="/approvals' not in manager_page


def test_a_pact_of_a_workflow_without_approval_shows_no_approval(app, people):
    assert "Supervisor approval" not in text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
