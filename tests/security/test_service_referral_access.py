"""Who sees which referrals to services: exactly those of the pacts they may see."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from casework.models import (
    Beneficiary,
    Organisation,
    OrganisationKind,
    Pact,
    Service,
    ServiceAccess,
    ServiceCost,
    ServiceMacroArea,
    ServiceReferral,
    ServiceType,
)
from casework.security import visible_service_referrals
from tests.security.test_access import EXPECTED, town  # noqa: F401 - the fixture, reused


@pytest.fixture
def referrals(session, town, clock):  # noqa: F811 - town is the imported fixture
    people, ordinary_pact, restricted_pact = town
    area = ServiceMacroArea(code="casa", label_it="Casa", label_en="Housing")
    kind = ServiceType(macro_area=area, code="housing_sociale", label_it="Housing sociale", label_en="Social housing",
                       need_area="casa")
    service = Service(organisation=Organisation(name="Coop", kind=OrganisationKind.COOPERATIVE), service_type=kind,
                      name="Alloggi", access=ServiceAccess.BY_APPOINTMENT, cost=ServiceCost.FREE,
                      last_checked_on=date(2026, 1, 1), created_at=clock.now, updated_at=clock.now)
    made = [ServiceReferral(pact=pact, service=service, proposed_at=clock.now, updated_at=clock.now)
            for pact in (ordinary_pact, restricted_pact)]
    session.add_all(made)
    session.commit()
    return people, made


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_role_sees_the_referrals_of_the_pacts_it_sees(session, referrals, who):
    people, (ordinary, restricted) = referrals
    expected = {referral for referral, seen in zip((ordinary, restricted), EXPECTED[who], strict=True) if seen}
    assert set(session.scalars(visible_service_referrals(people[who]))) == expected
    # The caller may join the pact and the person to show them: the scoping still holds.
    joined = (visible_service_referrals(people[who]).join(Pact, Pact.id == ServiceReferral.pact_id)
              .join(Beneficiary, Beneficiary.id == Pact.beneficiary_id)
              .with_only_columns(ServiceReferral.id, Beneficiary.last_name))
    assert {row[0] for row in session.execute(joined)} == {referral.id for referral in expected}
    assert session.scalar(select(ServiceReferral.id).where(ServiceReferral.id == restricted.id)) == restricted.id
