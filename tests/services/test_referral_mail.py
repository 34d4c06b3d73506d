"""The provider's request e-mail: through a real SMTP server (aiosmtpd), exactly once per referral,
naming the beneficiary and the phone only, in Italian."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from casework.config import load_settings
from casework.errors import InvalidInput
from casework.models import OFFICE_SETTINGS_ID, OfficeSettings, OutboundEmail
from casework.pacts import operations as ops
from casework.reminders.mail import MailPolicy, SmtpMailer, deliver_due_emails
from casework.services import advance_referral, propose_referral, record_consent
from tests.conftest import MONDAY_9AM, ZONE
from tests.reminders.helpers import running_smtp_server
from tests.services.referral_helpers import make_service

NOW = MONDAY_9AM
POLICY = MailPolicy(sender="casework@comune.example.org", max_attempts=3, retry_seconds=60, lease_seconds=300)


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


@pytest.fixture
def pact(session, registry, world):
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=ops.Clock(NOW - timedelta(days=7), ZONE))
    world.beneficiary.phone = "333 123 4567"
    # Answers a screening would hold must never reach the provider.
    ops.record_referral(session, opened, source=ops.ReferralSource.SCHOOL, reason="assenze ripetute e debiti",
                        referred_on=date(2026, 2, 20), actor=world.manager, clock=ops.Clock(NOW, ZONE))
    session.add(OfficeSettings(id=OFFICE_SETTINGS_ID, ente_name="Consorzio Socio-Assistenziale NET"))
    session.commit()
    return opened


def deliver(session_factory, port: int, at=NOW):
    mailer = SmtpMailer(load_settings({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": 5},
                                      environ={}))
    return deliver_due_emails(session_factory, mailer, clock=lambda: at, policy=POLICY, holder="test")


def request(session, world, pact, service, basis="consent"):
    referral = propose_referral(session, world.manager, pact, service.id, now=NOW)
    record_consent(session, world.manager, referral, given_on=date(2026, 3, 2),
                   purpose=f"Invio al servizio {service.name} per il patto n. {pact.id}", legal_basis=basis,
                   now=NOW, zone=ZONE)
    advance_referral(session, world.manager, referral, "request", now=NOW, expected_version=referral.version)
    session.commit()
    return referral


def test_the_request_reaches_the_provider_once_in_italian_with_only_name_and_phone(
    session, session_factory, world, pact, smtp_server
):
    handler, port = smtp_server
    service = make_service(session, world.comune, now=NOW)
    referral = request(session, world, pact, service)
    assert deliver(session_factory, port).sent == 1
    assert deliver(session_factory, port, NOW + timedelta(hours=1)).sent == 0
    [message] = handler.received()
    assert str(message["To"]) == "sportello@coop.example.org"
    assert str(message["Subject"]) == f"Richiesta di invio: Sportello lavoro (patto n. {pact.id})"
    body = message.get_content()
    for words in ("Giulia", "giulia@example.org", "Consorzio Socio-Assistenziale NET", "Sportello lavoro",
                  "Cooperativa Il Ponte", f"patto personalizzato n. {pact.id}", "Maria Rossi", "333 123 4567",
                  f"Invio al servizio Sportello lavoro per il patto n. {pact.id}", "02/03/2026"):
        assert words in body, words
    for private in ("assenze", "debiti", "Settimo", "screening", "RSSMRA"):
        assert private not in body, private
    assert referral.status.value == "requested"


def test_the_request_says_the_person_agreed_only_when_the_basis_is_their_consent(session, world, pact):
    service = make_service(session, world.comune, now=NOW)
    request(session, world, pact, service)
    other = make_service(session, world.comune, name="Sportello casa", now=NOW)
    request(session, world, pact, other, basis="public_task")
    on_consent, on_task = [email.body for email in session.scalars(select(OutboundEmail).order_by(OutboundEmail.id))]
    assert "Il 02/03/2026 la persona ha acconsentito" in on_consent and "base giuridica" not in on_consent
    assert "acconsentito" not in on_task
    assert ("sulla base giuridica seguente: Compito di interesse pubblico: servizi sociali (art. 6.1.e e 9.2.g GDPR) "
            "(registrata il 02/03/2026)") in on_task


def test_the_same_request_submitted_twice_sends_one_e_mail(session, session_factory, world, pact, smtp_server):
    handler, port = smtp_server
    service = make_service(session, world.comune, now=NOW)
    referral = request(session, world, pact, service)
    read = referral.version - 1  # the version the first form showed
    with pytest.raises(InvalidInput):
        advance_referral(session, world.manager, referral, "request", now=NOW, expected_version=read)
    session.rollback()
    deliver(session_factory, port)
    assert len(handler.received()) == 1
    assert len(session.scalars(select(OutboundEmail)).all()) == 1


def test_a_new_referral_after_a_drop_is_a_new_e_mail(session, session_factory, world, pact, smtp_server):
    handler, port = smtp_server
    service = make_service(session, world.comune, now=NOW)
    first = request(session, world, pact, service)
    deliver(session_factory, port)
    advance_referral(session, world.manager, first, "drop", reason="no_show", now=NOW,
                     expected_version=first.version)
    session.commit()
    second = request(session, world, pact, service)
    deliver(session_factory, port, NOW + timedelta(minutes=5))
    assert second.id != first.id
    assert len(handler.received()) == 2
    assert sorted(session.scalars(select(OutboundEmail.dedupe_key))) == sorted(
        [f"service_referral_request:{first.id}", f"service_referral_request:{second.id}"])


def test_a_service_without_an_address_gets_no_e_mail(session, session_factory, world, pact, smtp_server):
    handler, port = smtp_server
    service = make_service(session, world.comune, name="Centro famiglia", contact_email="", now=NOW)
    referral = request(session, world, pact, service)
    assert referral.status.value == "requested"
    assert deliver(session_factory, port).sent == 0
    assert handler.received() == []
