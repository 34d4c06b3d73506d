"""The case file's core: the timeline after real operations, the journal, the équipe."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from casework.clock import Clock
from casework.errors import InvalidInput, PactConflict
from casework.models import (
    Beneficiary,
    ChangeRecord,
    ContactChannel,
    DocumentKind,
    Gender,
    JournalEntry,
    JournalKind,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import casefile
from casework.pacts import operations as ops
from casework.pacts.casefile import EntryKind
from casework.pacts.documents import store_document
from casework.security.access import can_see_pact
from casework.security.audit import record_changes
from tests.conftest import MONDAY_9AM, ZONE
from tests.support import advance

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def at(minutes: int) -> Clock:
    return Clock(MONDAY_9AM + timedelta(minutes=minutes), ZONE)


@pytest.fixture
def pact(session, registry, world):
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=at(0))
    session.commit()
    return opened


def other_user(session, username: str, role: Role, territory: Territory, *, active: bool = True) -> User:
    user = User(username=username, full_name=username.title(), email=f"{username}@example.org", password_hash="!",
                role=role, territory=territory, active=active)
    session.add(user)
    session.commit()
    return user


# --- Timeline --------------------------------------------------------------------------


def test_the_timeline_lists_real_operations_newest_first_with_who(session, registry, world, pact, tmp_path):
    advance(session, registry, pact, "start_screening", world.manager, at(10))
    casefile.add_journal_entry(session, pact, kind=JournalKind.PHONE_CALL, at=at(15).now, text="Chiamata alla madre",
                               actor=world.colleague, now=at(20).now)
    advance(session, registry, pact, "start_co_design", world.manager, at(30))
    advance(session, registry, pact, "activate", world.manager, at(40))
    ops.log_contact(session, registry, pact, contact_at=at(45).now, channel=ContactChannel.HOME_VISIT,
                    notes="visita a casa", actor=world.manager, clock=at(50))
    store_document(session, tmp_path, io.BytesIO(PDF), file_name="patto firmato.pdf", kind=DocumentKind.SIGNED_PACT,
                   max_bytes=10_000, actor=world.manager, now=at(55).now, pact=pact)
    session.commit()

    entries = casefile.timeline(session, registry, pact, locale="it")

    assert [entry.at for entry in entries] == sorted((entry.at for entry in entries), reverse=True)
    kinds = [entry.kind for entry in entries]
    assert kinds[:3] == [EntryKind.DOCUMENT, EntryKind.CONTACT, EntryKind.TRANSITION]
    assert kinds[-1] == EntryKind.TRANSITION  # the opening, oldest
    assert {EntryKind.REFERRAL, EntryKind.SCREENING, EntryKind.REVISION, EntryKind.JOURNAL} <= set(kinds)

    moves = [entry for entry in entries if entry.kind == EntryKind.TRANSITION]
    assert [(m.code, m.from_label, m.to_label) for m in moves] == [
        ("activate", "Co-progettazione", "Attivazione"),
        ("start_co_design", "Screening", "Co-progettazione"),
        ("start_screening", "Segnalazione", "Screening"),
        ("open", "", "Segnalazione"),
    ]
    assert moves[0].label == "Attiva il patto"
    assert all(m.actor == world.manager.full_name for m in moves)

    [journal] = [e for e in entries if e.kind == EntryKind.JOURNAL]
    assert (journal.code, journal.text, journal.actor, journal.at) == (
        "phone_call", "Chiamata alla madre", world.colleague.full_name, at(15).now)
    [contact] = [e for e in entries if e.kind == EntryKind.CONTACT]
    assert (contact.code, contact.text, contact.at) == ("home_visit", "visita a casa", at(45).now)
    [revision] = [e for e in entries if e.kind == EntryKind.REVISION]
    assert revision.number == 1 and revision.signed_on is not None and revision.text == "Maria Rossi"
    [document] = [e for e in entries if e.kind == EntryKind.DOCUMENT]
    assert (document.code, document.text, document.actor) == ("signed_pact", "patto firmato.pdf", world.manager.full_name)
    assert document.document_id is not None


def test_labels_follow_the_locale(session, registry, world, pact):
    advance(session, registry, pact, "start_screening", world.manager, at(10))
    [move, _opening] = [e for e in casefile.timeline(session, registry, pact, locale="en")
                        if e.kind == EntryKind.TRANSITION]
    assert (move.label, move.from_label, move.to_label) == ("Start screening", "Referral", "Screening")


def test_edits_of_the_pact_and_of_its_beneficiary_are_in_the_timeline_but_not_others(session, registry, world, pact):
    stranger = Beneficiary(first_name="Anna", last_name="Verdi", gender=Gender.FEMALE)
    session.add(stranger)
    session.flush()
    record_changes(session, "pact", pact.id, {"priority": None}, {"priority": "high"}, actor=world.manager,
                   now=at(5).now)
    record_changes(session, "beneficiary", world.beneficiary.id, {"phone": ""}, {"phone": "333 1234567"},
                   actor=world.supervisor, now=at(6).now)
    record_changes(session, "beneficiary", stranger.id, {"phone": ""}, {"phone": "000"}, actor=world.manager,
                   now=at(7).now)
    session.commit()

    edits = [e for e in casefile.timeline(session, registry, pact, locale="it")
             if e.kind in (EntryKind.PACT_EDIT, EntryKind.PERSON_EDIT)]

    assert [(e.kind, e.code, e.old_value, e.new_value, e.actor) for e in edits] == [
        (EntryKind.PERSON_EDIT, "phone", "", "333 1234567", world.supervisor.full_name),
        (EntryKind.PACT_EDIT, "priority", "", "high", world.manager.full_name),
    ]


def test_documents_of_the_person_count_but_not_those_of_other_pacts(session, registry, world, pact, tmp_path):
    other = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.chance,
                          case_manager=world.manager, actor=world.manager, clock=at(1))
    for owner in ({"beneficiary": world.beneficiary}, {"pact": other}):
        store_document(session, tmp_path, io.BytesIO(PDF), file_name="carta.pdf", kind=DocumentKind.ID_DOCUMENT,
                       max_bytes=10_000, actor=world.manager, now=at(3).now, **owner)
    session.commit()

    documents = [e for e in casefile.timeline(session, registry, pact, locale="it") if e.kind == EntryKind.DOCUMENT]

    assert len(documents) == 1 and documents[0].code == "id_document"


def test_the_timeline_can_be_cut_to_the_latest_entries(session, registry, world, pact):
    for minute in range(1, 6):
        casefile.add_journal_entry(session, pact, kind=JournalKind.NOTE, at=at(minute).now, text=f"nota {minute}",
                                   actor=world.manager, now=at(10).now)
    session.commit()
    latest = casefile.timeline(session, registry, pact, locale="it", limit=2)
    assert [e.text for e in latest] == ["nota 5", "nota 4"]


def test_a_move_by_the_system_has_no_actor(session, registry, world, pact):
    ops.record_referral(session, pact, source=ops.ReferralSource.SCHOOL, reason="assenze",
                        referred_on=MONDAY_9AM.date(), actor=world.manager, clock=at(1))
    ops.transition_pact(session, registry, pact, "start_screening", actor=None, clock=at(2))
    session.commit()
    newest = casefile.timeline(session, registry, pact, locale="it")[0]
    assert newest.kind == EntryKind.TRANSITION and newest.actor == ""


# --- Journal ---------------------------------------------------------------------------


def test_a_journal_entry_is_stored_trimmed_and_leaves_the_pact_version_alone(session, world, pact):
    version = pact.version
    entry = casefile.add_journal_entry(session, pact, kind=JournalKind.EQUIPE_MEETING, at=at(-60).now,
                                       text="  riunione con la scuola  ", actor=world.manager, now=at(0).now)
    session.commit()
    stored = session.scalars(select(JournalEntry)).one()
    assert stored.id == entry.id
    assert (stored.text, stored.kind, stored.author_id, stored.at, stored.recorded_at) == (
        "riunione con la scuola", JournalKind.EQUIPE_MEETING, world.manager.id, at(-60).now, at(0).now)
    assert pact.version == version


@pytest.mark.parametrize(("text", "when", "errors"), [
    ("", 0, {"text": "required"}),
    ("   \n ", 0, {"text": "required"}),
    ("x" * (casefile.MAX_JOURNAL_TEXT + 1), 0, {"text": "too_long"}),
    ("domani", 1, {"at": "in_future"}),
    ("", 60, {"text": "required", "at": "in_future"}),
])
def test_journal_entries_need_text_and_a_time_not_in_the_future(session, world, pact, text, when, errors):
    with pytest.raises(InvalidInput) as refused:
        casefile.add_journal_entry(session, pact, kind=JournalKind.NOTE, at=at(when).now, text=text,
                                   actor=world.manager, now=at(0).now)
    assert refused.value.errors == errors
    assert session.scalars(select(JournalEntry)).all() == []


# --- Équipe ----------------------------------------------------------------------------


def test_a_colleague_added_sees_the_pact_and_once_removed_no_longer(session, world, pact):
    assert not can_see_pact(session, world.colleague, pact.id)
    version = pact.version

    member = casefile.add_colleague(session, pact, world.colleague, "psicologo", actor=world.manager, clock=at(5),
                                    expected_version=version)
    session.commit()
    assert can_see_pact(session, world.colleague, pact.id)
    assert pact.version == version + 1

    casefile.remove_member(session, pact, member.id, actor=world.manager, clock=at(6), expected_version=version + 1)
    session.commit()
    assert not can_see_pact(session, world.colleague, pact.id)
    assert pact.members == []
    assert pact.version == version + 2

    history = session.scalars(select(ChangeRecord).where(ChangeRecord.field == casefile.EQUIPE_FIELD)
                              .order_by(ChangeRecord.id)).all()
    assert [(r.old_value, r.new_value, r.actor_id) for r in history] == [
        ("", "Marco (psicologo)", world.manager.id),
        ("Marco (psicologo)", "", world.manager.id),
    ]


def test_equipe_changes_show_in_the_timeline(session, registry, world, pact):
    casefile.add_external_member(session, pact, name="Prof.ssa Neri", role="insegnante", organisation="IC Settimo",
                                 contact="neri@example.org", actor=world.manager, clock=at(5))
    session.commit()
    [entry] = [e for e in casefile.timeline(session, registry, pact, locale="it") if e.kind == EntryKind.PACT_EDIT]
    assert (entry.code, entry.new_value, entry.actor) == (
        "equipe", "Prof.ssa Neri (insegnante, IC Settimo)", world.manager.full_name)


def test_an_external_contact_needs_a_name_and_a_role(session, world, pact):
    with pytest.raises(InvalidInput) as refused:
        casefile.add_external_member(session, pact, name=" ", role="", actor=world.manager, clock=at(5))
    assert refused.value.errors == {"external_name": "required", "role": "required"}


def test_only_active_colleagues_of_the_programme_territory_can_join(session, world, pact):
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    settimo_user = other_user(session, "sara", Role.CASE_MANAGER, world.comune)  # below the programme's unione
    elsewhere = other_user(session, "luca", Role.CASE_MANAGER, lodi)
    retired = other_user(session, "rita", Role.CASE_MANAGER, world.comune, active=False)
    admin = other_user(session, "root", Role.ADMIN, world.comune)

    eligible = casefile.eligible_colleagues(session, pact)
    assert {u.username for u in eligible} == {"marco", "elena", "sara"}

    for user, code in ((elsewhere, "not_eligible"), (retired, "not_eligible"), (admin, "not_eligible"),
                       (world.manager, "is_case_manager"), (None, "required")):
        with pytest.raises(InvalidInput) as refused:
            casefile.add_colleague(session, pact, user, "ruolo", actor=world.manager, clock=at(5))
        assert refused.value.errors == {"user": code}

    casefile.add_colleague(session, pact, settimo_user, "educatrice", actor=world.manager, clock=at(5))
    with pytest.raises(InvalidInput) as refused:
        casefile.add_colleague(session, pact, settimo_user, "", actor=world.manager, clock=at(6))
    assert refused.value.errors == {"user": "already_member", "role": "required"}
    assert "sara" not in {u.username for u in casefile.eligible_colleagues(session, pact)}


def test_only_the_case_manager_or_a_supervisor_changes_the_equipe(session, world, pact):
    member = casefile.add_colleague(session, pact, world.colleague, "psicologo", actor=world.supervisor, clock=at(5))
    session.commit()
    with pytest.raises(casefile.EquipeChangeRefused):
        casefile.add_external_member(session, pact, name="Ada", role="mediatrice", actor=world.colleague, clock=at(6))
    with pytest.raises(casefile.EquipeChangeRefused):
        casefile.remove_member(session, pact, member.id, actor=world.colleague, clock=at(6))
    assert [m.user_id for m in pact.members] == [world.colleague.id]


def test_equipe_changes_from_a_stale_page_are_refused(session, world, pact):
    stale = pact.version
    member = casefile.add_external_member(session, pact, name="Ada", role="mediatrice", actor=world.manager,
                                          clock=at(5), expected_version=stale)
    session.commit()
    with pytest.raises(PactConflict):
        casefile.add_colleague(session, pact, world.colleague, "psicologo", actor=world.manager, clock=at(6),
                               expected_version=stale)
    session.rollback()
    with pytest.raises(PactConflict):
        casefile.remove_member(session, pact, member.id, actor=world.manager, clock=at(6), expected_version=stale)
    session.rollback()
    assert [m.external_name for m in pact.members] == ["Ada"]


def test_removing_someone_not_on_the_equipe_is_refused(session, world, pact):
    with pytest.raises(InvalidInput) as refused:
        casefile.remove_member(session, pact, 9999, actor=world.manager, clock=at(5))
    assert refused.value.errors == {"member": "not_in_pact"}


# --- What the panels get ---------------------------------------------------------------


def test_the_workflow_path_lists_states_in_order_and_moves_made(session, registry, world, pact):
    advance(session, registry, pact, "start_screening", world.manager, at(10))
    advance(session, registry, pact, "suspend", world.manager, at(20))
    advance(session, registry, pact, "resume", world.manager, at(30))
    path = casefile.workflow_path(session, pact)
    assert path.current == "screening"
    assert path.states == ("referral", "screening", "suspended")
    assert path.moves == {("start_screening", "referral", "screening"), ("suspend", "screening", "suspended"),
                          ("resume", "suspended", "screening")}


def test_the_case_file_cuts_the_timeline_and_offers_colleagues_only_to_who_manages(session, registry, world, pact):
    for minute in range(1, 4):
        casefile.add_journal_entry(session, pact, kind=JournalKind.NOTE, at=at(minute).now, text="nota",
                                   actor=world.manager, now=at(10).now)
    session.commit()
    for_manager = casefile.case_file(session, registry, pact, world.manager, locale="it", latest=2)
    assert len(for_manager.timeline) == 2 and for_manager.has_more
    assert for_manager.may_manage_equipe and {u.username for u in for_manager.colleagues} == {"marco", "elena"}

    casefile.add_colleague(session, pact, world.colleague, "psicologo", actor=world.manager, clock=at(11))
    session.commit()
    for_colleague = casefile.case_file(session, registry, pact, world.colleague, locale="it")
    assert not for_colleague.may_manage_equipe and for_colleague.colleagues == []
    assert not for_colleague.has_more
