"""Supervisor approval of CHANCE individual projects: the guard, the queue, decisions, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from casework.clock import Clock
from casework.errors import InvalidInput, PactConflict, TransitionRefused
from casework.models import (
    ApprovalDecision,
    Beneficiary,
    Gender,
    Notification,
    PactApproval,
    Performer,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.supervision.approvals import (
    DecisionNotAllowed,
    approval_queue,
    approval_status,
    decide,
    is_waiting,
)
from tests.conftest import ZONE
from tests.support import advance

APPROVED, SENT_BACK = ApprovalDecision.APPROVED, ApprovalDecision.SENT_BACK
NOT_APPROVED_EN = "the pact has not been approved by a supervisor yet"
NOT_APPROVED_IT = "il patto non è ancora stato approvato dal coordinatore"


def later(clock: Clock, **delta) -> Clock:
    return Clock(clock.now + timedelta(**delta), clock.zone)


def open_chance(session, registry, world, clock, *, programme=None, beneficiary=None):
    pact = ops.open_pact(session, registry, beneficiary=beneficiary or world.beneficiary,
                         programme=programme or world.chance, case_manager=world.manager, actor=world.manager,
                         clock=clock)
    session.commit()
    for event in ("submit_to_equipe", "take_in", "start_project"):
        advance(session, registry, pact, event, world.manager, clock)
    assert pact.state == "individual_project"
    return pact


def design(session, pact, clock, description="tornare a frequentare con regolarità"):
    goal = ops.add_goal(session, pact, description=description, need_area="istruzione", clock=clock)
    ops.add_action(session, pact, description="incontro settimanale con il tutor", performer=Performer.CASE_MANAGER,
                   goal=goal, clock=clock)
    session.commit()


def signed_project(session, registry, world, clock, **kwargs):
    """A CHANCE pact in the individual project stage with revision 1 signed by the case manager."""
    pact = open_chance(session, registry, world, clock, **kwargs)
    design(session, pact, clock)
    ops.sign_pact(session, pact, signed_on=clock.now.date(), signed_by="Maria Rossi; Anna Rossi (madre)",
                  consent_given=True, actor=world.manager, clock=clock)
    session.commit()
    return pact


def start_accompaniment(session, registry, pact, world, clock):
    return ops.transition_pact(session, registry, pact, "start_accompaniment", actor=world.manager, clock=clock)


def add_supervisor(session, world, username: str, territory=None) -> User:
    user = User(username=username, full_name=username.title(), email=f"{username}@example.org", password_hash="!",
                role=Role.SUPERVISOR, territory=territory or world.comune.parent)
    session.add(user)
    session.commit()
    return user


def queue_ids(session, registry, supervisor, clock) -> list[int]:
    return [item.pact_id for item in approval_queue(session, registry, supervisor, now=clock.now, locale="en", zone=ZONE)]


def messages_to(session, user) -> list[dict]:
    return [n.message for n in session.scalars(select(Notification).where(Notification.user_id == user.id))]


# The guard and the move it holds back ----------------------------------------------------------

def test_a_signed_project_waits_for_approval_before_the_accompaniment(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    with pytest.raises(TransitionRefused) as refused:
        start_accompaniment(session, registry, pact, world, clock)
    session.rollback()
    assert refused.value.messages("en") == [NOT_APPROVED_EN]
    assert refused.value.messages("it") == [NOT_APPROVED_IT]
    assert pact.state == "individual_project"
    assert is_waiting(session, registry, pact)
    assert queue_ids(session, registry, world.supervisor, clock) == [pact.id]


def test_an_approval_by_a_supervisor_lets_the_accompaniment_start(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    read = pact.version
    approval = decide(session, registry, world.supervisor, pact, expected_version=read, decision=APPROVED,
                      comment="", now=later(clock, hours=2).now)
    session.commit()

    assert pact.version == read + 1 and approval.pact_version == pact.version
    assert (approval.revision_id, approval.decided_by_id) == (pact.latest_revision.id, world.supervisor.id)
    assert queue_ids(session, registry, world.supervisor, clock) == []
    assert "start_accompaniment" in ops.allowed_events(registry, pact, clock)
    start_accompaniment(session, registry, pact, world, later(clock, hours=3))
    session.commit()
    assert pact.state == "accompaniment"
    [message] = messages_to(session, world.manager)
    assert message["en"] == f"Pact no. {pact.id} (CHANCE): revision 1 was approved by Elena."
    assert message["it"] == f"Patto n. {pact.id} (CHANCE): la versione 1 è stata approvata da Elena."


def test_the_default_workflow_asks_for_no_approval(session, registry, world, clock):
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    for event in ("start_screening", "start_co_design", "activate"):
        advance(session, registry, pact, event, world.manager, clock)
    assert pact.state == "activation"  # signed and activated without anybody's approval
    assert approval_status(session, registry, pact) is None
    assert queue_ids(session, registry, world.supervisor, clock) == []
    with pytest.raises(InvalidInput) as invalid:
        decide(session, registry, world.supervisor, pact, expected_version=None, decision=APPROVED, comment="",
               now=clock.now)
    assert invalid.value.errors == {"decision": "not_waiting"}


# Who may approve --------------------------------------------------------------------------------

def test_the_author_of_a_revision_may_not_approve_it_but_another_supervisor_may(session, registry, world, clock):
    pact = open_chance(session, registry, world, clock)
    design(session, pact, clock)
    ops.prepare_revision(session, pact, actor=world.supervisor, clock=clock)  # the supervisor prepared it
    session.commit()
    [item] = approval_queue(session, registry, world.supervisor, now=clock.now, locale="en", zone=ZONE)
    assert item.prepared_by_viewer and item.signed_on is None

    read = pact.version
    with pytest.raises(InvalidInput) as invalid:
        decide(session, registry, world.supervisor, pact, expected_version=read, decision=APPROVED, comment="",
               now=clock.now)
    session.rollback()
    assert invalid.value.errors == {"decision": "own_revision"}
    assert pact.version == read and session.scalar(select(func.count()).select_from(PactApproval)) == 0

    colleague = add_supervisor(session, world, "laura")
    [item] = approval_queue(session, registry, colleague, now=clock.now, locale="en", zone=ZONE)
    assert not item.prepared_by_viewer
    decide(session, registry, colleague, pact, expected_version=read, decision=APPROVED, comment="va bene",
           now=clock.now)
    ops.record_signature(session, pact, signed_on=clock.now.date(), signed_by="Maria Rossi", consent_given=True,
                         actor=world.manager, clock=clock)
    session.commit()
    # The draft approved before the signature is the revision signed: the approval holds.
    start_accompaniment(session, registry, pact, world, clock)
    session.commit()
    assert pact.state == "accompaniment"


def test_an_approval_recorded_by_the_author_does_not_count(session, registry, world, clock):
    """The guard applies the rule itself, whatever rows exist."""
    pact = open_chance(session, registry, world, clock)
    design(session, pact, clock)
    ops.sign_pact(session, pact, signed_on=clock.now.date(), signed_by="Maria Rossi", consent_given=True,
                  actor=world.supervisor, clock=clock)
    session.commit()
    session.add(PactApproval(pact_id=pact.id, revision_id=pact.latest_revision.id, decision=APPROVED, comment="",
                             decided_by_id=world.supervisor.id, decided_at=clock.now, pact_version=pact.version))
    session.commit()
    with pytest.raises(TransitionRefused) as refused:
        start_accompaniment(session, registry, pact, world, clock)
    assert refused.value.messages("en") == [NOT_APPROVED_EN]


@pytest.mark.parametrize("who", ["case_manager", "other_territory"])
def test_only_a_supervisor_who_sees_the_pact_decides(session, registry, world, clock, who):
    pact = signed_project(session, registry, world, clock)
    if who == "case_manager":
        actor = world.colleague
    else:
        elsewhere = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
        actor = add_supervisor(session, world, "paolo", territory=elsewhere)
    with pytest.raises(DecisionNotAllowed):
        decide(session, registry, actor, pact, expected_version=None, decision=APPROVED, comment="", now=clock.now)
    assert queue_ids(session, registry, actor, clock) == []


# Sending back ------------------------------------------------------------------------------------

def test_sending_back_needs_a_comment(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    read = pact.version
    with pytest.raises(InvalidInput) as invalid:
        decide(session, registry, world.supervisor, pact, expected_version=read, decision=SENT_BACK, comment="  ",
               now=clock.now)
    session.rollback()
    assert invalid.value.errors == {"comment": "required"}
    assert pact.version == read and is_waiting(session, registry, pact)


def test_a_project_sent_back_stays_put_and_its_new_revision_waits_again(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    decide(session, registry, world.supervisor, pact, expected_version=pact.version, decision=SENT_BACK,
           comment="Manca un obiettivo sulla frequenza con una data di verifica.", now=later(clock, hours=1).now)
    session.commit()

    assert pact.state == "individual_project"
    assert not is_waiting(session, registry, pact)
    assert queue_ids(session, registry, world.supervisor, clock) == []
    status = approval_status(session, registry, pact)
    assert (status.status, status.decided_by, status.revision_number) == ("sent_back", "Elena", 1)
    assert status.comment == "Manca un obiettivo sulla frequenza con una data di verifica."
    with pytest.raises(TransitionRefused):
        start_accompaniment(session, registry, pact, world, clock)
    session.rollback()
    [message] = messages_to(session, world.manager)
    assert "sent back by Elena" in message["en"] and "Manca un obiettivo sulla frequenza" in message["en"]
    assert "rimandata da Elena" in message["it"]
    with pytest.raises(InvalidInput) as invalid:  # nothing new to decide on
        decide(session, registry, world.supervisor, pact, expected_version=None, decision=APPROVED, comment="",
               now=clock.now)
    session.rollback()
    assert invalid.value.errors == {"decision": "not_waiting"}

    # The case manager revises the project and prepares it again: revision 2 waits.
    design(session, pact, clock, description="frequenza regolare verificata a fine quadrimestre")
    revision = ops.prepare_revision(session, pact, actor=world.manager, clock=later(clock, days=2))
    session.commit()
    assert revision.number == 2
    assert queue_ids(session, registry, world.supervisor, clock) == [pact.id]
    assert approval_status(session, registry, pact).status == "waiting"
    decide(session, registry, world.supervisor, pact, expected_version=pact.version, decision=APPROVED, comment="",
           now=later(clock, days=3).now)
    ops.record_signature(session, pact, signed_on=later(clock, days=3).now.date(), signed_by="Maria Rossi",
                         consent_given=True, actor=world.manager, clock=later(clock, days=3))
    start_accompaniment(session, registry, pact, world, later(clock, days=3))
    session.commit()
    assert pact.state == "accompaniment"
    status = approval_status(session, registry, pact)  # the page still says who approved what
    assert (status.status, status.revision_number, status.waiting) == ("approved", 2, False)


def test_a_change_signed_after_an_approval_needs_a_new_approval(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    decide(session, registry, world.supervisor, pact, expected_version=None, decision=APPROVED, comment="",
           now=clock.now)
    session.commit()
    design(session, pact, clock, description="laboratorio pomeridiano")
    ops.sign_pact(session, pact, signed_on=clock.now.date(), signed_by="Maria Rossi", consent_given=True,
                  actor=world.manager, clock=clock)
    session.commit()
    assert pact.latest_revision.number == 2
    with pytest.raises(TransitionRefused) as refused:
        start_accompaniment(session, registry, pact, world, clock)
    session.rollback()
    assert refused.value.messages("en") == [NOT_APPROVED_EN]
    assert queue_ids(session, registry, world.supervisor, clock) == [pact.id]


# Conflicts ----------------------------------------------------------------------------------------

def test_a_decision_on_a_pact_changed_meanwhile_is_a_conflict(session, registry, world, clock):
    pact = signed_project(session, registry, world, clock)
    read = pact.version
    ops.add_commitment(session, pact, party=Performer.FAMILY, text="accompagnare agli incontri", clock=clock)
    session.commit()
    with pytest.raises(PactConflict):
        decide(session, registry, world.supervisor, pact, expected_version=read, decision=APPROVED, comment="",
               now=clock.now)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(PactApproval)) == 0


def test_two_supervisors_deciding_on_one_pact_only_the_first_decision_counts(
    session_factory, session, registry, world, clock
):
    pact = signed_project(session, registry, world, clock)
    colleague = add_supervisor(session, world, "laura")
    pact_id, read = pact.id, pact.version
    with session_factory() as first, session_factory() as racing, session_factory() as later_request:
        mine = first.get(type(pact), pact_id)
        theirs = racing.get(type(pact), pact_id)  # loaded before the first decision is committed
        decide(first, registry, first.get(User, world.supervisor.id), mine, expected_version=read,
               decision=APPROVED, comment="", now=clock.now)
        first.commit()
        # The colleague's page showed the version read before: their next request is a conflict.
        with pytest.raises(PactConflict):
            decide(later_request, registry, later_request.get(User, colleague.id),
                   later_request.get(type(pact), pact_id), expected_version=read, decision=SENT_BACK,
                   comment="da rivedere", now=clock.now)
        later_request.rollback()
        # A decision racing the first one finds the revision decided already.
        with pytest.raises(InvalidInput) as invalid:
            decide(racing, registry, racing.get(User, colleague.id), theirs, expected_version=read,
                   decision=SENT_BACK, comment="da rivedere", now=clock.now)
        racing.rollback()
        assert invalid.value.errors == {"decision": "not_waiting"}
    with session_factory() as check:
        [approval] = check.scalars(select(PactApproval)).all()
        assert (approval.decision, approval.decided_by_id) == (APPROVED, world.supervisor.id)


# The queue ------------------------------------------------------------------------------------------

def test_the_queue_lists_the_longest_waiting_first_with_what_a_supervisor_needs(session, registry, world, clock):
    second_person = Beneficiary(first_name="Luca", last_name="Verdi", gender=Gender.MALE, comune=world.comune)
    session.add(second_person)
    session.commit()
    newer = signed_project(session, registry, world, later(clock, days=3), beneficiary=second_person)
    older = signed_project(session, registry, world, clock)
    in_design = open_chance(session, registry, world, clock)  # nothing prepared yet: not in the queue
    now = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # Monday a week later

    items = approval_queue(session, registry, world.supervisor, now=now, locale="it", zone=ZONE)
    assert [item.pact_id for item in items] == [older.id, newer.id]
    first = items[0]
    assert (first.beneficiary_name, first.programme_name, first.case_manager_name) == ("Maria Rossi", "CHANCE", "Giulia")
    assert (first.revision_number, first.signed_on, first.stage_label) == (1, date(2026, 3, 2), "Progetto individualizzato")
    assert first.pact_version == older.version
    assert first.working_days_waiting == 5 and items[1].working_days_waiting == 2
    assert in_design.id not in [item.pact_id for item in items]


def test_the_queue_hides_restricted_cases_from_supervisors_not_assigned(session, registry, world, clock):
    restricted = Programme(code="CHANCE_R", name="CHANCE tutela", funder="—", territory=world.comune.parent,
                           starts_on=date(2025, 1, 1), workflow_name="chance_dispersione", restricted=True)
    session.add(restricted)
    session.commit()
    visible = signed_project(session, registry, world, clock)
    hidden = signed_project(session, registry, world, clock, programme=restricted)
    assert queue_ids(session, registry, world.supervisor, clock) == [visible.id]
    with pytest.raises(DecisionNotAllowed):
        decide(session, registry, world.supervisor, hidden, expected_version=None, decision=APPROVED, comment="",
               now=clock.now)
    assert queue_ids(session, registry, world.manager, clock) == []  # the queue is a supervisor's


def test_the_status_the_pact_page_shows(session, registry, world, clock):
    pact = open_chance(session, registry, world, clock)
    assert approval_status(session, registry, pact).status == "not_prepared"
    design(session, pact, clock)
    ops.prepare_revision(session, pact, actor=world.manager, clock=clock)
    session.commit()
    status = approval_status(session, registry, pact)
    assert (status.status, status.revision_number, status.waiting) == ("waiting", 1, True)
    decide(session, registry, world.supervisor, pact, expected_version=None, decision=APPROVED, comment="ok",
           now=later(clock, hours=1).now)
    session.commit()
    status = approval_status(session, registry, pact)
    assert (status.status, status.decided_by, status.decided_at, status.comment, status.waiting) == (
        "approved", "Elena", later(clock, hours=1).now, "ok", False)
