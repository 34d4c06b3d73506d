"""A small world for the directory's maintenance tests: two territories with their comuni,
organisations in each, an administrator, supervisors and a case manager, the seeded taxonomy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.models import (
    Organisation,
    OrganisationKind,
    Role,
    ServiceType,
    Territory,
    TerritoryKind,
    User,
)
from casework.services import seed_taxonomy
from casework.services.directory import ServiceInput

# 23:30 in Rome on Monday 2 March 2026, 22:30 UTC: "today" is still the 2nd in Rome.
NOW = datetime(2026, 3, 2, 22, 30, tzinfo=UTC)
TODAY = date(2026, 3, 2)


@dataclass
class Directory:
    unione: Territory
    settimo: Territory
    volpiano: Territory
    lodi_area: Territory
    lodi: Territory
    coop: Organisation
    closed: Organisation
    lodi_coop: Organisation
    admin: User
    supervisor: User
    other_supervisor: User
    manager: User

    def type_id(self, session: Session, code: str) -> int:
        return session.scalar(select(ServiceType.id).where(ServiceType.code == code))

    def service_input(self, session: Session, **changes) -> ServiceInput:
        values = {
            "organisation_id": self.coop.id, "type_id": self.type_id(session, "ludoteca"), "name": "Ludoteca Il Girasole",
            "description": "Giochi e laboratori per bambini da 3 a 10 anni.", "target_group": "Famiglie con bambini",
            "eligibility": "Residenza nell'Unione", "access": "free_access",
            "opening_hours": "lun 09:00-12:30; mer 14:00-18:00", "opening_notes": "Chiuso ad agosto",
            "address": "Via Roma 1, Settimo Torinese", "contact_name": "Anna Verdi", "contact_email": "ludoteca@coop.example.org",
            "contact_phone": "011 1234567", "website": "https://coop.example.org/ludoteca", "cost": "free", "cost_notes": "",
            "company_welfare_plan": False, "languages": ("it", "ar"), "comuni": (self.settimo.id,), "capacity": "20",
            "places_available": "5", "waiting_list": "0",
        }
        values.update(changes)
        return ServiceInput(**values)


def build_directory(session: Session, *, password_hash: str = "!") -> Directory:
    seed_taxonomy(session)
    unione = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=unione)
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=unione)
    lodi_area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    lodi = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi_area)

    def user(username: str, role: Role, territory: Territory) -> User:
        return User(username=username, full_name=username.title() + " Rossi", email=f"{username}@example.org",
                    password_hash=password_hash, role=role, territory=territory)

    found = Directory(
        unione=unione, settimo=settimo, volpiano=volpiano, lodi_area=lodi_area, lodi=lodi,
        coop=Organisation(name="Cooperativa Il Ponte", kind=OrganisationKind.COOPERATIVE, territory=unione),
        closed=Organisation(name="Associazione Chiusa", kind=OrganisationKind.ASSOCIATION, territory=unione,
                            active=False),
        lodi_coop=Organisation(name="Cooperativa Lodigiana", kind=OrganisationKind.COOPERATIVE, territory=lodi_area),
        admin=user("admin", Role.ADMIN, unione),
        supervisor=user("elena", Role.SUPERVISOR, unione),
        other_supervisor=user("paolo", Role.SUPERVISOR, lodi_area),
        manager=user("giulia", Role.CASE_MANAGER, unione),
    )
    session.add_all([unione, settimo, volpiano, lodi_area, lodi, found.coop, found.closed, found.lodi_coop,
                     found.admin, found.supervisor, found.other_supervisor, found.manager])
    session.commit()
    return found
