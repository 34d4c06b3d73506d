"""Reasons for withdrawal: picked from the workflow file's list, stored with the move, shown in words."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from casework.errors import InvalidInput, TransitionRefused
from casework.models import TransitionRecord
from casework.pacts import operations as ops
from casework.pacts.page import pact_page
from tests.conftest import ZONE
from tests.support import advance
from tests.web.conftest import app, csrf_token, db, people, sign_in, submit  # noqa: F401 - the web fixtures

PATTO_REASONS = {"found_solution", "moved_away", "no_longer_interested", "not_reachable", "health", "family",
                 "other_service", "other"}
CHANCE_REASONS = {"reenrolled_independently", "family_refuses", "moved_away", "not_reachable", "other"}


def open_pact(session, registry, world, clock, programme=None):
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=programme or world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    return pact


def records(session, pact) -> int:
    return session.scalar(select(func.count()).select_from(TransitionRecord).where(TransitionRecord.pact_id == pact.id))


# The workflow files -------------------------------------------------------------------------------

@pytest.mark.parametrize(("workflow", "codes", "activation"), [
    ("patto_personalizzato", PATTO_REASONS, "activation"),
    ("chance_dispersione", CHANCE_REASONS, "accompaniment"),
])
def test_both_workflows_ask_why_a_beneficiary_withdrew(registry, workflow, codes, activation):
    definition = registry.latest(workflow).definition
    withdraw = definition.events["withdraw"]
    assert set(withdraw.reasons) == codes
    assert "has_reason" in withdraw.guards and "has_comment" not in withdraw.guards  # a note stays optional
    assert all(labels["it"] and labels["en"] for labels in withdraw.reasons.values())
    assert all(len(code) <= 60 for code in codes)  # transition_record.reason is VARCHAR(60)
    assert definition.milestones == {"activation": activation}


# The engine -------------------------------------------------------------------------------------------

def test_a_withdrawal_without_a_reason_is_refused_in_words(session, registry, world, clock):
    pact = open_pact(session, registry, world, clock)
    with pytest.raises(TransitionRefused) as refused:
        ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock,
                            comment="non risponde più")
    session.rollback()
    assert refused.value.messages("en") == ["a reason must be chosen"]
    assert refused.value.messages("it") == ["serve scegliere un motivo"]
    session.expire_all()
    assert (pact.state, pact.version, records(session, pact)) == ("referral", 1, 1)


@pytest.mark.parametrize("reason", ["trasferita", "withdrawn", "  "])
def test_a_code_not_in_the_list_is_refused(session, registry, world, clock, reason):
    pact = open_pact(session, registry, world, clock)
    if reason.strip():
        with pytest.raises(InvalidInput) as invalid:
            ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock, reason=reason)
        assert invalid.value.errors == {"reason": "unknown_reason"}
    else:  # blank is no reason at all
        with pytest.raises(TransitionRefused):
            ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock, reason=reason)
    session.rollback()
    session.expire_all()
    assert (pact.state, pact.version, records(session, pact)) == ("referral", 1, 1)


def test_a_reason_on_a_move_without_reasons_is_refused(session, registry, world, clock):
    pact = open_pact(session, registry, world, clock)
    advance(session, registry, pact, "start_screening", world.manager, clock)
    with pytest.raises(InvalidInput) as invalid:
        ops.transition_pact(session, registry, pact, "suspend", actor=world.manager, clock=clock,
                            comment="ricovero", reason="health")
    session.rollback()
    assert invalid.value.errors == {"reason": "unknown_reason"}
    assert pact.state == "screening"


def test_the_reason_is_stored_with_the_move_and_the_note_is_optional(session, registry, world, clock):
    pact = open_pact(session, registry, world, clock)
    moved = ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock,
                                reason="found_solution")
    session.commit()
    assert (moved.reason, moved.comment) == ("found_solution", "")
    record = session.scalars(select(TransitionRecord).where(TransitionRecord.event == "withdraw")).one()
    assert (record.reason, record.comment, record.to_state) == ("found_solution", "", "withdrawn")
    assert pact.state == "withdrawn" and not pact.is_open


def test_a_chance_withdrawal_from_the_individual_project(session, registry, world, clock):
    pact = open_pact(session, registry, world, clock, programme=world.chance)
    for event in ("submit_to_equipe", "take_in", "start_project"):
        advance(session, registry, pact, event, world.manager, clock)
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock,
                        comment="la famiglia preferisce un'altra scuola", reason="family_refuses")
    session.commit()
    record = session.scalars(select(TransitionRecord).where(TransitionRecord.event == "withdraw")).one()
    assert (record.from_state, record.reason, record.comment) == (
        "individual_project", "family_refuses", "la famiglia preferisce un'altra scuola")


# What the pact page says ------------------------------------------------------------------------------

def test_the_page_offers_the_reasons_and_then_shows_the_one_chosen(session, registry, world, clock):
    pact = open_pact(session, registry, world, clock)
    page = pact_page(session, registry, world.manager, pact, now=clock.now, locale="it", zone=ZONE)
    withdraw = {event.name: event for event in page.events}["withdraw"]
    assert withdraw.available  # the reason is picked with the move
    assert [choice.label for choice in withdraw.reason_choices][:2] == [
        "Ha trovato lavoro o una soluzione in autonomia", "Trasferimento fuori territorio"]
    assert page.header.stage_reason == ""

    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock, reason="health")
    session.commit()
    italian = pact_page(session, registry, world.manager, pact, now=clock.now, locale="it", zone=ZONE).header
    english = pact_page(session, registry, world.supervisor, pact, now=clock.now, locale="en", zone=ZONE).header
    assert (italian.stage_label, italian.stage_reason) == ("Rinuncia", "Motivi di salute")
    assert (english.stage_label, english.stage_reason) == ("Withdrawn", "Health reasons")


def test_reason_labels_for_the_timeline(registry):
    definition = registry.latest("chance_dispersione").definition
    assert definition.label_of("reason", "moved_away", "en", event="withdraw") == "Moved out of the territory"
    assert definition.label_of("reason", "not_reachable", "it", event="withdraw") == "Non più reperibile"
    assert definition.label_of("reason", None, "it", event="withdraw") == ""
    # A code a later file dropped is still shown, as stored.
    assert definition.label_of("reason", "vanished", "it", event="withdraw") == "vanished"


# The pact page in the browser ------------------------------------------------------------------------

def _english_client(app):  # noqa: F811
    client = app.test_client()
    sign_in(client, "giulia")
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def _move(client, pact_id: int, version: int, **data):
    return submit(client, f"/pacts/{pact_id}/transition", {"event": "withdraw", "version": version, **data},
                  form_page=f"/pacts/{pact_id}")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_move_form_has_a_required_list_of_reasons(app, people):  # noqa: F811
    client = _english_client(app)
    # In the move's dialog on the pact page, and on the move's own page (without JavaScript).
    for page, prefix in ((_text(client.get(f"/pacts/{people.pact.id}")), "dialog"),
                         (_text(client.get(f"/pacts/{people.pact.id}/moves/withdraw")), "move")):
        assert f'<label for="{prefix}-reason-withdraw"' in page and "Reason (required)" in page
        assert f'<select id="{prefix}-reason-withdraw" name="reason" aria-required="true"' in page
        assert '<option value="moved_away">Moved out of the territory</option>' in page
        assert re.search(rf'<label for="{prefix}-comment-withdraw" class="form-label d-block fw-semibold">\s*'
                         r'Note \(optional\)\s*</label>', page)


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Choose a reason."),
    ("trasferita", "Choose one of the reasons listed."),
])
def test_a_missing_or_unknown_reason_is_said_next_to_the_list(app, db, people, reason, message):  # noqa: F811
    client = _english_client(app)
    response = _move(client, people.pact.id, people.pact.version, reason=reason, comment="non risponde")
    assert response.status_code == 422
    page = _text(response)
    assert f'<div id="move-reason-withdraw-error" class="invalid-feedback d-block">{message}</div>' in page
    assert 'aria-invalid="true" aria-describedby="move-reason-withdraw-error"' in page
    assert f'<a href="#move-reason-withdraw">{message}</a>' in page  # in the error summary on top
    assert "non risponde" in page  # the note typed is kept
    db.expire_all()
    assert db.get(type(people.pact), people.pact.id).state == "referral"


def test_a_withdrawal_with_its_reason_is_shown_on_the_page(app, db, people):  # noqa: F811
    client = _english_client(app)
    response = _move(client, people.pact.id, people.pact.version, reason="other_service", comment="")
    assert response.status_code == 302
    page = _text(client.get(f"/pacts/{people.pact.id}"))
    assert "Withdrawn" in page and "reason: Taken in by another service" in page
    record = db.scalars(select(TransitionRecord).where(TransitionRecord.event == "withdraw")).one()
    assert (record.reason, record.comment) == ("other_service", "")


def test_the_timeline_says_why_the_beneficiary_withdrew(session, registry, world, clock):
    from casework.pacts.casefile import EntryKind, timeline

    pact = open_pact(session, registry, world, clock)
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock,
                        reason="moved_away", comment="si trasferisce a Genova")
    session.commit()
    moves = [e for e in timeline(session, registry, pact, locale="it") if e.kind == EntryKind.TRANSITION]
    assert moves[0].code == "withdraw"
    assert moves[0].text == "Trasferimento fuori territorio — si trasferisce a Genova"
