"""What the pact page shows (casework.pacts.page), and the operations the page added to casework.pacts.operations."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casework.clock import Clock
from casework.errors import InvalidInput, PactConflict
from casework.models import (
    ActionStatus,
    ContactChannel,
    GoalsAchieved,
    Performer,
    Priority,
    ReferralSource,
)
from casework.pacts import operations as ops
from casework.pacts.page import pact_page, print_page, stage_label
from tests.conftest import ZONE
from tests.support import advance, valid_answers


@pytest.fixture
def pact(session, registry, world, clock):
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    return opened


def later(clock: Clock, **delta) -> Clock:
    return Clock(clock.now + timedelta(**delta), clock.zone)


def page_of(session, registry, world, pact, clock, locale="it", user=None):
    return pact_page(session, registry, user or world.manager, pact, now=clock.now, locale=locale, zone=ZONE)


def refer(session, pact, world, clock):
    ops.record_referral(session, pact, source=ReferralSource.SCHOOL, reason="assenze ripetute",
                        referred_on=date(2026, 2, 27), actor=world.manager, clock=clock)
    session.commit()


def add_goal_and_action(session, pact, clock):
    goal = ops.add_goal(session, pact, description="trovare lavoro", need_area="lavoro",
                        target_date=date(2026, 9, 30), clock=clock)
    ops.add_action(session, pact, description="iscrizione al centro per l'impiego", performer=Performer.BENEFICIARY,
                   goal=goal, clock=clock)
    session.commit()
    return goal


# The header -----------------------------------------------------------------------------

def test_header_in_the_readers_language(session, registry, world, pact, clock):
    italian = page_of(session, registry, world, pact, clock, "it").header
    english = page_of(session, registry, world, pact, clock, "en").header
    assert (italian.stage_label, english.stage_label) == ("Segnalazione", "Referral")
    assert italian.workflow_label == "Patto personalizzato"
    assert italian.deadline_label == "Screening entro 10 giorni lavorativi dalla segnalazione"
    assert english.deadline_label == "Screening within 10 working days of the referral"
    # Monday 2 March 2026 + 10 working days.
    assert italian.deadline_on == date(2026, 3, 16)
    assert italian.beneficiary_name == "Maria Rossi" and italian.programme_name == "TILDE"
    assert italian.viewer_is_case_manager and italian.is_open and italian.priority is None


def test_header_says_when_the_deadline_has_passed(session, registry, world, pact, clock):
    assert not page_of(session, registry, world, pact, later(clock, days=14)).header.overdue
    assert page_of(session, registry, world, pact, later(clock, days=15)).header.overdue


def test_the_viewer_who_is_not_the_case_manager_is_told_whose_pact_it_is(session, registry, world, pact, clock):
    header = page_of(session, registry, world, pact, clock, user=world.supervisor).header
    assert not header.viewer_is_case_manager
    assert header.case_manager_name == "Giulia"


# What can be done now -----------------------------------------------------------------

def test_moves_not_ready_say_why_in_the_readers_language(session, registry, world, pact, clock):
    italian = {event.name: event for event in page_of(session, registry, world, pact, clock, "it").events}
    english = {event.name: event for event in page_of(session, registry, world, pact, clock, "en").events}
    assert set(italian) == {"start_screening", "withdraw"}
    assert not italian["start_screening"].available
    assert italian["start_screening"].missing == ("la segnalazione non è stata registrata",)
    assert english["start_screening"].missing == ("the referral has not been recorded",)
    assert italian["start_screening"].label == "Avvia lo screening"
    assert italian["start_screening"].target_label == "Screening"


def test_a_move_that_needs_a_reason_is_available_with_its_reasons_to_choose(session, registry, world, pact, clock):
    withdraw = {event.name: event for event in page_of(session, registry, world, pact, clock, "en").events}["withdraw"]
    assert withdraw.available and withdraw.missing == () and not withdraw.needs_comment
    assert ("moved_away", "Moved out of the territory") in [(c.value, c.label) for c in withdraw.reason_choices]


def test_a_move_that_needs_a_comment_is_available_with_a_comment_field(session, registry, world, pact, clock):
    advance(session, registry, pact, "start_screening", world.manager, clock)
    suspend = {event.name: event for event in page_of(session, registry, world, pact, clock).events}["suspend"]
    assert suspend.available and suspend.needs_comment and suspend.missing == () and suspend.reason_choices == ()


def test_a_recorded_referral_makes_screening_possible(session, registry, world, pact, clock):
    refer(session, pact, world, clock)
    page = page_of(session, registry, world, pact, clock)
    start = {event.name: event for event in page.events}["start_screening"]
    assert start.available and not start.needs_comment and start.reason_choices == ()
    assert page.referral.referral.reason == "assenze ripetute"
    assert page.referral.needed_for == ()


def test_panels_are_marked_with_the_moves_waiting_for_them(session, registry, world, pact, clock):
    assert page_of(session, registry, world, pact, clock).referral.needed_for == ("Avvia lo screening",)
    for event in ("start_screening", "start_co_design"):
        advance(session, registry, pact, event, world.manager, clock)
    page = page_of(session, registry, world, pact, clock, "en")
    assert page.signature.needed_for == ("Activate the pact",)
    assert page.co_design.needed_for == ("Activate the pact",)  # a signed goal needs a goal first
    assert page.screening.needed_for == ()
    add_goal_and_action(session, pact, clock)
    ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi", consent_given=True,
                         actor=world.manager, clock=clock)
    session.commit()
    page = page_of(session, registry, world, pact, clock, "en")
    assert page.co_design.needed_for == page.signature.needed_for == ()


def test_resume_names_the_stage_the_pact_returns_to(session, registry, world, pact, clock):
    for event in ("start_screening", "suspend"):
        advance(session, registry, pact, event, world.manager, clock)
    resume = {event.name: event for event in page_of(session, registry, world, pact, clock, "en").events}["resume"]
    assert resume.available and resume.target_label == "Screening"


def test_a_closed_pact_offers_no_forms(session, registry, world, pact, clock):
    advance(session, registry, pact, "withdraw", world.manager, clock)
    page = page_of(session, registry, world, pact, clock)
    assert not page.editable and page.header.closed_at is not None
    assert page.events == ()  # "withdrawn" has no way out in this workflow


# Screening --------------------------------------------------------------------------------

def test_the_questionnaire_comes_from_the_workflow_file(session, registry, world, pact, clock):
    screening = page_of(session, registry, world, pact, clock, "en").screening
    assert screening.defined and screening.latest is None
    assert [section.label for section in screening.sections][:2] == ["Work and income", "Housing and essentials"]
    questions = {q.id: q for section in screening.sections for q in section.questions}
    assert questions["occupazione"].type == "choice"
    assert [o.label for o in questions["occupazione"].options][:2] == ["Stable job",
                                                                       "Precarious or involuntary part-time job"]
    assert questions["occupazione"].need_area_label == "Work"
    assert (questions["carichi_cura"].minimum, questions["carichi_cura"].maximum) == (0, 3)
    assert questions["note"].required is False


def test_the_last_screening_shows_answers_need_profile_and_priority(session, registry, world, pact, clock):
    questionnaire = registry.engine_for(pact).definition.questionnaire
    ops.record_screening(session, registry, pact, valid_answers(questionnaire, worst=True), actor=world.manager,
                         clock=clock)
    session.commit()
    screening = page_of(session, registry, world, pact, clock, "it").screening
    assert screening.latest.priority == Priority.HIGH and screening.count == 1
    profile = {row.area: (row.label, row.score) for row in screening.need_profile}
    assert profile["lavoro"] == ("Lavoro", 4 + 3)
    assert profile["cibo"] == ("Cibo", 3)
    answers = {a.question_label: a for section in screening.answered for a in section.answers}
    assert answers["Situazione lavorativa"].value_label == "Mai lavorato"
    assert answers["Difficoltà a procurarsi il cibo nell'ultimo mese"].value is True
    assert answers["Note dell'operatore"].value == "annotazione"


# Co-design and signature --------------------------------------------------------------------

def test_goals_carry_their_actions_and_need_area_label(session, registry, world, pact, clock):
    goal = add_goal_and_action(session, pact, clock)
    ops.add_action(session, pact, description="colloquio", performer=Performer.CASE_MANAGER, clock=clock)
    ops.add_commitment(session, pact, party=Performer.FAMILY, text="accompagnare ai colloqui", clock=clock)
    session.commit()
    co_design = page_of(session, registry, world, pact, clock, "en").co_design
    [view] = co_design.goals
    assert view.goal.id == goal.id and view.need_area_label == "Work"
    assert [a.description for a in view.actions] == ["iscrizione al centro per l'impiego"]
    assert [a.description for a in co_design.actions_without_goal] == ["colloquio"]
    assert [c.text for c in co_design.commitments] == ["accompagnare ai colloqui"]
    assert ("lavoro", "Work") in [(c.value, c.label) for c in co_design.need_areas]


def test_signature_panel_follows_draft_and_signature(session, registry, world, pact, clock):
    assert not page_of(session, registry, world, pact, clock).signature.ready_to_prepare
    add_goal_and_action(session, pact, clock)
    signature = page_of(session, registry, world, pact, clock).signature
    assert signature.ready_to_prepare and signature.latest is None

    ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    signature = page_of(session, registry, world, pact, clock, "en").signature
    assert signature.awaiting_signature and not signature.ready_to_prepare
    assert signature.latest.number == 1 and not signature.latest.is_signed
    assert signature.latest.goals[0].need_area_label == "Work"
    assert signature.latest.goals[0].target_date == date(2026, 9, 30)
    assert signature.latest.actions[0].goal_description == "trovare lavoro"

    ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi", consent_given=True,
                         actor=world.manager, clock=clock)
    session.commit()
    signature = page_of(session, registry, world, pact, clock).signature
    assert signature.latest.is_signed and not signature.awaiting_signature and not signature.changed_since_latest

    ops.add_commitment(session, pact, party=Performer.BENEFICIARY, text="presentarsi ai colloqui", clock=clock)
    session.commit()
    signature = page_of(session, registry, world, pact, clock).signature
    assert signature.changed_since_latest and signature.ready_to_prepare


def test_print_page_is_the_latest_revision(session, registry, world, pact, clock):
    assert print_page(registry, pact, locale="it") is None
    add_goal_and_action(session, pact, clock)
    ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    sheet = print_page(registry, pact, locale="en")
    assert sheet.workflow_label == "Personalised pact" and sheet.revision.number == 1
    assert sheet.beneficiary.full_name == "Maria Rossi" and not sheet.changed_since
    ops.add_goal(session, pact, description="casa", clock=clock)
    session.commit()
    assert print_page(registry, pact, locale="en").changed_since


# Follow-up and outcome ------------------------------------------------------------------------

def test_follow_up_contacts_newest_first_and_the_stage_counts_from_them(session, registry, world, pact, clock):
    for event in ("start_screening", "start_co_design", "activate", "start_follow_up"):
        advance(session, registry, pact, event, world.manager, clock)
    for hours in (1, 3):
        ops.log_contact(session, registry, pact, contact_at=clock.now + timedelta(hours=hours),
                        channel=ContactChannel.PHONE, actor=world.manager, clock=later(clock, hours=4))
    session.commit()
    page = page_of(session, registry, world, pact, later(clock, hours=4), "en")
    follow_up = page.follow_up
    # Both deadlines of the stage: the next contact (30 days after the last) and the final check.
    assert [(d.label, d.due_on) for d in page.header.deadlines] == [
        ("Follow-up contact every 30 days", date(2026, 4, 1)),
        ("Final check 6 months after activation", date(2026, 9, 2)),
    ]
    assert follow_up.regular_contacts
    assert [c.contact_at for c in follow_up.contacts] == [clock.now + timedelta(hours=3), clock.now + timedelta(hours=1)]


def test_outcome_options_and_recorded_outcome_come_from_the_workflow(session, registry, world, clock):
    chance = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.chance,
                           case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    outcome = page_of(session, registry, world, chance, clock, "it").outcome
    assert outcome.options[0].value == "school_reenrolled" and outcome.options[0].label == "Rientro a scuola"
    ops.record_outcome(session, registry, chance, outcome="apprenticeship", goals_achieved=GoalsAchieved.PARTLY,
                       actor=world.manager, clock=clock)
    session.commit()
    outcome = page_of(session, registry, world, chance, clock, "en").outcome
    assert outcome.recorded_label == "Apprenticeship" and outcome.recorded.goals_achieved == GoalsAchieved.PARTLY
    header = page_of(session, registry, world, chance, clock, "en").header
    assert header.workflow_label == "CHANCE - school dropout prevention"
    assert stage_label(registry, chance, "it") == "Segnalazione"


# Operations added for the page ------------------------------------------------------------------

def test_prepare_revision_needs_a_goal_and_an_action(session, pact, world, clock):
    with pytest.raises(InvalidInput) as refused:
        ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    assert refused.value.errors == {"goals": "no_goal", "actions": "no_action"}


def test_preparing_twice_without_changes_returns_the_same_draft(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    first = ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    version = pact.version
    again = ops.prepare_revision(session, pact, actor=world.manager, clock=clock, expected_version=version)
    assert again.id == first.id and pact.version == version and len(pact.revisions) == 1


def test_a_changed_pact_gets_a_new_draft_and_an_unchanged_signed_one_is_refused(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi", consent_given=True,
                         actor=world.manager, clock=clock)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    assert refused.value.errors == {"revision": "unchanged"}
    ops.add_goal(session, pact, description="casa", clock=clock)
    second = ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    assert second.number == 2 and not second.is_signed and pact.latest_revision is second


def test_record_signature_signs_the_draft_as_printed(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    draft = ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    ops.add_goal(session, pact, description="aggiunto dopo la stampa", clock=clock)
    version = pact.version
    signed = ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by=" Maria Rossi ",
                                  consent_given=True, actor=world.manager, clock=later(clock, minutes=5),
                                  expected_version=version)
    session.commit()
    assert signed.id == draft.id and signed.is_signed and signed.signed_by == "Maria Rossi" and signed.consent_given
    assert [goal["description"] for goal in signed.content["goals"]] == ["trovare lavoro"]
    assert pact.version == version + 1


def test_record_signature_refuses_what_a_signature_cannot_be(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        ops.record_signature(session, pact, signed_on=date(2026, 3, 3), signed_by=" ", consent_given=False,
                             actor=world.manager, clock=clock)
    assert refused.value.errors == {"signed_by": "required", "consent_given": "consent_required",
                                    "signed_on": "in_future"}
    with pytest.raises(InvalidInput) as refused:
        ops.record_signature(session, pact, signed_on=date(2026, 3, 1), signed_by="Maria Rossi", consent_given=True,
                             actor=world.manager, clock=clock)
    assert refused.value.errors == {"signed_on": "before_draft"}
    assert not pact.latest_revision.is_signed


def test_record_signature_without_a_draft_signs_the_current_content_once(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    revision = ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi",
                                    consent_given=True, actor=world.manager, clock=clock)
    session.commit()
    assert revision.number == 1 and revision.is_signed
    with pytest.raises(InvalidInput) as refused:
        ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi", consent_given=True,
                             actor=world.manager, clock=clock)
    assert refused.value.errors == {"revision": "already_signed"}


def test_removing_a_goal_keeps_its_actions_and_the_signed_copy(session, pact, world, clock):
    goal = add_goal_and_action(session, pact, clock)
    ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi", consent_given=True,
                         actor=world.manager, clock=clock)
    session.commit()
    version = pact.version
    ops.remove_goal(session, goal, clock=later(clock, minutes=5), expected_version=version)
    session.commit()
    session.expire_all()
    assert pact.goals == [] and pact.version == version + 1
    assert [(a.description, a.goal_id) for a in pact.actions] == [("iscrizione al centro per l'impiego", None)]
    assert pact.latest_revision.content["goals"][0]["description"] == "trovare lavoro"


def test_removing_actions_and_commitments(session, pact, world, clock):
    add_goal_and_action(session, pact, clock)
    commitment = ops.add_commitment(session, pact, party=Performer.FAMILY, text="sostegno", clock=clock)
    session.commit()
    ops.remove_action(session, pact.actions[0], clock=later(clock, minutes=1), expected_version=pact.version)
    ops.remove_commitment(session, commitment, clock=later(clock, minutes=2), expected_version=pact.version)
    session.commit()
    session.expire_all()
    assert pact.actions == [] and pact.commitments == [] and len(pact.goals) == 1


@pytest.mark.parametrize("operation", ["remove_goal", "remove_action", "prepare_revision", "record_signature"])
def test_the_added_operations_refuse_a_stale_version(session, pact, world, clock, operation):
    goal = add_goal_and_action(session, pact, clock)
    stale = pact.version - 1
    with pytest.raises(PactConflict):
        if operation == "remove_goal":
            ops.remove_goal(session, goal, clock=clock, expected_version=stale)
        elif operation == "remove_action":
            ops.remove_action(session, pact.actions[0], clock=clock, expected_version=stale)
        elif operation == "prepare_revision":
            ops.prepare_revision(session, pact, actor=world.manager, clock=clock, expected_version=stale)
        else:
            ops.record_signature(session, pact, signed_on=date(2026, 3, 2), signed_by="Maria Rossi",
                                 consent_given=True, actor=world.manager, clock=clock, expected_version=stale)
    session.rollback()
    assert len(pact.goals) == 1 and len(pact.actions) == 1 and pact.revisions == []


def test_an_action_in_progress_shows_its_status(session, registry, world, pact, clock):
    add_goal_and_action(session, pact, clock)
    ops.set_action_status(session, pact.actions[0], ActionStatus.IN_PROGRESS, clock=clock)
    session.commit()
    [view] = page_of(session, registry, world, pact, clock).co_design.goals
    assert view.actions[0].status == ActionStatus.IN_PROGRESS


def test_the_page_loads_its_equipe_with_the_pact_whatever_its_size(session, registry, world, pact, clock):
    from sqlalchemy import event

    from casework.models import PactMember
    from casework.pacts.page import PAGE_LOADS
    from casework.security import get_visible_pact

    session.add_all([PactMember(pact_id=pact.id, user=world.colleague, role="educatrice"),
                     PactMember(pact_id=pact.id, user=world.supervisor, role="coordinamento"),
                     PactMember(pact_id=pact.id, external_name="Prof.ssa Neri", role="insegnante")])
    session.commit()
    expected = sorted([world.colleague.full_name, world.supervisor.full_name, "Prof.ssa Neri"])
    pact_id, manager = pact.id, world.manager
    session.expunge_all()
    loaded = get_visible_pact(session, session.merge(manager), pact_id, clock.now, options=PAGE_LOADS)
    statements: list[str] = []

    def count(connection, cursor, statement, *args):
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        shown = sorted(member.user.full_name if member.user else member.external_name for member in loaded.members)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert shown == expected
    assert statements == []  # every colleague came with the pact: none read one by one
