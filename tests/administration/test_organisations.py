"""Organisations: administrators manage all of them, supervisors those of their own territory."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.administration import organisations as core
from casework.administration.organisations import OrganisationInput
from casework.errors import InvalidInput
from casework.models import (
    AdministrativeLogEntry,
    OrganisationKind,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from tests.conftest import MONDAY_9AM


@pytest.fixture
def admin(session, world) -> User:
    user = User(username="admin", full_name="Admin", email="admin@example.org", password_hash="!",
                role=Role.ADMIN, territory=world.comune.parent)
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def lodi(session) -> Territory:
    territory = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    session.add(territory)
    session.commit()
    return territory


def _errors(call) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        call()
    return raised.value.errors


def _log(session) -> list[AdministrativeLogEntry]:
    return list(session.scalars(select(AdministrativeLogEntry).where(
        AdministrativeLogEntry.subject_type == "organisation").order_by(AdministrativeLogEntry.id)))


def test_create_edit_deactivate_and_reactivate_are_logged(session, world, admin):
    coop = core.create_organisation(session, admin, OrganisationInput(
        name=" Cooperativa  Il Ponte ", kind="cooperative", territory_id=world.comune.id), now=MONDAY_9AM,
        ip_address="192.0.2.9")
    session.commit()
    assert (coop.name, coop.kind, coop.territory_id, coop.active) == (
        "Cooperativa Il Ponte", OrganisationKind.COOPERATIVE, world.comune.id, True)
    core.update_organisation(session, admin, coop.id, OrganisationInput(
        name="Cooperativa Il Ponte", kind=OrganisationKind.ASSOCIATION, territory_id=world.comune.parent_id),
        now=MONDAY_9AM)
    core.set_organisation_active(session, admin, coop.id, False, now=MONDAY_9AM)
    core.set_organisation_active(session, admin, coop.id, False, now=MONDAY_9AM)  # already: nothing logged
    core.set_organisation_active(session, admin, coop.id, True, now=MONDAY_9AM)
    session.commit()
    assert [(e.action, e.changes) for e in _log(session)] == [
        ("create", {"name": [None, "Cooperativa Il Ponte"], "kind": [None, "cooperative"],
                    "territory": [None, "Settimo Torinese"], "active": [None, "True"]}),
        ("update", {"kind": ["cooperative", "association"], "territory": ["Settimo Torinese", "Unione NET"]}),
        ("deactivate", {"active": ["True", "False"]}),
        ("reactivate", {"active": ["False", "True"]}),
    ]
    assert _log(session)[0].ip_address == "192.0.2.9"


def test_bad_input_is_refused_with_every_reason(session, world, admin, lodi):
    core.create_organisation(session, admin, OrganisationInput(name="Liceo Galilei", kind="school"), now=MONDAY_9AM)
    assert _errors(lambda: core.create_organisation(session, admin, OrganisationInput(
        name="", kind="bank", territory_id=999_999), now=MONDAY_9AM)) == {
        "name": "required", "kind": "invalid_kind", "territory_id": "outside_territory"}
    assert _errors(lambda: core.create_organisation(session, admin, OrganisationInput(
        name="LICEO GALILEI", kind="school"), now=MONDAY_9AM)) == {"name": "already_used"}
    assert _errors(lambda: core.create_organisation(session, admin, OrganisationInput(
        name="x" * 201, kind=None), now=MONDAY_9AM)) == {"name": "too_long", "kind": "invalid_kind"}


def test_a_supervisor_manages_only_their_own_territory(session, world, admin, lodi):
    mine = core.create_organisation(session, world.supervisor, OrganisationInput(
        name="Associazione Vela", kind="association", territory_id=world.comune.id), now=MONDAY_9AM)
    theirs = core.create_organisation(session, admin, OrganisationInput(
        name="Coop Lodi", kind="cooperative", territory_id=lodi.id), now=MONDAY_9AM)
    session.commit()
    assert [o.name for o in core.managed_organisations(session, world.supervisor)] == ["Associazione Vela"]
    assert {o.name for o in core.managed_organisations(session, admin)} == {"Associazione Vela", "Coop Lodi"}
    with pytest.raises(core.OrganisationNotFound):
        core.set_organisation_active(session, world.supervisor, theirs.id, False, now=MONDAY_9AM)
    assert _errors(lambda: core.update_organisation(session, world.supervisor, mine.id, OrganisationInput(
        name="Associazione Vela", kind="association", territory_id=lodi.id), now=MONDAY_9AM)) == {
        "territory_id": "outside_territory"}
    assert _errors(lambda: core.create_organisation(session, world.supervisor, OrganisationInput(
        name="Senza territorio", kind="company"), now=MONDAY_9AM)) == {"territory_id": "required"}
    with pytest.raises(core.NotAllowed):
        core.managed_organisations(session, world.manager)
