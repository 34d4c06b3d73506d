"""Reassigning pacts: one or many, all or nothing, recorded, notified, followed by the reminders."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from casework.errors import InvalidInput, PactConflict
from casework.models import (
    ApprovalDecision,
    EmailStatus,
    Notification,
    Pact,
    PactApproval,
    PactReassignment,
    PactRevision,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts.casefile import EntryKind, timeline
from casework.reminders.notifications import list_notifications, unread_count
from casework.security.access import can_see_pact
from casework.supervision.reassignment import ReassignmentRefused, reassign_pacts
from tests.conftest import ZONE
from tests.reminders.helpers import emails, fired, open_pact_at, rome, sweep_at

OPENED = rome(2026, 3, 2, 9)  # Monday: the screening is due Monday 16 March, its reminder Friday 13 at 08:00
MOVED = rome(2026, 3, 5, 11)


def reassign(session, registry, actor, pacts, to, reason="riequilibrio dei carichi", *, now=MOVED, versions=None):
    versions = versions or {}
    return reassign_pacts(session, registry, actor, {pact.id: versions.get(pact.id, pact.version) for pact in pacts},
                          to.id if to is not None else None, reason, now=now, zone=ZONE)


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def messages(session, registry, user, when=MOVED):
    return [note.body for note in list_notifications(session, registry, user, now=when)]


def test_one_pact_changes_hands_with_a_record_and_a_new_version(session, registry, world):
    pact = open_pact_at(session, registry, world, OPENED)
    read = pact.version
    [record] = reassign(session, registry, world.supervisor, [pact], world.colleague, "  ferie lunghe di Giulia  ")
    session.commit()
    session.expire_all()
    stored = session.get(Pact, pact.id)
    assert stored.case_manager_id == world.colleague.id and stored.version == read + 1
    record = session.scalars(select(PactReassignment)).one()
    assert (record.pact_id, record.from_manager_id, record.to_manager_id, record.actor_id) == (
        pact.id, world.manager.id, world.colleague.id, world.supervisor.id)
    assert (record.reason, record.at, record.pact_version) == ("ferie lunghe di Giulia", MOVED, read + 1)
    # The new manager now sees the pact; the former one, on nothing else, no longer does.
    assert can_see_pact(session, world.colleague, pact.id)
    assert not can_see_pact(session, world.manager, pact.id)


def test_both_managers_are_notified_in_their_language(session, registry, world):
    world.colleague.locale = "en"
    session.commit()
    pact = open_pact_at(session, registry, world, OPENED)
    reassign(session, registry, world.supervisor, [pact], world.colleague, "ferie lunghe")
    session.commit()
    [to_new] = messages(session, registry, world.colleague)
    assert to_new == (f"Elena assigned pact no. {pact.id} (TILDE) to you; it was managed by Giulia. "
                      "Reason: ferie lunghe Next deadline: Screening within 10 working days of the referral, "
                      "due by 16/03/2026.")
    [to_former] = messages(session, registry, world.manager)
    assert to_former == f"Elena ha riassegnato il patto n. {pact.id} (TILDE) a Marco. Motivo: ferie lunghe"
    # The people in the notices are named by number only: the former manager no longer sees the pact.
    assert "Anna" not in to_new + to_former
    [new_note] = session.scalars(select(Notification).where(Notification.user_id == world.colleague.id)).all()
    [former_note] = session.scalars(select(Notification).where(Notification.user_id == world.manager.id)).all()
    assert new_note.pact_id == pact.id and former_note.pact_id is None


def test_many_pacts_at_once_one_notice_per_manager(session, registry, world):
    sara = User(username="sara", full_name="Sara Neri", email="sara@example.org", password_hash="!",
                role=Role.CASE_MANAGER, territory=world.comune)
    session.add(sara)
    session.commit()
    giulias = [open_pact_at(session, registry, world, OPENED) for _ in range(3)]
    saras = open_pact_at(session, registry, world, OPENED, manager=sara)
    records = reassign(session, registry, world.supervisor, [*giulias, saras], world.colleague)
    session.commit()
    assert [(r.pact_id, r.from_manager_id) for r in records] == [
        *((p.id, world.manager.id) for p in giulias), (saras.id, sara.id)]
    assert count(session, PactReassignment) == 4
    assert session.scalar(select(func.count()).select_from(Pact).where(Pact.case_manager_id == world.colleague.id)) == 4
    ids = [p.id for p in giulias]
    [to_new] = messages(session, registry, world.colleague)
    assert to_new == (f"Elena ti ha assegnato 4 patti: n. {ids[0]} (TILDE, da Giulia), n. {ids[1]} (TILDE, da Giulia), "
                      f"n. {ids[2]} (TILDE, da Giulia), n. {saras.id} (TILDE, da Sara Neri). "
                      "Motivo: riequilibrio dei carichi")
    [to_giulia] = messages(session, registry, world.manager)
    assert to_giulia == (f"Elena ha riassegnato a Marco 3 patti che seguivi: n. {ids[0]} (TILDE), n. {ids[1]} (TILDE), "
                         f"n. {ids[2]} (TILDE). Motivo: riequilibrio dei carichi")
    [to_sara] = messages(session, registry, sara)
    assert to_sara.startswith(f"Elena ha riassegnato il patto n. {saras.id} (TILDE) a Marco.")


@pytest.mark.parametrize("case,errors", [
    ("no reason", {"reason": "required"}),
    ("reason too long", {"reason": "too_long"}),
    ("no target", {"to_manager": "required"}),
    ("target elsewhere", {"to_manager": "not_eligible"}),
    ("target inactive", {"to_manager": "not_eligible"}),
    ("target a supervisor", {"to_manager": "not_eligible"}),
    ("same manager", {"to_manager": "same_manager"}),
    ("no pacts", {"pacts": "required"}),
    ("pact not seen", {"pacts": "not_found"}),
    ("nothing right", {"reason": "required", "to_manager": "required", "pacts": "required"}),
])
def test_refused_input_writes_nothing(session, registry, world, case, errors):
    pact = open_pact_at(session, registry, world, OPENED)
    elsewhere = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    luca = User(username="luca", full_name="Luca Galli", email="luca@example.org", password_hash="!",
                role=Role.CASE_MANAGER, territory=elsewhere)
    session.add_all([elsewhere, luca])
    session.commit()
    pacts, target, reason = [pact], world.colleague, "motivo"
    if case == "no reason":
        reason = "   "
    elif case == "reason too long":
        reason = "x" * 2001
    elif case == "no target":
        target = None
    elif case == "target elsewhere":
        target = luca
    elif case == "target inactive":
        world.colleague.active = False
    elif case == "target a supervisor":
        target = world.supervisor
    elif case == "same manager":
        target = world.manager
    elif case == "no pacts":
        pacts = []
    elif case == "pact not seen":
        world.programme.restricted = True  # a supervisor not assigned to it does not see it
    elif case == "nothing right":
        pacts, target, reason = [], None, ""
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        reassign(session, registry, world.supervisor, pacts, target, reason)
    assert refused.value.errors == errors
    session.rollback()
    assert count(session, PactReassignment) == count(session, Notification) == 0
    assert session.get(Pact, pact.id).case_manager_id == world.manager.id


def test_only_an_active_supervisor_reassigns(session, registry, world):
    pact = open_pact_at(session, registry, world, OPENED)
    with pytest.raises(ReassignmentRefused):
        reassign(session, registry, world.manager, [pact], world.colleague)
    world.supervisor.active = False
    session.commit()
    with pytest.raises(ReassignmentRefused):
        reassign(session, registry, world.supervisor, [pact], world.colleague)


def test_a_stale_version_in_the_batch_writes_nothing(session, registry, world):
    first, second = (open_pact_at(session, registry, world, OPENED) for _ in range(2))
    with pytest.raises(PactConflict) as conflict:
        reassign(session, registry, world.supervisor, [first, second], world.colleague,
                 versions={second.id: second.version - 1})
    assert conflict.value.pact_id == second.id
    session.rollback()
    assert count(session, PactReassignment) == count(session, Notification) == 0
    assert {p.case_manager_id for p in session.scalars(select(Pact))} == {world.manager.id}


def test_a_pact_reassigned_meanwhile_to_the_same_manager_is_a_conflict(session, registry, world):
    """Two supervisors hand the same pact to Marco at once: the second is told someone else changed
    it (a conflict), not that she chose the manager who already has it."""
    pact = open_pact_at(session, registry, world, OPENED)
    read = pact.version
    reassign(session, registry, world.supervisor, [pact], world.colleague)
    session.commit()
    with pytest.raises(PactConflict):
        reassign(session, registry, world.supervisor, [pact], world.colleague, versions={pact.id: read})
    session.rollback()
    assert count(session, PactReassignment) == 1


def test_a_change_between_reading_and_writing_undoes_the_batch(session, session_factory, registry, world):
    first, second = (open_pact_at(session, registry, world, OPENED) for _ in range(2))
    first_id, second_id = first.id, second.id
    read = {first_id: first.version, second_id: second.version}
    # Someone else changes the second pact after this session read it (still in its identity map).
    with session_factory() as other:
        other.get(Pact, second_id).updated_at = MOVED
        other.commit()
    colleague_id, manager_id = world.colleague.id, world.manager.id
    with pytest.raises(PactConflict) as conflict:
        reassign_pacts(session, registry, world.supervisor, read, colleague_id, "motivo", now=MOVED, zone=ZONE)
    assert conflict.value.pact_id == second_id
    session.rollback()
    with session_factory() as check:
        assert check.scalar(select(func.count()).select_from(PactReassignment)) == 0
        assert {p.case_manager_id for p in check.scalars(select(Pact))} == {manager_id}
        assert check.get(Pact, first_id).version == read[first_id]


# --- reminders follow the pact -------------------------------------------------------------------


def test_reminders_still_to_come_go_to_the_new_manager(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, OPENED)
    sweep_at(session_factory, registry, rome(2026, 3, 2, 10))
    reassign(session, registry, world.supervisor, [pact], world.colleague)
    session.commit()
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))
    assert fired(session_factory) == [(pact.id, "screening_due", date(2026, 3, 16), "reminder", "marco")]
    assert [email.to_address for email in emails(session_factory)] == ["marco@example.org"]


def test_a_reminder_already_sent_is_sent_to_nobody_again(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, OPENED)
    other = open_pact_at(session, registry, world, OPENED)  # stays with Giulia
    sweep_at(session_factory, registry, rome(2026, 3, 13, 8))  # Giulia's reminders: one e-mail for both pacts
    alone = open_pact_at(session, registry, world, rome(2026, 3, 3, 9))  # due 17 March, reminder Monday 16
    sweep_at(session_factory, registry, rome(2026, 3, 16, 8))
    [both, only_alone] = emails(session_factory)
    assert unread_count(session, world.manager, rome(2026, 3, 16, 9)) == 3

    reassign(session, registry, world.supervisor, [pact, alone], world.colleague, now=rome(2026, 3, 16, 9))
    session.commit()
    # Her reminders about the pacts she handed over move to Marco, who must act on them now; the
    # one about the pact she keeps stays hers; the notice of the reassignment is new for both.
    waiting = list_notifications(session, registry, world.manager, now=rome(2026, 3, 16, 10))
    # (listed by due day: the reminder's deadline first, then the notice about no deadline)
    assert [(note.kind, note.pact_id) for note in waiting] == [("reminder", other.id), ("message", None)]
    taken_over = list_notifications(session, registry, world.colleague, now=rome(2026, 3, 16, 10))
    assert sorted((note.kind, note.pact_id) for note in taken_over if note.kind == "reminder") == sorted(
        [("reminder", pact.id), ("reminder", alone.id)])
    assert unread_count(session, world.colleague, rome(2026, 3, 16, 10)) == 3  # two reminders, one notice
    # The e-mail only about a pact handed over is not sent; the one also about her own pact still goes.
    statuses = {email.id: email.status for email in emails(session_factory)}
    assert statuses == {both.id: EmailStatus.PENDING, only_alone.id: EmailStatus.CANCELLED}

    # Screening due 16 March: overdue by two whole days on Thursday 19, the escalation goes to
    # the supervisor; the reminder already written is not written again, for Marco or anyone.
    sweep_at(session_factory, registry, rome(2026, 3, 16, 10))
    sweep_at(session_factory, registry, rome(2026, 3, 19, 8))
    reminders = [(p, kind, user) for p, _, _, kind, user in fired(session_factory)]
    assert [r for r in reminders if r[1] == "reminder"] == [
        (pact.id, "reminder", "giulia"), (other.id, "reminder", "giulia"), (alone.id, "reminder", "giulia")]
    assert sorted(r for r in reminders if r[1] == "escalation") == sorted([
        (pact.id, "escalation", "elena"), (other.id, "escalation", "elena")])


# --- the case file's timeline ---------------------------------------------------------------------


def test_the_timeline_shows_reassignments_and_approval_decisions(session, registry, world):
    pact = open_pact_at(session, registry, world, OPENED)
    revision = PactRevision(pact_id=pact.id, number=1, content={}, created_by_id=world.manager.id,
                            created_at=rome(2026, 3, 3, 9))
    session.add(revision)
    session.flush()
    session.add_all([
        PactApproval(pact_id=pact.id, revision_id=revision.id, decision=ApprovalDecision.SENT_BACK,
                     comment="manca un obiettivo sul lavoro", decided_by_id=world.supervisor.id,
                     decided_at=rome(2026, 3, 4, 9), pact_version=pact.version),
        PactApproval(pact_id=pact.id, revision_id=revision.id, decision=ApprovalDecision.APPROVED,
                     decided_by_id=world.supervisor.id, decided_at=rome(2026, 3, 4, 16), pact_version=pact.version),
    ])
    session.commit()
    reassign(session, registry, world.supervisor, [pact], world.colleague, "ferie lunghe")
    session.commit()
    entries = timeline(session, registry, pact, locale="it")
    moved, approved, sent_back = (e for e in entries if e.kind in (EntryKind.REASSIGNMENT, EntryKind.APPROVAL))
    assert (moved.kind, moved.at, moved.actor, moved.from_label, moved.to_label, moved.text) == (
        EntryKind.REASSIGNMENT, MOVED, "Elena", "Giulia", "Marco", "ferie lunghe")
    assert (approved.code, approved.number, approved.actor, approved.at) == ("approved", 1, "Elena", rome(2026, 3, 4, 16))
    assert (sent_back.code, sent_back.text) == ("sent_back", "manca un obiettivo sul lavoro")
    assert entries[0] is moved  # newest first
