"""A small fixed directory for the search and suggestion tests: two ambiti, four comuni,
organisations and services built through the ORM (the search terms follow by themselves)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import (
    Organisation,
    OrganisationKind,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceLanguage,
    ServiceType,
    Territory,
    TerritoryKind,
)
from casework.services import seed_taxonomy

CREATED = datetime(2026, 1, 10, 9, 0, tzinfo=timezone.utc)


@dataclass
class Places:
    comuni: dict[str, Territory] = field(default_factory=dict)
    ambiti: dict[str, Territory] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)


def build_places(session: Session) -> Places:
    """Ambito Nord (Settimo, Volpiano, Leinì) and Ambito Sud (Moncalieri); two organisations."""
    seed_taxonomy(session)
    places = Places()
    nord = Territory(name="Ambito Nord", kind=TerritoryKind.AMBITO)
    sud = Territory(name="Ambito Sud", kind=TerritoryKind.AMBITO)
    places.ambiti = {"nord": nord, "sud": sud}
    for key, name, istat, parent in [("settimo", "Settimo Torinese", "001265", nord),
                                     ("volpiano", "Volpiano", "001314", nord),
                                     ("leini", "Leinì", "001130", nord),
                                     ("moncalieri", "Moncalieri", "001156", sud)]:
        places.comuni[key] = Territory(name=name, kind=TerritoryKind.COMUNE, istat_code=istat, parent=parent)
    places.organisations = {
        "coop": Organisation(name="Cooperativa Il Ponte", kind=OrganisationKind.COOPERATIVE, territory=nord),
        "comune": Organisation(name="Città di Settimo", kind=OrganisationKind.PUBLIC_BODY, territory=nord),
    }
    session.add_all([nord, sud, *places.comuni.values(), *places.organisations.values()])
    session.flush()
    return places


def make_service(session: Session, places: Places, name: str, type_code: str, comuni: list[str], *,
                 organisation: str = "coop", description: str = "", target_group: str = "",
                 languages: tuple[str, ...] = (), capacity: int | None = None,
                 places_available: int | None = None, waiting_list: int = 0, active: bool = True,
                 cost: ServiceCost = ServiceCost.FREE, access: ServiceAccess = ServiceAccess.FREE_ACCESS,
                 opening_hours: list[dict[str, object]] | None = None) -> Service:
    kind = session.scalars(select(ServiceType).where(ServiceType.code == type_code)).one()
    service = Service(
        organisation=places.organisations[organisation], service_type=kind, name=name,
        description=description, target_group=target_group, access=access, cost=cost,
        opening_hours=opening_hours or [], capacity=capacity, places_available=places_available,
        waiting_list=waiting_list, active=active, last_checked_on=date(2026, 1, 10),
        created_at=CREATED, updated_at=CREATED,
        comuni=[ServiceComune(territory=places.comuni[key]) for key in comuni],
        languages=[ServiceLanguage(language=code) for code in languages],
    )
    session.add(service)
    session.flush()
    return service


def make_pact(session: Session, registry, clock, places: Places, *, comune: str = "settimo",
              language: str = "", need_profile: dict[str, int] | None = None, name: str = "Amina"):
    """A beneficiary living in `comune`, their pact and, with a need profile, a screening."""
    from casework.models import Beneficiary, Gender, Priority, Programme, Role, Screening, User
    from casework.pacts import open_pact

    manager = session.scalars(select(User).where(User.username == "giulia")).one_or_none()
    if manager is None:
        manager = User(username="giulia", full_name="Giulia", email="giulia@example.org", password_hash="!",
                       role=Role.CASE_MANAGER, territory=places.ambiti["nord"])
        session.add(manager)
    programme = session.scalars(select(Programme).where(Programme.code == "TILDE")).one_or_none()
    if programme is None:
        programme = Programme(code="TILDE", name="TILDE", funder="-", territory=places.ambiti["nord"],
                              starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato")
        session.add(programme)
    person = Beneficiary(first_name=name, last_name="Haddad", gender=Gender.FEMALE,
                         comune=places.comuni[comune], preferred_language=language)
    session.add(person)
    session.flush()
    pact = open_pact(session, registry, beneficiary=person, programme=programme, case_manager=manager,
                     actor=manager, clock=clock)
    if need_profile is not None:
        session.add(Screening(pact=pact, answers={}, need_profile=need_profile,
                              total_score=sum(need_profile.values()), priority=Priority.MEDIUM,
                              completed_at=clock.now))
    session.flush()
    return pact
