"""Programmes: a supervisor creates and edits those of their territory, every change kept."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from casework.errors import InvalidInput
from casework.models import (
    Beneficiary,
    ChangeRecord,
    Gender,
    Programme,
    ProgrammeTarget,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.supervision import programmes as core
from tests.conftest import MONDAY_9AM

FEMMINILI = core.ProgrammeInput(
    code="FEMMINILI_PLURALI", name="Femminili Plurali – Fase 2", funder="Compagnia di San Paolo",
    territory_id=None, starts_on=date(2023, 11, 1), ends_on=date(2025, 10, 31),
    workflow_name="patto_personalizzato", description="Percorsi per donne con background migratorio",
    no_contact_days=21,
    targets=[
        core.TargetInput("beneficiaries", Decimal(300), "Persone coinvolte"),
        core.TargetInput("share_women", Decimal("0.80"), "Almeno l'80% donne"),
        core.TargetInput("self_employment_training", 30, "Donne nella formazione sull'autoimprenditoria"),
    ],
)


def typed(world, **changes) -> core.ProgrammeInput:
    return replace(FEMMINILI, **{"territory_id": world.comune.parent_id, **changes})


def create(session, registry, user, data) -> Programme:
    return core.create_programme(session, registry, user, data, now=MONDAY_9AM)


def update(session, registry, user, programme_id, data, **kwargs) -> Programme:
    return core.update_programme(session, registry, user, programme_id, data, now=MONDAY_9AM, **kwargs)


def as_typed(programme: Programme, **changes) -> core.ProgrammeInput:
    """The edit form as it opens on the stored programme, with the user's changes."""
    values = {
        "code": programme.code, "name": programme.name, "funder": programme.funder,
        "territory_id": programme.territory_id, "starts_on": programme.starts_on, "ends_on": programme.ends_on,
        "workflow_name": programme.workflow_name, "description": programme.description,
        "restricted": programme.restricted, "no_contact_days": programme.no_contact_days,
        "targets": [core.TargetInput(t.indicator, t.value, t.description) for t in programme.targets],
    }
    return core.ProgrammeInput(**{**values, **changes})


def stored(session_factory, programme_id: int) -> Programme:
    with session_factory() as fresh:
        return fresh.scalars(
            select(Programme).where(Programme.id == programme_id).options(selectinload(Programme.targets))
        ).one()


def history(session: Session, programme_id: int) -> list[tuple[str, str, str]]:
    return [
        (record.field, record.old_value, record.new_value)
        for record in session.scalars(
            select(ChangeRecord).where(ChangeRecord.entity == "programme", ChangeRecord.entity_id == programme_id)
            .order_by(ChangeRecord.id))
    ]


def programme_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Programme))


def other_ambito(session: Session) -> tuple[Territory, User]:
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    paolo = User(username="paolo", full_name="Paolo", email="paolo@example.org", password_hash="!",
                 role=Role.SUPERVISOR, territory=lodi)
    session.add_all([lodi, paolo])
    session.commit()
    return lodi, paolo


def open_pact(session, registry, world, programme, clock, case_manager=None):
    person = Beneficiary(first_name="Sara", last_name="Neri", gender=Gender.FEMALE, comune=world.comune)
    session.add(person)
    pact = ops.open_pact(session, registry, beneficiary=person, programme=programme,
                         case_manager=case_manager or world.manager, actor=world.manager, clock=clock)
    session.commit()
    return pact


def withdraw(session, registry, pact, world, clock) -> None:
    ops.transition_pact(session, registry, pact, "withdraw", actor=world.manager, clock=clock, reason="moved_away")
    session.commit()
    assert not pact.is_open


# --- creating -----------------------------------------------------------------------------

