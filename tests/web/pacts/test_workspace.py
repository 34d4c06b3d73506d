"""The pact page as a workspace: header, moves, parts, refused forms, `next`, query counts.

Runs on SQLite and, when configured, on PostgreSQL (`app` is the `engine_app` fixture).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, update

from casework.models import ContactChannel, JournalKind, Pact, Performer, Programme
from casework.pacts import casefile
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.web.pacts.test_page import (
    current,
    fields,
    move,
    post,
    reach,
    signed_in,
    text,
    today,
    version,
)


@pytest.fixture
def app(engine_app):
    return engine_app


def section(page: str, anchor: str) -> str:
    """The HTML of the part `anchor` of the page."""
    found = re.search(rf'<section id="{anchor}".*?</section>', page, re.DOTALL)
    assert found, anchor
    return found.group(0)


def part_order(page: str) -> list[str]:
    return re.findall(r'data-part-link="([a-z-]+)"', page)


# The header --------------------------------------------------------------------------------------

def test_the_header_says_who_what_where_and_by_when(app, people):
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    header = re.search(r'<header class="workspace-header".*?</header>', page, re.DOTALL).group(0)
    assert "Pact of Maria Bianchi" in header
    assert "Stage: <strong>Referral</strong>" in header
    assert re.search(r'data-deadline-state="(on_time|due_soon|today)"', header)
    assert "days left" in header
    # The only move possible at the referral stage is the withdrawal: a destructive one, apart.
    assert 'class="workspace-moves-apart"' in header and "move-destructive" in header
    assert "move-forward" not in header


def test_the_programme_is_shown_once_when_the_workflow_is_named_after_it(app, db, people):
    db.execute(update(Programme).where(Programme.id == people.programme.id).values(name="Patto personalizzato"))
    db.commit()
    client = signed_in(app, "giulia", english=False)  # the workflow's Italian name is the programme's
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert '<span class="workspace-programme">Patto personalizzato</span>' in page
    assert "Patto personalizzato · Patto personalizzato" not in page
    db.execute(update(Programme).where(Programme.id == people.programme.id).values(name="TILDE"))
    db.commit()
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert '<span class="workspace-programme">TILDE · Patto personalizzato</span>' in page


def test_the_header_shows_the_pact_number_the_search_finds_it_by(app, people):
    page = text(signed_in(app, "giulia", english=False).get(f"/pacts/{people.pact.id}"))
    assert f'<span class="workspace-number">Patto n. {people.pact.id}</span>' in page


def test_a_late_deadline_says_by_how_many_days(app, db, people):
    late = datetime.now(UTC) - timedelta(days=3)
    db.execute(update(Pact).where(Pact.id == people.pact.id).values(next_deadline_at=late))
    db.commit()
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    assert 'data-deadline-state="late"' in page and "Late by 3 days" in page


def test_forward_moves_are_buttons_and_destructive_ones_open_a_dialog_apart(app, db, people, registry):
    reach(db, registry, people, "follow_up")
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    header = re.search(r'<header class="workspace-header".*?</header>', page, re.DOTALL).group(0)
    apart = re.search(r'<span class="workspace-moves-apart">.*?</span>', header, re.DOTALL).group(0)
    # Suspending and withdrawing leave the workflow's main path: outlined in danger, after the rest.
    for name in ("suspend", "withdraw"):
        assert f'data-bs-target="#move-dialog-{name}"' in apart
        assert f'href="/pacts/{people.pact.id}/moves/{name}?next=' in apart
    assert apart.count("btn-outline-danger move-destructive") == 2
    # Each has its dialog, with its form, on the page.
    assert 'id="move-dialog-withdraw"' in page and 'id="dialog-reason-withdraw"' in page
    assert 'id="move-dialog-suspend"' in page and 'id="dialog-comment-suspend"' in page


def test_a_plain_forward_move_is_one_button(app, db, people, registry):
    pact = reach(db, registry, people, "referral")
    client = signed_in(app, "giulia")
    post(client, pact.id, "referral", fields("referral", version=version(db, pact.id), source="school",
                                             reason="assenze", referred_on=today()))
    page = text(client.get(f"/pacts/{pact.id}"))
    header = re.search(r'<header class="workspace-header".*?</header>', page, re.DOTALL).group(0)
    assert re.search(r'<button type="submit" class="btn btn-sm btn-primary move-forward" '
                     r'data-move="start_screening">Start screening</button>', header)


# Moves without JavaScript, and back where the person came from ------------------------------------

def test_a_move_that_asks_something_has_a_page_of_its_own(app, db, people):
    client = signed_in(app, "giulia")
    response = client.get(f"/pacts/{people.pact.id}/moves/withdraw?next=/")
    assert response.status_code == 200
    page = text(response)
    assert '<h1 class="h3 mb-1">Record withdrawal</h1>' in page
    assert 'id="move-reason-withdraw"' in page and '<input type="hidden" name="next" value="/">' in page
    assert client.get(f"/pacts/{people.pact.id}/moves/close").status_code == 404  # not a move of this stage
    assert client.get(f"/pacts/{people.pact.id}/moves/nothing").status_code == 404


@pytest.mark.parametrize(("username", "status"), [("marco", 404), ("paolo", 404), ("admin", 404), ("elena", 200)])
def test_the_move_page_for_each_role(app, people, username, status):
    assert signed_in(app, username).get(f"/pacts/{people.pact.id}/moves/withdraw").status_code == status


def test_a_refused_move_comes_back_on_its_page_with_its_errors(app, db, people):
    client = signed_in(app, "giulia")
    response = move(client, db, people.pact.id, "withdraw")  # no reason
    assert response.status_code == 422
    page = text(response)
    assert "data-error-summary" in page and '<a href="#move-reason-withdraw">Choose a reason.</a>' in page
    assert 'id="move-reason-withdraw" name="reason" aria-required="true" class="form-select is-invalid"' in page
    assert 'aria-invalid="true"' in page
    assert current(db, people.pact.id).state == "referral"


@pytest.mark.parametrize(("given", "lands"), [
    ("/", "/"),
    ("/pacts/{id}#follow-up", "/pacts/{id}#follow-up"),
    ("https://evil.example/", "/pacts/{id}"),
    ("//evil.example/path", "/pacts/{id}"),
    ("/\\evil.example", "/pacts/{id}"),
    ("javascript:alert(1)", "/pacts/{id}"),
    ("", "/pacts/{id}"),
])
def test_after_a_move_the_person_goes_back_where_they_came_from_on_this_site_only(app, db, people, given, lands):
    client = signed_in(app, "giulia")
    data = {"event": "withdraw", "reason": "moved_away", "comment": "", "version": version(db, people.pact.id),
            "next": given.format(id=people.pact.id)}
    response = post(client, people.pact.id, "transition", data)
    assert response.status_code == 302
    assert response.headers["Location"] == lands.format(id=people.pact.id)
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert "The pact of Maria Bianchi is now at the stage: Withdrawn." in page


# The parts ------------------------------------------------------------------------------------------

def test_every_part_has_its_anchor_and_the_current_stage_work_comes_first(app, db, people, registry):
    client = signed_in(app, "giulia")
    page = text(client.get(f"/pacts/{people.pact.id}"))
    order = part_order(page)
    assert order[0] == "referral"
    assert set(order) == {"referral", "screening", "co-design", "services", "signature", "follow-up", "outcome",
                          "timeline", "journal", "equipe", "documents", "workflow"}
    for anchor in order:
        assert f'href="#{anchor}"' in page and f'<section id="{anchor}"' in page
    assert 'data-open-part="referral"' in page
    reach(db, registry, people, "follow_up")
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert part_order(page)[:2] == ["follow-up", "outcome"]  # contacts count, and closing needs the outcome
    assert 'class="workspace-now"' in page


def test_forms_are_closed_until_asked_for(app, db, people, registry):
    reach(db, registry, people, "follow_up")
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    for form_id in ("add-contact", "outcome-form", "add-goal", "add-action", "add-commitment", "referral-form",
                    "add-journal-entry", "upload-document"):
        tag = re.search(rf'<details class="[^"]*workspace-form" id="{form_id}"[^>]*>', page)
        assert tag, form_id
        assert " open" not in tag.group(0), form_id
    assert "<summary>Record a contact</summary>" in section(page, "follow-up")


def test_a_refused_form_opens_its_part_first_with_a_summary_of_every_error(app, db, people, registry):
    reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia")
    response = post(client, people.pact.id, "actions", fields(
        "action", version=version(db, people.pact.id), description="", performer="", due_on="not a date"))
    assert response.status_code == 422
    page = text(response)
    assert part_order(page)[0] == "co-design" and 'data-open-part="co-design"' in page
    part = section(page, "co-design")
    assert re.search(r'<details class="mb-3 workspace-form" id="add-action" open>', part)
    summary = re.search(r'<div class="alert alert-danger error-summary"[^>]*data-error-summary[^>]*>.*?</div>',
                        part, re.DOTALL).group(0)
    # Every wrong field at once, each linked to its field, which is marked invalid.
    for field_id in ("action-description", "action-performer", "action-due_on"):
        assert f'href="#{field_id}"' in summary
        assert re.search(rf'id="{field_id}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field_id}"', part)


def test_a_core_refusal_opens_its_part_too(app, db, people):
    client = signed_in(app, "giulia")
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = post(client, people.pact.id, "referral", fields(
        "referral", version=version(db, people.pact.id), source="school", reason="motivo", referred_on=tomorrow))
    page = text(response)
    assert part_order(page)[0] == "referral"
    assert '<a href="#referral-referred_on">' in section(page, "referral")


def test_the_timeline_says_how_many_entries_and_pages_the_rest(app, db, people, registry):
    pact = current(db, people.pact.id)
    now = datetime.now(UTC)
    for number in range(130):
        casefile.add_journal_entry(db, pact, kind=JournalKind.NOTE, at=now - timedelta(minutes=200 - number),
                                   text=f"Nota {number}", actor=people.manager, now=now)
    db.commit()
    client = signed_in(app, "giulia")
    page = text(client.get(f"/pacts/{pact.id}"))
    part = section(page, "timeline")
    assert "The latest 20 of 131 entries." in part and "Show all 131 entries" in part
    first = text(client.get(f"/pacts/{pact.id}/timeline"))
    assert "Entries 1–100 of 131, newest first." in first and "Page 1 of 2" in first
    assert "Nota 129" in first and "Nota 0<" not in first
    second = text(client.get(f"/pacts/{pact.id}/timeline?page=2"))
    assert "Entries 101–131 of 131" in second and "Nota 0<" in second


def test_the_workflow_diagram_sits_in_a_box_that_scrolls(app, people):
    page = text(signed_in(app, "giulia").get(f"/pacts/{people.pact.id}"))
    part = section(page, "workflow")
    assert 'class="workflow-box border rounded"' in part and "data-workflow-box" in part
    assert '<g class="state current" data-state="referral">' in part


# Point 8 on the pact page -----------------------------------------------------------------------------

def test_a_next_contact_planned_beyond_the_contact_deadline_is_warned(app, db, people, registry):
    pact = reach(db, registry, people, "follow_up")
    client = signed_in(app, "giulia")
    page = text(client.get(f"/pacts/{pact.id}"))
    assert "plan it within 30 days of this contact" in section(page, "follow-up")
    now = datetime.now(UTC) + timedelta(minutes=10)  # contacts come after the opening
    ops.log_contact(db, registry, current(db, pact.id), contact_at=now - timedelta(minutes=5),
                    channel=ContactChannel.PHONE, next_contact_on=date.today() + timedelta(days=60),
                    actor=people.manager, clock=ops.Clock(now, ZONE))
    db.commit()
    part = section(text(client.get(f"/pacts/{pact.id}")), "follow-up")
    assert 'id="contact-plan-warning"' in part and "the deadline will be missed" in part
    ops.log_contact(db, registry, current(db, pact.id), contact_at=now - timedelta(minutes=1),
                    channel=ContactChannel.PHONE, next_contact_on=date.today() + timedelta(days=20),
                    actor=people.manager, clock=ops.Clock(now, ZONE))
    db.commit()
    assert 'id="contact-plan-warning"' not in text(client.get(f"/pacts/{pact.id}"))


def test_scale_answers_say_what_each_step_means_in_italian(app, people):
    client = signed_in(app, "giulia", english=False)
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert '<option value="0">0 = nessuna difficoltà</option>' in page
    assert '<option value="3">3 = difficoltà grave</option>' in page


# A fixed number of queries -----------------------------------------------------------------------------

def _queries(app, client, url: str) -> int:
    engine = app.extensions["casework"]["engine"]
    seen = []

    def count(*args) -> None:
        seen.append(args[2])

    client.get(url)  # warm: the first request of a client fills caches
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def _grow(db, registry, people, pact_id: int, *, entries: int, goals: int) -> None:
    pact = current(db, pact_id)
    start = max(pact.updated_at, pact.opened_at).replace(tzinfo=UTC) + timedelta(minutes=1)
    now = start + timedelta(minutes=entries + 1)
    clock = ops.Clock(now, ZONE)
    for number in range(goals):
        goal = ops.add_goal(db, pact, description=f"Obiettivo {number}", clock=clock)
        ops.add_action(db, pact, description=f"Azione {number}", performer=Performer.SERVICE, goal=goal,
                       clock=clock)
        ops.add_commitment(db, pact, party=Performer.BENEFICIARY, text=f"Impegno {number}", clock=clock)
    for number in range(entries // 2):
        at = start + timedelta(minutes=number)
        ops.log_contact(db, registry, pact, contact_at=at, channel=ContactChannel.PHONE, notes=f"C {number}",
                        actor=people.manager, clock=ops.Clock(now, ZONE))
        casefile.add_journal_entry(db, pact, kind=JournalKind.NOTE, at=at, text=f"Nota {number}",
                                   actor=people.manager, now=now)
    db.commit()


def test_the_page_issues_the_same_queries_whatever_the_history(app, db, people, registry):
    reach(db, registry, people, "follow_up")
    client = signed_in(app, "giulia")
    url = f"/pacts/{people.pact.id}"
    _grow(db, registry, people, people.pact.id, entries=4, goals=2)
    small = _queries(app, client, url)
    _grow(db, registry, people, people.pact.id, entries=200, goals=48)
    large = _queries(app, client, url)
    assert len(casefile.timeline(db, registry, current(db, people.pact.id), locale="en")) > 200
    assert small == large, (small, large)
    assert large <= 40


@pytest.mark.parametrize(("gender", "label", "required"), [
    ("FEMALE", "La beneficiaria ha dato il consenso", "Serve il consenso della beneficiaria al trattamento dei dati."),
    ("MALE", "Il beneficiario ha dato il consenso", "Serve il consenso del beneficiario al trattamento dei dati."),
    ("OTHER", "La persona beneficiaria ha dato il consenso", "Serve il consenso della persona beneficiaria al trattamento dei dati."),
])
def test_the_signature_form_agrees_with_the_person(app, db, people, registry, gender, label, required):
    from casework.models import Beneficiary, Gender

    db.execute(update(Beneficiary).where(Beneficiary.id == people.beneficiary.id).values(gender=Gender[gender]))
    db.commit()
    pact = reach(db, registry, people, "co_design")
    now = datetime.now(UTC)
    clock = ops.Clock(now, ZONE)
    goal = ops.add_goal(db, current(db, pact.id), description="Lavoro", clock=clock)
    ops.add_action(db, current(db, pact.id), description="Colloquio", performer=Performer.SERVICE, goal=goal,
                   clock=clock)
    ops.prepare_revision(db, current(db, pact.id), actor=people.manager, clock=clock)
    db.commit()
    client = signed_in(app, "giulia", english=False)
    assert label in section(text(client.get(f"/pacts/{pact.id}")), "signature")
    response = post(client, pact.id, "signature", fields("signature", version=version(db, pact.id),
                                                         signed_on=today(), signed_by="Maria Bianchi"))
    assert response.status_code == 422
    assert required in text(response)


def test_a_refused_screening_opens_its_part_with_every_wrong_answer_linked(app, db, people, registry):
    pact = reach(db, registry, people, "screening")
    client = signed_in(app, "giulia")
    response = post(client, pact.id, "screening", {"screening-version": version(db, pact.id)})  # nothing answered
    assert response.status_code == 422
    page = text(response)
    assert part_order(page)[0] == "screening"
    part = section(page, "screening")
    assert re.search(r'<details class="workspace-form" id="screening-form" open>', part)
    # A radio question links to its first option, a select to itself.
    assert '<a href="#screening-q_occupazione-0">' in part and '<a href="#screening-q_carichi_cura">' in part
    links = re.findall(r'<li><a href="#screening-q_', part)
    required = [q for s in registry.engine_for(pact).definition.questionnaire.sections for q in s.questions
                if q.required]
    assert len(links) == len(required)  # every wrong answer at once
