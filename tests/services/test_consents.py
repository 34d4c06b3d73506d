"""A person's consents to share data, withdrawn from their page: who may, what it blocks, what
a second withdrawal (or the loser of two at once) is told; on both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.errors import Conflict, InvalidInput
from casework.models import (
    Beneficiary,
    ChangeRecord,
    ConsentLegalBasis,
    DataSharingConsent,
    EmailStatus,
    Gender,
    OutboundEmail,
    Pact,
    ServiceReferral,
    ServiceReferralEvent,
    ServiceReferralStatus,
)
from casework.pacts import operations as ops
from casework.services import (
    advance_referral,
    propose_referral,
    record_consent,
    withdraw_person_consent,
)
from tests.conftest import MONDAY_9AM, ZONE
from tests.services.referral_helpers import make_service

NOW = MONDAY_9AM
LATER = NOW + timedelta(hours=2)
TODAY = date(2026, 3, 2)


@pytest.fixture
def pact(session, registry, world) -> Pact:
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager,
                           clock=ops.Clock(NOW - timedelta(days=7), ZONE))
    session.commit()
    return opened


@pytest.fixture
def referral(session, world, pact) -> ServiceReferral:
    service = make_service(session, world.comune, now=NOW)
    made = propose_referral(session, world.manager, pact, service.id, now=NOW, need_area="lavoro")
    session.commit()
    return made


def give(session, world, referral, basis=ConsentLegalBasis.CONSENT) -> DataSharingConsent:
    given = record_consent(session, world.manager, referral, given_on=TODAY, purpose="Invio al servizio",
                           legal_basis=basis, now=NOW, zone=ZONE)
    session.commit()
    return given


def request(session, world, referral, **kwargs):
    return advance_referral(session, world.manager, referral, "request", now=NOW,
                            expected_version=kwargs.get("version", referral.version))


def test_the_person_withdraws_and_no_new_request_leaves(session, world, referral):
    given = give(session, world, referral)
    read = referral.version
    withdrawn = withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
    session.commit()
    assert withdrawn is not None and withdrawn.withdrawn_at == LATER
    session.expire_all()
    assert session.get(DataSharingConsent, given.id).withdrawn_at == LATER
    # The open referral to that organisation says so in its timeline, and its version moved.
    note = session.scalars(select(ServiceReferralEvent.note).where(
        ServiceReferralEvent.referral_id == referral.id, ServiceReferralEvent.reason == "consent_withdrawn")).one()
    assert "Cooperativa Il Ponte" in note
    assert session.get(ServiceReferral, referral.id).version > read
    # A page read before the withdrawal: a conflict; a fresh one: the consent is needed first.
    with pytest.raises(Conflict):
        request(session, world, referral, version=read)
    session.rollback()
    with pytest.raises(InvalidInput) as refused:
        request(session, world, referral)
    assert refused.value.errors == {"consent": "required"}
    session.rollback()
    assert session.get(ServiceReferral, referral.id).status == ServiceReferralStatus.PROPOSED
    assert session.scalars(select(OutboundEmail)).all() == []
    # The person's history of changes records who withdrew which consent.
    change = session.scalars(select(ChangeRecord).where(ChangeRecord.entity == "beneficiary",
                                                        ChangeRecord.field == "consent")).one()
    assert (change.entity_id, change.actor_id, change.old_value, change.new_value) == (
        world.beneficiary.id, world.manager.id, "Cooperativa Il Ponte", "")


def test_a_request_needs_a_consent_not_withdrawn_and_a_new_one_allows_it_again(session, world, referral):
    given = give(session, world, referral)
    withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
    session.commit()
    with pytest.raises(InvalidInput):
        request(session, world, referral)
    session.rollback()
    renewed = give(session, world, referral, ConsentLegalBasis.PUBLIC_TASK)
    request(session, world, referral)
    session.commit()
    assert referral.status == ServiceReferralStatus.REQUESTED
    # The request e-mail went out under the new consent; withdrawing it cancels the e-mail not sent yet.
    assert session.scalars(select(OutboundEmail.status)).one() == EmailStatus.PENDING
    withdraw_person_consent(session, world.manager, world.beneficiary.id, renewed.id, now=LATER)
    session.commit()
    assert session.scalars(select(OutboundEmail.status)).one() == EmailStatus.CANCELLED


def test_twice_is_refused_and_so_is_the_loser_of_two_at_once(session, session_factory, world, referral):
    given = give(session, world, referral)
    with session_factory() as other:
        # The other person read the consent as not withdrawn, then the first withdrawal lands.
        assert other.get(DataSharingConsent, given.id).withdrawn_at is None
        withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
        session.commit()
        with pytest.raises(InvalidInput) as refused:
            withdraw_person_consent(other, other.get(type(world.supervisor), world.supervisor.id),
                                    world.beneficiary.id, given.id, now=LATER + timedelta(minutes=1))
        assert refused.value.errors == {"consent": "already_withdrawn"}
        other.rollback()
    session.expire_all()
    assert session.get(DataSharingConsent, given.id).withdrawn_at == LATER
    with pytest.raises(InvalidInput) as refused:
        withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
    assert refused.value.errors == {"consent": "already_withdrawn"}


def test_who_does_not_see_the_person_or_names_another_persons_consent_gets_nothing(session, registry, world,
                                                                                   referral):
    given = give(session, world, referral)
    other_person = Beneficiary(first_name="Anna", last_name="Verdi", gender=Gender.FEMALE, comune=world.comune)
    session.add(other_person)
    session.flush()
    ops.open_pact(session, registry, beneficiary=other_person, programme=world.programme,
                  case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW, ZONE))
    session.commit()
    # Marco is on no pact of Maria's; Anna's page does not hold Maria's consent.
    assert withdraw_person_consent(session, world.colleague, world.beneficiary.id, given.id, now=LATER) is None
    assert withdraw_person_consent(session, world.manager, other_person.id, given.id, now=LATER) is None
    assert withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id + 1000, now=LATER) is None
    session.commit()
    session.expire_all()
    assert session.get(DataSharingConsent, given.id).withdrawn_at is None
    # The supervisor of the territory may.
    assert withdraw_person_consent(session, world.supervisor, world.beneficiary.id, given.id, now=LATER) is not None
    session.commit()


def test_a_consent_may_be_withdrawn_when_no_referral_is_open_any_more(session, world, pact, referral):
    given = give(session, world, referral)
    advance_referral(session, world.manager, referral, "drop", reason="other", now=NOW,
                     expected_version=referral.version)
    session.commit()
    events = session.scalar(select(ServiceReferralEvent.id).order_by(ServiceReferralEvent.id.desc()).limit(1))
    withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
    session.commit()
    assert session.get(DataSharingConsent, given.id).withdrawn_at == LATER
    # Nothing to tell an ended referral.
    assert session.scalar(select(ServiceReferralEvent.id).order_by(ServiceReferralEvent.id.desc()).limit(1)) == events


def test_a_restricted_person_may_still_withdraw_and_nothing_else_is_written(session, world, referral):
    """A restriction freezes the record, but not the person's own request to process less: the
    consent is withdrawn and the open referral told; the record stays frozen for the rest."""
    from casework.errors import RecordRestricted
    from casework.people.restriction import restrict_processing

    given = give(session, world, referral)
    restrict_processing(session, world.supervisor, world.beneficiary.id, reason="opposizione in corso", now=NOW)
    session.commit()
    withdraw_person_consent(session, world.manager, world.beneficiary.id, given.id, now=LATER)
    session.commit()
    session.expire_all()
    assert session.get(DataSharingConsent, given.id).withdrawn_at == LATER
    assert session.scalars(select(ServiceReferralEvent).where(
        ServiceReferralEvent.referral_id == referral.id, ServiceReferralEvent.reason == "consent_withdrawn")).one()
    session.get(Beneficiary, world.beneficiary.id).phone = "011 555"
    with pytest.raises(RecordRestricted):
        session.flush()
    session.rollback()