def test_a_supervisor_creates_a_programme_with_its_targets(session, session_factory, registry, world):
    programme = create(session, registry, world.supervisor, typed(world, code="  FEMMINILI_PLURALI "))
    session.commit()

    saved = stored(session_factory, programme.id)
    assert (saved.code, saved.name, saved.funder, saved.territory_id) == (
        "FEMMINILI_PLURALI", "Femminili Plurali – Fase 2", "Compagnia di San Paolo", world.comune.parent_id)
    assert (saved.starts_on, saved.ends_on, saved.no_contact_days, saved.restricted) == (
        date(2023, 11, 1), date(2025, 10, 31), 21, False)
    assert [(t.indicator, t.value, t.description) for t in saved.targets] == [
        ("beneficiaries", Decimal(300), "Persone coinvolte"),
        ("share_women", Decimal("0.8"), "Almeno l'80% donne"),
        ("self_employment_training", Decimal(30), "Donne nella formazione sull'autoimprenditoria"),
    ]
    created = history(session, programme.id)
    assert ("code", "", "FEMMINILI_PLURALI") in created
    assert ("territory", "", "Unione NET") in created
    assert ("target", "", "share_women: 0.8 (Almeno l'80% donne)") in created
    assert all(record.actor_id == world.supervisor.id for record in session.scalars(select(ChangeRecord)))


def test_a_programme_may_sit_in_a_territory_below_the_supervisors(session, registry, world):
    programme = create(session, registry, world.supervisor, typed(world, territory_id=world.comune.id, targets=[]))
    session.commit()
    assert programme.territory_id == world.comune.id
    assert programme.targets == []


LONG = "x" * 201


@pytest.mark.parametrize(("changes", "field", "code"), [
    ({"code": ""}, "code", "required"),
    ({"code": "femminili"}, "code", "invalid_code"),
    ({"code": "FEMMINILI PLURALI"}, "code", "invalid_code"),
    ({"code": "TILDE"}, "code", "already_used"),
    ({"code": "X" * 41}, "code", "too_long"),
    ({"name": "   "}, "name", "required"),
    ({"name": LONG}, "name", "too_long"),
    ({"funder": ""}, "funder", "required"),
    ({"territory_id": None}, "territory_id", "required"),
    ({"starts_on": None}, "starts_on", "required"),
    ({"ends_on": date(2023, 10, 31)}, "ends_on", "ends_before_starts"),
    ({"workflow_name": ""}, "workflow_name", "required"),
    ({"workflow_name": "welfare_generico"}, "workflow_name", "unknown_workflow"),
    ({"no_contact_days": 0}, "no_contact_days", "at_least_one"),
    ({"no_contact_days": -5}, "no_contact_days", "at_least_one"),
    ({"no_contact_days": None}, "no_contact_days", "required"),
    ({"no_contact_days": 10_000_000_000}, "no_contact_days", "too_many_days"),
    ({"targets": [("beneficiaries", -1, "")]}, "targets-0-value", "negative"),
    ({"targets": [("share_women", Decimal("1.5"), "")]}, "targets-0-value", "share_out_of_range"),
    ({"targets": [("share_women", 80, "")]}, "targets-0-value", "share_out_of_range"),
    ({"targets": [("beneficiaries", Decimal("10.5"), "")]}, "targets-0-value", "not_whole"),
    ({"targets": [("beneficiaries", Decimal("1E+9"), "")]}, "targets-0-value", "too_large"),
    ({"targets": [("beneficiaries", None, "")]}, "targets-0-value", "required"),
    ({"targets": [("beneficiaries", "tanti", "")]}, "targets-0-value", "not_a_number"),
    ({"targets": [("", 10, "qualcosa")]}, "targets-0-indicator", "required"),
    ({"targets": [("Corsi Avviati", 10, "Corsi avviati")]}, "targets-0-indicator", "invalid_indicator"),
    ({"targets": [("corsi_avviati", 10, "")]}, "targets-0-description", "describe_unmeasured"),
    ({"targets": [("corsi_avviati", 10, LONG * 2)]}, "targets-0-description", "too_long"),
    ({"targets": [("share_women", Decimal("0.8"), ""), ("beneficiaries", 5, ""), ("share_women", Decimal("0.9"), "")]},
     "targets-2-indicator", "duplicate_indicator"),
])
def test_each_bad_input_is_refused_at_its_field(session, registry, world, changes, field, code):
    with pytest.raises(InvalidInput) as refused:
        create(session, registry, world.supervisor, typed(world, **changes))
    assert refused.value.errors == {field: code}
    session.rollback()
    assert programme_count(session) == 2


