"""A pact's service referral, step by step: every status change and every refused one, on both databases."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.errors import Conflict, InvalidInput
from casework.models import (
    ActionStatus,
    ConsentLegalBasis,
    DataSharingConsent,
    OutboundEmail,
    Pact,
    Performer,
    ServiceReferral,
    ServiceReferralEvent,
    ServiceReferralStatus,
)
from casework.pacts import operations as ops
from casework.services import (
    ReferralRefused,
    advance_referral,
    link_action,
    propose_referral,
    record_consent,
    set_provider_contact,
    withdraw_consent,
)
from casework.services.referrals import MACHINE, next_status, steps_from
from tests.conftest import MONDAY_9AM, ZONE
from tests.services.referral_helpers import make_service

S = ServiceReferralStatus
NOW = MONDAY_9AM
TODAY = date(2026, 3, 2)


@pytest.fixture
def pact(session, registry, world) -> Pact:
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW - timedelta(days=7), ZONE))
    world.beneficiary.phone = "333 123 4567"
    session.commit()
    return opened


@pytest.fixture
def service(session, world):
    made = make_service(session, world.comune, now=NOW)
    session.commit()
    return made


def events(session, referral) -> list[tuple[str, str, str]]:
    return [(e.from_status, e.to_status, e.reason) for e in session.scalars(
        select(ServiceReferralEvent).where(ServiceReferralEvent.referral_id == referral.id)
        .order_by(ServiceReferralEvent.id))]


def step(session, world, referral, event, **kwargs):
    kwargs.setdefault("now", NOW)
    done = advance_referral(session, world.manager, referral, event, expected_version=referral.version, **kwargs)
    session.commit()
    return done


def consent(session, world, referral, **kwargs):
    given = record_consent(session, world.manager, referral, given_on=kwargs.get("given_on", TODAY),
                           purpose=kwargs.get("purpose", "Invio al servizio Sportello lavoro"), legal_basis="consent", now=NOW, zone=ZONE)
    session.commit()
    return given


def proposed(session, world, pact, service, **kwargs):
    referral = propose_referral(session, world.manager, pact, service.id, now=NOW, need_area="lavoro", **kwargs)
    session.commit()
    return referral


# The machine ---------------------------------------------------------------------------------

def test_one_definition_only_machine_says_which_step_goes_where():
    assert MACHINE.models == []  # no referral is ever registered with it
    assert steps_from(S.PROPOSED) == ("request", "drop")
    assert steps_from(S.REQUESTED) == ("accept", "refuse", "drop")
    assert steps_from(S.ACCEPTED) == ("start", "drop")
    assert steps_from(S.STARTED) == ("complete", "drop")
    assert steps_from(S.COMPLETED) == steps_from(S.REFUSED) == steps_from(S.DROPPED) == ()
    assert next_status(S.PROPOSED, "start") is None and next_status(S.PROPOSED, "nonsense") is None


# Proposing ------------------------------------------------------------------------------------

def test_proposing_creates_a_proposed_referral_with_its_event_and_moves_the_pact(session, world, pact, service):
    before = pact.version
    referral = proposed(session, world, pact, service)
    assert (referral.status, referral.need_area, referral.proposed_by_id) == (S.PROPOSED, "lavoro", world.manager.id)
    assert events(session, referral) == [("", "proposed", "")]
    assert session.get(Pact, pact.id).version == before + 1


def test_a_second_open_referral_to_the_same_service_is_refused_but_one_after_a_drop_is_not(
    session, world, pact, service
):
    first = proposed(session, world, pact, service)
    with pytest.raises(InvalidInput) as refused:
        propose_referral(session, world.manager, pact, service.id, now=NOW)
    assert refused.value.errors == {"service": "already_open"}
    session.rollback()
    consent(session, world, first)
    step(session, world, first, "request")
    step(session, world, first, "drop", reason="needs_changed")
    again = proposed(session, world, pact, service)
    assert again.id != first.id and again.status == S.PROPOSED


def test_an_inactive_or_unknown_service_is_refused(session, world, pact):
    closed = make_service(session, world.comune, name="Chiuso", active=False, now=NOW)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        propose_referral(session, world.manager, pact, closed.id, now=NOW)
    assert refused.value.errors == {"service": "inactive"}
    with pytest.raises(InvalidInput) as refused:
        propose_referral(session, world.manager, pact, 999_999, now=NOW)
    assert refused.value.errors == {"service": "unknown"}


def test_nothing_changes_on_a_closed_pact(session, world, pact, service):
    referral = proposed(session, world, pact, service)
    consent(session, world, referral)
    step(session, world, referral, "request")
    pact.closed_at = NOW
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        propose_referral(session, world.manager, pact, service.id, now=NOW)
    assert refused.value.errors == {"pact": "closed"}
    for attempt in (
        lambda: advance_referral(session, world.manager, referral, "drop", reason="other", now=NOW,
                                 expected_version=referral.version),
        lambda: record_consent(session, world.manager, referral, given_on=TODAY, purpose="x", legal_basis="consent", now=NOW, zone=ZONE),
        lambda: set_provider_contact(session, world.manager, referral, "Anna", now=NOW, expected_version=None),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.errors == {"pact": "closed"}


def test_a_case_manager_not_on_the_pact_may_not_act_the_supervisor_may(session, world, pact, service):
    with pytest.raises(ReferralRefused):
        propose_referral(session, world.colleague, pact, service.id, now=NOW)
    referral = propose_referral(session, world.supervisor, pact, service.id, now=NOW)
    session.commit()
    with pytest.raises(ReferralRefused):
        advance_referral(session, world.colleague, referral, "request", now=NOW,
                         expected_version=referral.version)
    with pytest.raises(ReferralRefused):
        record_consent(session, world.colleague, referral, given_on=TODAY, purpose="x", legal_basis="consent", now=NOW, zone=ZONE)


# Consent and the request ----------------------------------------------------------------------

def test_the_request_is_refused_without_consent_and_taken_with_it(session, world, pact, service):
    referral = proposed(session, world, pact, service)
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, referral, "request", now=NOW, expected_version=referral.version)
    assert refused.value.errors == {"consent": "required"}
    session.rollback()
    assert session.get(ServiceReferral, referral.id).status == S.PROPOSED
    given = consent(session, world, referral)
    assert (given.beneficiary_id, given.organisation_id, given.collected_by_id, given.referral_id) == (
        world.beneficiary.id, service.organisation_id, world.manager.id, referral.id)
    step(session, world, referral, "request", note="Chiamata la referente")
    assert referral.status == S.REQUESTED and referral.requested_at is not None
    assert events(session, referral)[-1] == ("proposed", "requested", "")
    assert session.scalar(select(OutboundEmail.dedupe_key)) == f"service_referral_request:{referral.id}"


def test_a_withdrawn_consent_no_longer_allows_a_request(session, world, pact, service):
    referral = proposed(session, world, pact, service)
    given = consent(session, world, referral)
    withdraw_consent(session, world.manager, referral, given.id, now=NOW)
    session.commit()
    assert session.get(DataSharingConsent, given.id).withdrawn_at is not None
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, referral, "request", now=NOW, expected_version=referral.version)
    assert refused.value.errors == {"consent": "required"}
    session.rollback()
    with pytest.raises(InvalidInput) as refused:
        withdraw_consent(session, world.manager, referral, given.id, now=NOW)
    assert refused.value.errors == {"consent": "already_withdrawn"}


@pytest.mark.parametrize(("given_on", "purpose", "basis", "errors"), [
    (TODAY + timedelta(days=1), "Invio", "consent", {"given_on": "in_future"}),
    (None, "Invio", "consent", {"given_on": "required"}),
    (TODAY, "   ", "consent", {"purpose": "required"}),
    (TODAY, "x" * 1001, "consent", {"purpose": "too_long"}),
    (TODAY, "Invio", "", {"legal_basis": "required"}),
    (TODAY, "Invio", None, {"legal_basis": "required"}),
    (TODAY, "Invio", "legitimate_interest", {"legal_basis": "not_an_option"}),
    (None, "", "boh", {"given_on": "required", "purpose": "required", "legal_basis": "not_an_option"}),
])
def test_a_consent_needs_a_past_date_a_purpose_and_a_legal_basis(session, world, pact, service, given_on,
                                                                 purpose, basis, errors):
    referral = proposed(session, world, pact, service)
    with pytest.raises(InvalidInput) as refused:
        record_consent(session, world.manager, referral, given_on=given_on, purpose=purpose, legal_basis=basis,
                       now=NOW, zone=ZONE)
    assert refused.value.errors == errors
    session.rollback()
    assert session.scalars(select(DataSharingConsent)).all() == []


@pytest.mark.parametrize("basis", list(ConsentLegalBasis))
def test_a_consent_keeps_its_legal_basis(session, world, pact, service, basis):
    referral = proposed(session, world, pact, service)
    given = record_consent(session, world.manager, referral, given_on=TODAY, purpose="Invio", legal_basis=basis.value,
                           now=NOW, zone=ZONE)
    session.commit()
    session.expire_all()
    assert session.get(DataSharingConsent, given.id).legal_basis == basis


# The provider's answer and what follows -------------------------------------------------------

@pytest.fixture
def requested(session, world, pact, service):
    referral = proposed(session, world, pact, service)
    consent(session, world, referral)
    return step(session, world, referral, "request")


def test_accept_start_complete_with_their_dates_and_the_linked_action_following(
    session, world, pact, requested
):
    action = ops.add_action(session, pact, description="Orientamento al lavoro", performer=Performer.SERVICE,
                            clock=ops.Clock(NOW, ZONE))
    session.commit()
    link_action(session, world.manager, requested, action.id, now=NOW, expected_version=requested.version)
    session.commit()
    step(session, world, requested, "accept", on=date(2026, 3, 9))
    assert (requested.status, requested.agreed_start_on) == (S.ACCEPTED, date(2026, 3, 9))
    assert requested.answered_at is not None
    step(session, world, requested, "start", on=date(2026, 3, 10), now=NOW + timedelta(days=8), zone=ZONE)
    assert (requested.status, requested.started_on, action.status) == (S.STARTED, date(2026, 3, 10),
                                                                       ActionStatus.IN_PROGRESS)
    started = session.scalars(select(ServiceReferralEvent).where(ServiceReferralEvent.to_status == "started")).one()
    assert "Orientamento al lavoro" in started.note and "in corso" in started.note  # giulia reads Italian
    step(session, world, requested, "complete", note="Percorso concluso", now=NOW + timedelta(days=9))
    assert (requested.status, action.status) == (S.COMPLETED, ActionStatus.DONE)
    assert requested.ended_at is not None
    assert [(f, t) for f, t, _ in events(session, requested)] == [
        ("", "proposed"), ("proposed", "proposed"), ("proposed", "requested"), ("requested", "requested"),
        ("requested", "accepted"), ("accepted", "started"), ("started", "completed")]


def test_a_refusal_needs_a_reason_from_the_list(session, world, requested):
    for reason, code in (("", "required"), ("too_busy", "not_an_option")):
        with pytest.raises(InvalidInput) as refused:
            advance_referral(session, world.manager, requested, "refuse", reason=reason, now=NOW,
                             expected_version=requested.version)
        assert refused.value.errors == {"reason": code}
    step(session, world, requested, "refuse", reason="no_places")
    assert (requested.status, requested.refusal_reason) == (S.REFUSED, "no_places")
    assert requested.answered_at is not None and requested.ended_at is not None
    assert events(session, requested)[-1] == ("requested", "refused", "no_places")


def test_starting_before_the_provider_accepted_is_refused_and_a_start_needs_its_day(session, world, requested):
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, requested, "start", on=TODAY, now=NOW,
                         expected_version=requested.version)
    assert refused.value.errors == {"event": "not_possible"}
    step(session, world, requested, "accept")
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, requested, "start", now=NOW, expected_version=requested.version)
    assert refused.value.errors == {"on": "required"}


@pytest.mark.parametrize("path", [(), ("request",), ("request", "accept"), ("request", "accept", "start")])
def test_a_referral_can_be_dropped_with_a_reason_at_any_open_step_and_then_nothing_more(
        session, world, pact, service, path):
    referral = proposed(session, world, pact, service)
    consent(session, world, referral)
    for event in path:
        step(session, world, referral, event, on=TODAY)
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, referral, "drop", now=NOW, expected_version=referral.version)
    assert refused.value.errors == {"reason": "required"}
    step(session, world, referral, "drop", reason="no_show")
    assert (referral.status, referral.drop_reason) == (S.DROPPED, "no_show")
    with pytest.raises(InvalidInput) as refused:
        advance_referral(session, world.manager, referral, "drop", reason="other", now=NOW,
                         expected_version=referral.version)
    assert refused.value.errors == {"event": "not_possible"}


def test_a_step_from_a_stale_form_is_a_conflict_and_every_step_moves_the_pact(session, world, pact, requested):
    read = requested.version
    pact_before = session.get(Pact, pact.id).version
    step(session, world, requested, "accept")
    assert requested.version == read + 1
    assert session.get(Pact, pact.id).version == pact_before + 1
    with pytest.raises(Conflict):
        advance_referral(session, world.manager, requested, "drop", reason="other", now=NOW, expected_version=read)


def test_the_provider_contact_and_the_linked_action_are_kept_and_checked(session, world, registry, pact, requested):
    set_provider_contact(session, world.manager, requested, "Anna Neri, 011 555 0102", now=NOW,
                         expected_version=requested.version)
    session.commit()
    assert requested.provider_contact == "Anna Neri, 011 555 0102"
    with pytest.raises(InvalidInput) as refused:
        set_provider_contact(session, world.manager, requested, "x" * 301, now=NOW, expected_version=None)
    assert refused.value.errors == {"provider_contact": "too_long"}
    other = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.chance,
                          case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW, ZONE))
    foreign = ops.add_action(session, other, description="Altro", performer=Performer.FAMILY,
                             clock=ops.Clock(NOW, ZONE))
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        link_action(session, world.manager, requested, foreign.id, now=NOW, expected_version=requested.version)
    assert refused.value.errors == {"action": "not_in_pact"}


def test_the_pacts_timeline_shows_each_change_in_one_query(session, registry, world, pact, requested):
    from sqlalchemy import event as sql_event

    from casework.pacts.casefile import EntryKind, timeline

    step(session, world, requested, "refuse", reason="out_of_area", note="Fuori zona")
    entries = [e for e in timeline(session, registry, pact, locale="it") if e.kind == EntryKind.SERVICE_REFERRAL]
    assert [(e.label, e.old_value, e.code, e.new_value) for e in entries] == [
        ("Sportello lavoro", "requested", "refused", "out_of_area"),
        ("Sportello lavoro", "proposed", "requested", ""),
        ("Sportello lavoro", "proposed", "proposed", "consent_recorded"),  # a detail: the status stays
        ("Sportello lavoro", "", "proposed", ""),
    ]
    assert entries[0].text == "Fuori zona" and entries[0].actor == "Giulia"

    def count(engine) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sql_event.listen(engine, "before_cursor_execute", listener)
        try:
            session.expire_all()
            timeline(session, registry, session.get(Pact, pact.id), locale="it")
        finally:
            sql_event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    engine = session.get_bind()
    few = count(engine)
    for number in range(5):
        other = make_service(session, world.comune, name=f"Servizio {number}", now=NOW)
        referral = proposed(session, world, pact, other)
        consent(session, world, referral)
        step(session, world, referral, "request")
    assert count(engine) == few


def test_a_start_day_is_a_fact_and_an_agreed_start_a_plan(session, world, requested):
    for day, code in ((TODAY - timedelta(days=1), "in_past"),):
        with pytest.raises(InvalidInput) as refused:
            advance_referral(session, world.manager, requested, "accept", on=day, now=NOW, zone=ZONE,
                             expected_version=requested.version)
        assert refused.value.errors == {"on": code}
    step(session, world, requested, "accept", on=TODAY, zone=ZONE)
    for day, code in ((TODAY + timedelta(days=1), "in_future"), (TODAY - timedelta(days=1), "before_request")):
        with pytest.raises(InvalidInput) as refused:
            advance_referral(session, world.manager, requested, "start", on=day, now=NOW, zone=ZONE,
                             expected_version=requested.version)
        assert refused.value.errors == {"on": code}
    step(session, world, requested, "start", on=TODAY, zone=ZONE)
    assert requested.started_on == TODAY


def test_withdrawing_the_consent_cancels_the_request_e_mail_not_sent_yet(session, world, pact, service):
    from casework.models import EmailStatus, OutboundEmail

    referral = proposed(session, world, pact, service)
    given = consent(session, world, referral)
    step(session, world, referral, "request")
    email = session.scalars(select(OutboundEmail)).one()
    assert email.status == EmailStatus.PENDING
    withdraw_consent(session, world.manager, referral, given.id, now=NOW, expected_version=referral.version)
    session.commit()
    session.refresh(email)
    assert email.status == EmailStatus.CANCELLED
    assert "annullata" in events_notes(session, referral)[-1]


def test_a_consent_from_a_stale_page_or_on_an_ended_referral_is_refused(session, world, pact, service):
    referral = proposed(session, world, pact, service)
    read = referral.version
    set_provider_contact(session, world.manager, referral, "Anna", now=NOW, expected_version=read)
    session.commit()
    with pytest.raises(Conflict):
        record_consent(session, world.manager, referral, given_on=TODAY, purpose="Invio", legal_basis="consent", now=NOW,
                       expected_version=read)
    session.rollback()
    step(session, world, referral, "drop", reason="other")
    with pytest.raises(InvalidInput) as refused:
        record_consent(session, world.manager, referral, given_on=TODAY, purpose="Invio", legal_basis="consent", now=NOW)
    assert refused.value.errors == {"event": "not_possible"}


def test_closing_the_pact_drops_its_open_referrals(session, world, pact, requested):
    from datetime import timedelta as days

    pact.closed_at = NOW + days(hours=1)
    session.commit()
    session.refresh(requested)
    assert (requested.status, requested.drop_reason) == (S.DROPPED, "pact_closed")
    assert requested.ended_at == NOW + days(hours=1)
    assert events(session, requested)[-1] == ("requested", "dropped", "pact_closed")


def events_notes(session, referral):
    return [event.note for event in session.scalars(
        select(ServiceReferralEvent).where(ServiceReferralEvent.referral_id == referral.id)
        .order_by(ServiceReferralEvent.id))]
