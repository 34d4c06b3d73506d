"""Organisations (cooperatives, associations, schools, companies, public services) with their type
and territory.

Administrators manage all of them; a supervisor manages those of their own territory and the
territories below it (and may place one only there). Each operation takes the caller's session
and never commits; bad input raises InvalidInput({field: code}). Every change is recorded in the
administrative log (subject "organisation"). An organisation is deactivated, never deleted:
users and history may point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from casework.errors import CaseworkError, InvalidInput
from casework.models import Organisation, OrganisationKind, Role, Territory, User
from casework.security import changed_fields, record_admin_change, territory_subtree

SUBJECT = "organisation"
MAX_NAME = 200


class NotAllowed(CaseworkError):
    """Only an active administrator or supervisor manages organisations."""


class OrganisationNotFound(CaseworkError):
    """No such organisation among those the user manages (the caller answers 404)."""

    def __init__(self, organisation_id: int):
        self.organisation_id = organisation_id
        super().__init__(f"no organisation {organisation_id} for this user")


@dataclass(frozen=True)
class OrganisationInput:
    name: str = ""
    kind: OrganisationKind | str | None = None
    territory_id: int | None = None


def _check_allowed(actor: User | None) -> User:
    if actor is None or not actor.active or actor.role not in (Role.ADMIN, Role.SUPERVISOR):
        raise NotAllowed("only administrators and supervisors manage organisations")
    return actor


def _managed(actor: User) -> Select[tuple[Organisation]]:
    query = select(Organisation).options(joinedload(Organisation.territory))
    if actor.role != Role.ADMIN:
        query = query.where(Organisation.territory_id.in_(territory_subtree(actor)))
    return query


def managed_organisations(session: Session, actor: User, *, include_inactive: bool = True) -> list[Organisation]:
    """The organisations `actor` manages, active ones first, then by name."""
    _check_allowed(actor)
    query = _managed(actor)
    if not include_inactive:
        query = query.where(Organisation.active.is_(True))
    return list(session.scalars(query.order_by(Organisation.active.desc(), Organisation.name)))


def get_organisation(session: Session, actor: User, organisation_id: int) -> Organisation:
    _check_allowed(actor)
    found = session.scalars(_managed(actor).where(Organisation.id == organisation_id)).one_or_none()
    if found is None:
        raise OrganisationNotFound(organisation_id)
    return found


def territory_choices(session: Session, actor: User) -> list[Territory]:
    """The territories `actor` may place an organisation in."""
    _check_allowed(actor)
    query = select(Territory).order_by(Territory.name)
    if actor.role != Role.ADMIN:
        query = query.where(Territory.id.in_(territory_subtree(actor)))
    return list(session.scalars(query))


def _clean(session: Session, actor: User, data: OrganisationInput, *, current: Organisation | None
           ) -> tuple[str, OrganisationKind, Territory | None]:
    errors: dict[str, str] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = "required"
    elif len(name) > MAX_NAME:
        errors["name"] = "too_long"
    else:
        same = select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
        if current is not None:
            same = same.where(Organisation.id != current.id)
        if session.scalar(same.limit(1)) is not None:
            errors["name"] = "already_used"
    kind = None
    try:
        kind = OrganisationKind(data.kind.value if isinstance(data.kind, OrganisationKind) else data.kind)
    except ValueError:
        errors["kind"] = "invalid_kind"
    territory = None
    if data.territory_id is None:
        if actor.role != Role.ADMIN:
            errors["territory_id"] = "required"
    else:
        allowed = {t.id for t in territory_choices(session, actor)}
        territory = session.get(Territory, data.territory_id) if data.territory_id in allowed else None
        if territory is None:
            errors["territory_id"] = "outside_territory"
    if errors:
        raise InvalidInput(errors)
    assert kind is not None
    return name, kind, territory


def _values(organisation: Organisation) -> dict:
    return {"name": organisation.name, "kind": organisation.kind,
            "territory": organisation.territory.name if organisation.territory else None,
            "active": organisation.active}


def _log(session: Session, actor: User, action: str, organisation: Organisation, changes, now: datetime,
         ip_address: str) -> None:
    record_admin_change(session, actor=actor, action=action, subject_type=SUBJECT, subject_id=organisation.id,
                        subject_label=organisation.name, changes=changes, now=now, ip_address=ip_address)


def create_organisation(session: Session, actor: User, data: OrganisationInput, *, now: datetime,
                        ip_address: str = "") -> Organisation:
    _check_allowed(actor)
    name, kind, territory = _clean(session, actor, data, current=None)
    organisation = Organisation(name=name, kind=kind, territory=territory, active=True)
    try:
        with session.begin_nested():  # the same name created at the same moment by someone else
            session.add(organisation)
            session.flush()
    except IntegrityError:
        raise InvalidInput({"name": "already_used"}) from None
    _log(session, actor, "create", organisation, changed_fields({}, _values(organisation)), now, ip_address)
    return organisation


def update_organisation(session: Session, actor: User, organisation_id: int, data: OrganisationInput, *,
                        now: datetime, ip_address: str = "") -> Organisation:
    organisation = get_organisation(session, actor, organisation_id)
    before = _values(organisation)
    name, kind, territory = _clean(session, actor, data, current=organisation)
    organisation.name, organisation.kind, organisation.territory = name, kind, territory
    changes = changed_fields(before, _values(organisation))
    session.flush()
    if changes:
        _log(session, actor, "update", organisation, changes, now, ip_address)
    return organisation


def set_organisation_active(session: Session, actor: User, organisation_id: int, active: bool, *,
                            now: datetime, ip_address: str = "") -> Organisation:
    """Deactivate (or reactivate) an organisation; its users and history keep pointing at it."""
    organisation = get_organisation(session, actor, organisation_id)
    if organisation.active != active:
        organisation.active = active
        session.flush()
        _log(session, actor, "reactivate" if active else "deactivate", organisation,
             {"active": [str(not active), str(active)]}, now, ip_address)
    return organisation