def test_every_wrong_field_is_named_at_once(session, registry, world):
    with pytest.raises(InvalidInput) as refused:
        create(session, registry, world.supervisor, typed(
            world, code="", funder="", no_contact_days=0, targets=[("share_women", 2, ""), ("beneficiaries", -3, "")]))
    assert refused.value.errors == {
        "code": "required", "funder": "required", "no_contact_days": "at_least_one",
        "targets-0-value": "share_out_of_range", "targets-1-value": "negative",
    }


def test_a_territory_outside_the_supervisors_subtree_is_refused(session, registry, world):
    lodi, paolo = other_ambito(session)
    with pytest.raises(InvalidInput) as refused:
        create(session, registry, world.supervisor, typed(world, territory_id=lodi.id))
    assert refused.value.errors == {"territory_id": "outside_territory"}
    # Nor may the other supervisor place one in elena's territory, above or below.
    for territory_id in (world.comune.parent_id, world.comune.id):
        with pytest.raises(InvalidInput) as refused:
            create(session, registry, paolo, typed(world, territory_id=territory_id))
        assert refused.value.errors == {"territory_id": "outside_territory"}
    session.rollback()
    assert programme_count(session) == 2


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.ADMIN])
def test_only_supervisors_create_and_edit(session, registry, world, role):
    user = world.manager if role == Role.CASE_MANAGER else User(
        username="admin", full_name="Admin", email="admin@example.org", password_hash="!", role=Role.ADMIN,
        territory=world.supervisor.territory)
    session.add(user)
    session.commit()
    with pytest.raises(core.NotAllowed):
        create(session, registry, user, typed(world))
    with pytest.raises(core.NotAllowed):
        update(session, registry, user, world.programme.id, as_typed(world.programme, name="Altro"))
    session.rollback()
    assert programme_count(session) == 2
    assert session.get(Programme, world.programme.id).name == "TILDE"


def test_an_inactive_supervisor_may_not_create(session, registry, world):
    world.supervisor.active = False
    session.commit()
    with pytest.raises(core.NotAllowed):
        create(session, registry, world.supervisor, typed(world))


# --- editing ------------------------------------------------------------------------------

def test_an_edit_saves_the_fields_and_keeps_each_change(session, session_factory, registry, world):
    programme = world.programme
    update(session, registry, world.supervisor, programme.id, as_typed(
        programme, name="TILDE – seconda annualità", funder="Fondazione Cariplo", ends_on=date(2026, 12, 31),
        territory_id=world.comune.id, no_contact_days=15, description="Benessere occupazionale"))
    session.commit()

    saved = stored(session_factory, programme.id)
    assert (saved.name, saved.funder, saved.ends_on, saved.territory_id, saved.no_contact_days) == (
        "TILDE – seconda annualità", "Fondazione Cariplo", date(2026, 12, 31), world.comune.id, 15)
    assert sorted(history(session, programme.id)) == sorted([
        ("name", "TILDE", "TILDE – seconda annualità"),
        ("funder", "—", "Fondazione Cariplo"),
        ("description", "", "Benessere occupazionale"),
        ("territory", "Unione NET", "Settimo Torinese"),
        ("ends_on", "", "2026-12-31"),
        ("no_contact_days", "30", "15"),
    ])


