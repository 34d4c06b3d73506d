"""Restricting the processing of a person's data (GDPR art. 18): who may restrict and lift, with
a reason, both logged; while restricted every kind of write about the person or their pacts is
refused and nothing is written, reading and copying stay allowed, reminders wait and resume
once lifted, and the person cannot be erased. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from casework.clock import Clock
from casework.errors import InvalidInput, RecordRestricted
from casework.models import (
    AccessLogEntry,
    AdministrativeLogEntry,
    Beneficiary,
    BeneficiaryRestriction,
    ContactChannel,
    DocumentKind,
    HouseholdMember,
    JournalKind,
    Pact,
    Relation,
    ReferralSource,
)
from casework.pacts import casefile
from casework.pacts import operations as ops
from casework.pacts.documents import store_document
from casework.people import beneficiaries as people
from casework.people.erasure import erase_person, erasure_candidates
from casework.people.restriction import current_restriction, lift_restriction, restrict_processing
from casework.people.subject_access import person_dossier
from casework.reminders.notifications import queue_daily_digests
from casework.supervision.reassignment import reassign_pacts
from tests.conftest import MONDAY_9AM, ZONE
from tests.reminders.helpers import ROME, emails, fired, open_pact_at, rome, sweep_at

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
NOW = MONDAY_9AM
CLOCK = Clock(NOW, ZONE)


@pytest.fixture
def pact(session, registry, world) -> Pact:
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=CLOCK)
    session.commit()
    return opened


def _restrict(session, world, who=None) -> None:
    restricted = restrict_processing(session, who or world.supervisor, world.beneficiary.id,
                                     reason="la persona contesta l'esattezza dei dati", now=NOW)
    assert restricted is not None
    session.commit()


def _rows(session) -> dict[str, int]:
    from casework.models import Base

    return {table.name: session.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if table.name not in ("access_log_entry", "administrative_log_entry", "data_version")}


WRITES = {
    "edit the person": lambda s, r, w, p, d: setattr(s.get(Beneficiary, w.beneficiary.id), "phone", "011 555"),
    "household": lambda s, r, w, p, d: s.get(Beneficiary, w.beneficiary.id).household.append(
        HouseholdMember(first_name="Luca", relation=Relation.CHILD)),
    "move of the workflow": lambda s, r, w, p, d: ops.transition_pact(
        s, r, s.get(Pact, p.id), "withdraw", actor=w.manager, clock=CLOCK, reason="moved_away"),
    "referral": lambda s, r, w, p, d: ops.record_referral(
        s, s.get(Pact, p.id), source=ReferralSource.SELF, reason="chiede aiuto", referred_on=date(2026, 3, 1),
        actor=w.manager, clock=CLOCK),
    "goal": lambda s, r, w, p, d: ops.add_goal(s, s.get(Pact, p.id), description="trovare casa", clock=CLOCK),
    "contact": lambda s, r, w, p, d: ops.log_contact(
        s, r, s.get(Pact, p.id), contact_at=NOW, channel=ContactChannel.PHONE, notes="sentita", actor=w.manager,
        clock=CLOCK),
    "journal": lambda s, r, w, p, d: casefile.add_journal_entry(
        s, s.get(Pact, p.id), kind=JournalKind.NOTE, at=NOW, text="nota", actor=w.manager, now=NOW),
    "document of the person": lambda s, r, w, p, d: store_document(
        s, d, io.BytesIO(PDF), file_name="carta.pdf", kind=DocumentKind.ID_DOCUMENT, max_bytes=10_000,
        actor=w.manager, now=NOW, beneficiary=s.get(Beneficiary, w.beneficiary.id)),
    "document of the pact": lambda s, r, w, p, d: store_document(
        s, d, io.BytesIO(PDF), file_name="patto.pdf", kind=DocumentKind.SIGNED_PACT, max_bytes=10_000,
        actor=w.manager, now=NOW, pact=s.get(Pact, p.id)),
    "new pact": lambda s, r, w, p, d: ops.open_pact(
        s, r, beneficiary=s.get(Beneficiary, w.beneficiary.id), programme=w.chance, case_manager=w.manager,
        actor=w.manager, clock=CLOCK),
    "reassignment": lambda s, r, w, p, d: reassign_pacts(
        s, r, w.supervisor, {p.id: s.get(Pact, p.id).version}, w.colleague.id, "ferie", now=NOW, zone=ZONE),
    "goal removed": lambda s, r, w, p, d: ops.remove_goal(s, s.get(Pact, p.id).goals[0], clock=CLOCK),
    "household member removed": lambda s, r, w, p, d: s.delete(s.get(Beneficiary, w.beneficiary.id).household[0]),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_kind_of_write_about_a_restricted_person_is_refused(session, registry, world, pact, tmp_path, write):
    ops.add_goal(session, pact, description="lavoro", clock=CLOCK)
    world.beneficiary.household.append(HouseholdMember(first_name="Anna", relation=Relation.PARENT))
    session.commit()
    _restrict(session, world)
    before = _rows(session)
    documents = tmp_path / "documents"
    with pytest.raises(RecordRestricted) as refused:
        WRITES[write](session, registry, world, pact, documents)
        session.flush()
    session.rollback()
    assert (refused.value.beneficiary_id, refused.value.restricted_by) == (world.beneficiary.id, "Elena")
    assert _rows(session) == before
    assert not documents.exists() or list(documents.iterdir()) == []  # a refused upload leaves no file behind


def test_the_same_writes_work_once_the_restriction_is_lifted(session, registry, world, pact):
    _restrict(session, world)
    assert lift_restriction(session, world.supervisor, world.beneficiary.id, reason="dati rettificati",
                            now=NOW + timedelta(hours=1)) is not None
    session.commit()
    ops.add_goal(session, session.get(Pact, pact.id), description="trovare casa", clock=CLOCK)
    ops.transition_pact(session, registry, session.get(Pact, pact.id), "withdraw", actor=world.manager, clock=CLOCK,
                        reason="moved_away")
    session.commit()
    assert session.get(Pact, pact.id).closed_at is not None


def test_other_people_stay_writable(session, registry, world, pact):
    _restrict(session, world)
    other = Beneficiary(first_name="Anna", last_name="Neri", gender=world.beneficiary.gender, comune=world.comune)
    session.add(other)
    session.flush()
    ops.open_pact(session, registry, beneficiary=other, programme=world.programme, case_manager=world.manager,
                  actor=world.manager, clock=CLOCK)
    session.commit()


def test_reading_and_copying_a_restricted_record_stay_allowed(session, registry, world, pact):
    _restrict(session, world)
    record = people.beneficiary_record(session, registry, world.manager, world.beneficiary.id, clock=CLOCK,
                                       locale="it")
    assert record is not None and record.beneficiary.last_name == "Rossi"
    dossier = person_dossier(session, world.manager, world.beneficiary.id, reason="richiesta di accesso", now=NOW)
    assert dossier is not None and "beneficiary_restriction" in [section.table for section in dossier.sections]
    session.commit()  # the access log entries of the reading and of the copy


def test_restricting_and_lifting_are_logged_with_their_reasons(session, world, pact):
    _restrict(session, world, world.manager)
    lift_restriction(session, world.supervisor, world.beneficiary.id, reason="dati rettificati",
                     now=NOW + timedelta(hours=1))
    session.commit()
    accesses = session.execute(select(AccessLogEntry.action, AccessLogEntry.detail, AccessLogEntry.user_id)
                               .where(AccessLogEntry.action.in_(("restrict", "lift_restriction")))
                               .order_by(AccessLogEntry.id)).all()
    assert [tuple(row) for row in accesses] == [
        ("restrict", "restriction of processing: la persona contesta l'esattezza dei dati", world.manager.id),
        ("lift_restriction", "restriction of processing lifted: dati rettificati", world.supervisor.id)]
    assert session.scalars(select(AdministrativeLogEntry.action).order_by(AdministrativeLogEntry.id)).all() == [
        "restrict_processing", "lift_restriction"]
    row = session.scalars(select(BeneficiaryRestriction)).one()
    assert (row.restricted_by_id, row.lifted_by_id, row.lift_reason) == (
        world.manager.id, world.supervisor.id, "dati rettificati")
    assert current_restriction(session, world.beneficiary.id) is None


@pytest.mark.parametrize("reason", ["", "   \n ", "x" * 501])
def test_a_reason_is_required_to_restrict_and_to_lift(session, world, pact, reason):
    with pytest.raises(InvalidInput) as refused:
        restrict_processing(session, world.supervisor, world.beneficiary.id, reason=reason, now=NOW)
    assert refused.value.errors["reason"] in ("required", "too_long")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(BeneficiaryRestriction)) == 0
    _restrict(session, world)
    with pytest.raises(InvalidInput):
        lift_restriction(session, world.supervisor, world.beneficiary.id, reason=reason, now=NOW)
    session.rollback()
    assert current_restriction(session, world.beneficiary.id) is not None


def test_who_may_restrict_and_lift(session, world, pact):
    # A case manager not on the person's pacts does not see them: nothing to restrict.
    assert restrict_processing(session, world.colleague, world.beneficiary.id, reason="r", now=NOW) is None
    _restrict(session, world, world.manager)
    with pytest.raises(InvalidInput) as twice:
        restrict_processing(session, world.supervisor, world.beneficiary.id, reason="di nuovo", now=NOW)
    assert twice.value.errors == {"reason": "already_restricted"}
    session.rollback()
    # Only a supervisor lifts a restriction.
    assert lift_restriction(session, world.manager, world.beneficiary.id, reason="r", now=NOW) is None
    assert lift_restriction(session, world.colleague, world.beneficiary.id, reason="r", now=NOW) is None
    assert lift_restriction(session, world.supervisor, world.beneficiary.id, reason="r", now=NOW) is not None
    session.commit()
    with pytest.raises(InvalidInput) as again:
        lift_restriction(session, world.supervisor, world.beneficiary.id, reason="r", now=NOW)
    assert again.value.errors == {"reason": "not_restricted"}


def test_one_open_restriction_per_person_even_from_the_database(session, world, pact):
    _restrict(session, world)
    session.add(BeneficiaryRestriction(beneficiary_id=world.beneficiary.id, restricted_at=NOW,
                                       restricted_by_id=world.manager.id, reason="doppia"))
    with pytest.raises(Exception):  # noqa: B017 - the unique index, whichever driver's error
        session.flush()
    session.rollback()


def test_reminders_of_a_restricted_pact_wait_and_go_out_once_lifted(session, session_factory, registry, world):
    pact = open_pact_at(session, registry, world, rome(2025, 4, 16, 10), beneficiary=world.beneficiary)
    restrict_processing(session, world.supervisor, world.beneficiary.id, reason="contestazione",
                        now=rome(2025, 4, 17, 10))
    session.commit()
    sweep_at(session_factory, registry, rome(2025, 5, 8, 9))
    assert fired(session_factory) == []
    lift_restriction(session, world.supervisor, world.beneficiary.id, reason="chiarito", now=rome(2025, 5, 8, 10))
    session.commit()
    sweep_at(session_factory, registry, rome(2025, 5, 8, 11))
    # Parked, not lost: the reminder to the case manager and the escalation to the supervisor.
    assert {(row[0], row[4]) for row in fired(session_factory)} == {(pact.id, "giulia"), (pact.id, "elena")}


def test_a_restricted_person_is_not_erased_nor_proposed_for_erasure(session, registry, world, pact):
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=CLOCK, reason="moved_away")
    closed = session.get(Pact, pact.id)
    closed.opened_at, closed.closed_at = NOW - timedelta(days=830), NOW - timedelta(days=800)
    world.programme.retention_months = 12
    session.commit()
    assert [c.beneficiary_id for c in erasure_candidates(session, world.supervisor, now=NOW)] == [world.beneficiary.id]
    _restrict(session, world)
    assert erasure_candidates(session, world.supervisor, now=NOW) == []
    with pytest.raises(InvalidInput) as refused:
        erase_person(session, world.supervisor, world.beneficiary.id, reason="termine di conservazione", now=NOW)
    assert refused.value.errors == {"reason": "restricted"}
    session.rollback()
    assert session.get(Beneficiary, world.beneficiary.id).last_name == "Rossi"


def test_the_loser_of_two_restrictions_at_once_is_told_not_crashed(session, world, pact, monkeypatch):
    _restrict(session, world)
    # As if the other request's restriction was committed after this one looked.
    monkeypatch.setattr("casework.people.restriction.current_restriction", lambda *args: None)
    with pytest.raises(InvalidInput) as refused:
        restrict_processing(session, world.manager, world.beneficiary.id, reason="anche io", now=NOW)
    assert refused.value.errors == {"reason": "already_restricted"}
    session.rollback()
    assert session.scalar(select(func.count()).select_from(BeneficiaryRestriction)) == 1


def test_the_daily_digest_leaves_out_a_restricted_persons_deadlines(session, session_factory, registry, world):
    restricted = open_pact_at(session, registry, world, rome(2026, 2, 2, 9), beneficiary=world.beneficiary)
    other = open_pact_at(session, registry, world, rome(2026, 2, 2, 9))
    restrict_processing(session, world.supervisor, world.beneficiary.id, reason="contestazione",
                        now=rome(2026, 2, 3, 9))
    session.commit()
    sweep_at(session_factory, registry, rome(2026, 3, 12, 6))
    assert queue_daily_digests(session_factory, registry, now=rome(2026, 3, 12, 7), zone=ROME, digest_hour=7,
                               base_url="https://casework.example.org", holder="test") == 1
    [digest] = [email for email in emails(session_factory) if email.kind == "digest"]
    assert f"/pacts/{other.id}" in digest.body and f"/pacts/{restricted.id}" not in digest.body


def test_an_erasure_after_the_restriction_is_lifted_empties_its_reasons(session, registry, world, pact):
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=CLOCK, reason="moved_away")
    session.commit()
    _restrict(session, world)
    lift_restriction(session, world.supervisor, world.beneficiary.id, reason="la signora Rossi ha ritirato la richiesta",
                     now=NOW)
    session.commit()
    assert erase_person(session, world.supervisor, world.beneficiary.id, reason="richiesta", now=NOW) is not None
    session.commit()
    session.expire_all()
    row = session.scalars(select(BeneficiaryRestriction)).one()
    assert (row.reason, row.lift_reason, row.restricted_by_id, row.lifted_at is not None) == (
        "—", "—", world.supervisor.id, True)
