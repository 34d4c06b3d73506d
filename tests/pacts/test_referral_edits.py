"""Correcting a referral keeps the first record and leaves the old values in the edit history."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from casework.models import ChangeRecord, ReferralSource
from casework.pacts import operations as ops
from tests.conftest import ZONE


def test_a_corrected_referral_keeps_its_history(session, registry, world, clock):
    pact = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                         case_manager=world.manager, actor=world.manager, clock=clock)
    ops.record_referral(session, pact, source=ReferralSource.SCHOOL, reason="assenze", referred_on=date(2026, 3, 2),
                        actor=world.manager, clock=clock)
    session.commit()
    later = ops.Clock(clock.now + timedelta(hours=2), ZONE)
    ops.record_referral(session, pact, source=ReferralSource.SOCIAL_SERVICES, reason="assenze ripetute",
                        referred_on=date(2026, 3, 2), actor=world.colleague, clock=later)
    session.commit()

    assert (pact.referral.reason, pact.referral.source) == ("assenze ripetute", ReferralSource.SOCIAL_SERVICES)
    assert (pact.referral.recorded_by_id, pact.referral.recorded_at) == (world.manager.id, clock.now)
    changes = {c.field: (c.old_value, c.new_value, c.actor_id, c.at) for c in session.scalars(
        select(ChangeRecord).where(ChangeRecord.entity == "pact", ChangeRecord.entity_id == pact.id))}
    assert changes == {
        "referral_reason": ("assenze", "assenze ripetute", world.colleague.id, later.now),
        "referral_source": ("school", "social_services", world.colleague.id, later.now),
    }