def test_an_edit_that_changes_nothing_records_nothing(session, registry, world):
    update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme))
    session.commit()
    assert history(session, world.programme.id) == []


def test_targets_are_added_updated_and_removed(session, session_factory, registry, world):
    programme = create(session, registry, world.supervisor, typed(world))
    session.commit()
    update(session, registry, world.supervisor, programme.id, as_typed(programme, targets=[
        ("share_women", Decimal("0.85"), "Almeno l'85% donne"),
        ("self_employment_training", 30, "Donne nella formazione sull'autoimprenditoria"),
        ("share_migrant_background", 1, ""),
    ]))
    session.commit()

    saved = stored(session_factory, programme.id)
    assert sorted((t.indicator, t.value, t.description) for t in saved.targets) == [
        ("self_employment_training", Decimal(30), "Donne nella formazione sull'autoimprenditoria"),
        ("share_migrant_background", Decimal(1), ""),
        ("share_women", Decimal("0.85"), "Almeno l'85% donne"),
    ]
    changed = [change for change in history(session, programme.id) if change[0] == "target"][3:]
    assert sorted(changed) == sorted([
        ("target", "beneficiaries: 300 (Persone coinvolte)", ""),
        ("target", "", "share_migrant_background: 1"),
        ("target", "share_women: 0.8 (Almeno l'80% donne)", "share_women: 0.85 (Almeno l'85% donne)"),
    ])

    update(session, registry, world.supervisor, programme.id, as_typed(saved, targets=[]))
    session.commit()
    assert session.scalar(select(func.count()).select_from(ProgrammeTarget)) == 0


def test_the_workflow_of_a_programme_with_pacts_cannot_change(session, registry, world, clock):
    pact = open_pact(session, registry, world, world.programme, clock)
    withdraw(session, registry, pact, world, clock)  # closed pacts count too
    with pytest.raises(InvalidInput) as refused:
        update(session, registry, world.supervisor, world.programme.id,
               as_typed(world.programme, workflow_name="chance_dispersione", name="TILDE 2"))
    assert refused.value.errors == {"workflow_name": "workflow_in_use"}
    session.rollback()
    assert session.get(Programme, world.programme.id).name == "TILDE"
    # Other edits of the same programme go through.
    update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme, name="TILDE 2"))
    # A programme without pacts may change workflow.
    update(session, registry, world.supervisor, world.chance.id,
           as_typed(world.chance, workflow_name="patto_personalizzato"))
    session.commit()
    assert session.get(Programme, world.chance.id).workflow_name == "patto_personalizzato"


def test_pacts_the_supervisor_cannot_see_still_keep_the_workflow(session, registry, world, clock):
    world.programme.restricted = True
    session.commit()
    open_pact(session, registry, world, world.programme, clock)  # giulia's: elena is not assigned
    with pytest.raises(InvalidInput) as refused:
        update(session, registry, world.supervisor, world.programme.id,
               as_typed(world.programme, workflow_name="chance_dispersione"))
    assert refused.value.errors == {"workflow_name": "workflow_in_use"}


def test_a_restriction_is_not_lifted_while_the_programme_has_pacts(session, registry, world, clock):
    world.programme.restricted = True
    session.commit()
    open_pact(session, registry, world, world.programme, clock)
    with pytest.raises(InvalidInput) as refused:
        update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme, restricted=False))
    assert refused.value.errors == {"restricted": "restriction_in_use"}
    session.rollback()
    # Restricting is always possible: it only narrows who sees the cases.
    update(session, registry, world.supervisor, world.chance.id, as_typed(world.chance, restricted=True))
    update(session, registry, world.supervisor, world.chance.id, as_typed(world.chance, restricted=False))
    session.commit()


