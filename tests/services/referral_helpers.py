"""A small directory for the referral tests: one organisation, one type, services to refer to."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from casework.models import (
    Organisation,
    OrganisationKind,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceMacroArea,
    ServiceType,
    Territory,
)


def make_service(
    session: Session, comune: Territory, *, name: str = "Sportello lavoro", organisation: Organisation | None = None,
    contact_email: str = "sportello@coop.example.org", active: bool = True, now: datetime,
) -> Service:
    service_type = session.query(ServiceType).filter_by(code="test_orientamento").one_or_none()
    if service_type is None:
        area = ServiceMacroArea(code="test_lavoro", label_it="Lavoro", label_en="Work", position=1)
        service_type = ServiceType(macro_area=area, code="test_orientamento", label_it="Orientamento al lavoro",
                                   label_en="Job guidance", need_area="lavoro", position=1)
        session.add_all([area, service_type])
    if organisation is None:
        organisation = session.query(Organisation).filter_by(name="Cooperativa Il Ponte").one_or_none()
        if organisation is None:
            organisation = Organisation(name="Cooperativa Il Ponte", kind=OrganisationKind.COOPERATIVE)
            session.add(organisation)
    service = Service(
        organisation=organisation, service_type=service_type, name=name, description="Orientamento e tirocini",
        access=ServiceAccess.BY_APPOINTMENT, cost=ServiceCost.FREE, contact_email=contact_email,
        contact_phone="011 555 0101", active=active, last_checked_on=date(2026, 1, 10), created_at=now,
        updated_at=now,
    )
    service.comuni.append(ServiceComune(territory=comune))
    session.add(service)
    session.flush()
    return service