def test_a_supervisor_of_another_territory_cannot_read_or_edit(session, session_factory, registry, world):
    _, paolo = other_ambito(session)
    assert core.get_programme(session, paolo, world.programme.id) is None
    with pytest.raises(core.ProgrammeNotFound):
        update(session, registry, paolo, world.programme.id, as_typed(world.programme, name="Preso"))
    session.rollback()
    assert stored(session_factory, world.programme.id).name == "TILDE"
    assert core.get_programme(session, world.supervisor, world.programme.id) is not None


def test_a_programme_cannot_be_moved_out_of_the_subtree(session, registry, world):
    lodi, _ = other_ambito(session)
    with pytest.raises(InvalidInput) as refused:
        update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme, territory_id=lodi.id))
    assert refused.value.errors == {"territory_id": "outside_territory"}


def test_renaming_the_code_to_another_programmes_is_refused(session, registry, world):
    with pytest.raises(InvalidInput) as refused:
        update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme, code="CHANCE"))
    assert refused.value.errors == {"code": "already_used"}


# --- concurrent edits ---------------------------------------------------------------------

def test_an_edit_over_someone_elses_is_refused(session, session_factory, registry, world):
    read = core.programme_fingerprint(world.programme)
    with session_factory() as other:
        colleague = other.get(User, world.supervisor.id)
        programme = other.get(Programme, world.programme.id)
        update(other, registry, colleague, programme.id, as_typed(programme, funder="Fondazione Cariplo"),
               read_fingerprint=read)
        other.commit()

    with pytest.raises(core.ProgrammeConflict):
        update(session, registry, world.supervisor, world.programme.id,
               as_typed(world.programme, name="TILDE bis"), read_fingerprint=read)
    session.rollback()
    saved = stored(session_factory, world.programme.id)
    assert (saved.name, saved.funder) == ("TILDE", "Fondazione Cariplo")
    # Sent again with what is stored now, it is saved.
    update(session, registry, world.supervisor, world.programme.id, as_typed(saved, name="TILDE bis"),
           read_fingerprint=core.programme_fingerprint(saved))
    session.commit()
    assert stored(session_factory, world.programme.id).name == "TILDE bis"


def test_a_target_change_alone_moves_the_fingerprint(session, registry, world):
    before = core.programme_fingerprint(world.programme)
    update(session, registry, world.supervisor, world.programme.id,
           as_typed(world.programme, targets=[("beneficiaries", 10, "")]))
    session.commit()
    assert core.programme_fingerprint(world.programme) != before


def test_two_saves_at_the_same_moment_do_not_overwrite_each_other(session, session_factory, registry, world):
    """The second editor waits for the first one's lock, then sees the change instead of overwriting it."""
    read = core.programme_fingerprint(world.programme)
    update(session, registry, world.supervisor, world.programme.id, as_typed(world.programme, name="Prima"),
           read_fingerprint=read)  # flushed and locked, not committed yet
    outcome: list[object] = []

    def second_editor() -> None:
        with session_factory() as other:
            try:
                user = other.get(User, world.supervisor.id)
                programme = other.get(Programme, world.programme.id)
                update(other, registry, user, programme.id, as_typed(programme, funder="Seconda"),
                       read_fingerprint=read)
                other.commit()
                outcome.append("saved")
            except core.ProgrammeConflict as conflict:
                outcome.append(conflict)

    thread = threading.Thread(target=second_editor)
    thread.start()
    thread.join(timeout=0.5)
    session.commit()
    thread.join(timeout=15)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], core.ProgrammeConflict)
    saved = stored(session_factory, world.programme.id)
    assert (saved.name, saved.funder) == ("Prima", "—")


# --- reading ------------------------------------------------------------------------------

def test_the_overview_lists_the_supervisors_programmes_with_open_pacts(session, registry, world, clock):
    lodi, paolo = other_ambito(session)
    session.add(Programme(code="CHANCE_LODI", name="CHANCE Lodi", funder="Cariplo", territory=lodi,
                          starts_on=date(2025, 1, 1), workflow_name="chance_dispersione"))
    session.commit()
    open_pact(session, registry, world, world.programme, clock)
    closed = open_pact(session, registry, world, world.programme, clock)
    withdraw(session, registry, closed, world, clock)
    open_pact(session, registry, world, world.chance, clock)
    session.add(ProgrammeTarget(programme=world.chance, indicator="share_women", value=Decimal("0.6")))
    session.add(ProgrammeTarget(programme=world.chance, indicator="scuole_coinvolte", value=Decimal(12),
                                description="Scuole coinvolte"))
    session.commit()

    rows = core.programme_overview(session, registry, world.supervisor, locale="it")
    assert [(row.programme.code, row.territory, row.workflow, row.open_pacts) for row in rows] == [
        ("CHANCE", "Unione NET", "CHANCE - contrasto alla dispersione scolastica", 1),
        ("TILDE", "Unione NET", "Patto personalizzato", 1),
    ]
    assert [(line.label, line.value, line.kind, line.measured) for line in rows[0].targets] == [
        ("Quota di donne", Decimal("0.6"), "share", True),
        ("scuole_coinvolte", Decimal(12), None, False),
    ]
    assert [row.programme.code for row in core.programme_overview(session, registry, paolo, locale="en")] == [
        "CHANCE_LODI"]
    assert core.programme_overview(session, registry, world.manager, locale="it") == []


def test_restricted_cases_count_anonymously_with_small_counts_withheld(session, registry, world, clock):
    """A restricted programme's open cases are counted for its supervisor (never 0 when it has
    some), but fewer than five are written "<5"."""
    world.programme.restricted = True
    session.commit()
    open_pact(session, registry, world, world.programme, clock)
    rows = core.programme_overview(session, registry, world.supervisor, locale="en")
    assert {row.programme.code: row.open_pacts for row in rows}["TILDE"] == "<5"
    for _ in range(4):
        open_pact(session, registry, world, world.programme, clock)
    rows = core.programme_overview(session, registry, world.supervisor, locale="en")
    assert {row.programme.code: row.open_pacts for row in rows}["TILDE"] == 5


def test_territories_are_offered_each_below_its_parent(session, world):
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314",
                         parent_id=world.comune.parent_id)
    session.add(volpiano)
    other_ambito(session)
    choices = core.territory_choices(session, world.supervisor)
    assert [(choice.name, choice.depth) for choice in choices] == [
        ("Unione NET", 0), ("Settimo Torinese", 1), ("Volpiano", 1)]


def test_workflows_are_offered_with_their_labels(registry):
    assert core.workflow_choices(registry, "en") == [
        ("chance_dispersione", "CHANCE - school dropout prevention"), ("patto_personalizzato", "Personalised pact")]


def test_creating_and_editing_a_programme_goes_to_the_administrative_log(session, registry, world):
    from casework.models import AdministrativeLogEntry

    programme = core.create_programme(session, registry, world.supervisor, typed(world), now=MONDAY_9AM,
                                      ip_address="192.0.2.9")
    session.commit()
    core.update_programme(session, registry, world.supervisor, programme.id,
                          as_typed(programme, funder="Fondazione Cariplo"), now=MONDAY_9AM)
    core.update_programme(session, registry, world.supervisor, programme.id,
                          as_typed(programme, funder="Fondazione Cariplo"), now=MONDAY_9AM)
    session.commit()
    created, edited = session.scalars(select(AdministrativeLogEntry).order_by(AdministrativeLogEntry.id)).all()
    assert (created.action, created.subject_type, created.subject_id, created.subject_label, created.actor_id,
            created.ip_address) == ("create", "programme", programme.id, programme.code, world.supervisor.id,
                                    "192.0.2.9")
    assert created.changes["funder"] == [None, FEMMINILI.funder]
    assert (edited.action, edited.changes) == ("update", {"funder": [FEMMINILI.funder, "Fondazione Cariplo"]})
