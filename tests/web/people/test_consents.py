"""The person's consents on their page: each with its legal basis, withdrawn from there by who
sees the person, refused twice and for another person's consent; what it blocks afterwards.
SQLite and PostgreSQL (`app` is the `engine_app` fixture)."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from casework.models import (
    Beneficiary,
    ConsentLegalBasis,
    DataSharingConsent,
    Gender,
    ServiceReferral,
    ServiceReferralStatus,
)
from casework.pacts import operations as ops
from casework.services import propose_referral, record_consent
from tests.conftest import ZONE
from tests.services.referral_helpers import make_service
from tests.web.conftest import submit
from tests.web.pacts.test_page import signed_in, text


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def given(db, people) -> DataSharingConsent:
    now = datetime.now(timezone.utc)
    service = make_service(db, people.beneficiary.comune, now=now)
    referral = propose_referral(db, people.manager, people.pact, service.id, now=now, need_area="lavoro")
    consent = record_consent(db, people.manager, referral, given_on=now.astimezone(ZONE).date(),
                             purpose="Invio allo sportello lavoro", legal_basis=ConsentLegalBasis.PUBLIC_TASK,
                             now=now, zone=ZONE)
    db.commit()
    return consent


def consents_section(page: str) -> str:
    found = re.search(r'<section aria-labelledby="consents-title".*?</section>', page, re.DOTALL)
    assert found, "no consents section"
    return found.group(0)


def withdraw(client, beneficiary_id: int, consent_id: int):
    return submit(client, f"/beneficiaries/{beneficiary_id}/consents/{consent_id}/withdraw", {},
                  form_page=f"/beneficiaries/{beneficiary_id}")


def withdrawn_at(db, consent_id: int):
    db.expire_all()
    return db.get(DataSharingConsent, consent_id).withdrawn_at


@pytest.mark.parametrize("username", ["giulia", "elena"])
def test_the_page_shows_the_legal_basis_and_the_withdrawal_then_the_withdrawal_blocks(app, db, people, given,
                                                                                      username):
    client = signed_in(app, username, english=False)
    section = consents_section(text(client.get(f"/beneficiaries/{people.beneficiary.id}")))
    assert "Base giuridica" in section
    assert "Compito di interesse pubblico: servizi sociali (art. 6.1.e e 9.2.g GDPR)" in section
    assert "Invio allo sportello lavoro" in section and "non revocato" in section
    assert f'action="/beneficiaries/{people.beneficiary.id}/consents/{given.id}/withdraw"' in section

    response = withdraw(client, people.beneficiary.id, given.id)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/beneficiaries/{people.beneficiary.id}#consents-title")
    assert withdrawn_at(db, given.id) is not None
    page = text(client.get(response.headers["Location"]))
    assert "Consenso alla condivisione dei dati con Cooperativa Il Ponte revocato." in page
    section = consents_section(page)
    assert "revocato il" in section and "/withdraw" not in section

    # The referral's request now needs a new consent.
    referral = db.scalars(select(ServiceReferral)).one()
    response = submit(client, f"/pacts/{people.pact.id}/services/{referral.id}/steps/request",
                      {f"referral-{referral.id}-request-version": referral.version},
                      form_page=f"/pacts/{people.pact.id}")
    assert response.status_code == 422
    assert "Prima della richiesta serve il consenso della persona beneficiaria" in text(response)
    db.expire_all()
    assert db.get(ServiceReferral, referral.id).status == ServiceReferralStatus.PROPOSED


def test_a_second_withdrawal_is_told_in_italian_and_changes_nothing(app, db, people, given):
    client = signed_in(app, "giulia", english=False)
    assert withdraw(client, people.beneficiary.id, given.id).status_code == 302
    first = withdrawn_at(db, given.id)
    response = withdraw(client, people.beneficiary.id, given.id)
    assert response.status_code == 422
    assert re.search(r'role="alert">\s*Questo consenso è già stato revocato\.', consents_section(text(response)))
    assert withdrawn_at(db, given.id) == first


def test_another_persons_consent_or_a_person_not_seen_is_not_found(app, db, people, registry, given):
    other = Beneficiary(first_name="Anna", last_name="Verdi", gender=Gender.FEMALE,
                        comune_id=people.beneficiary.comune_id, created_by_id=people.manager.id)
    db.add(other)
    db.flush()
    ops.open_pact(db, registry, beneficiary=other, programme=people.programme, case_manager=people.manager,
                  actor=people.manager, clock=ops.Clock(datetime.now(timezone.utc), ZONE))
    db.commit()
    giulia = signed_in(app, "giulia", english=False)
    # Anna is Giulia's too, but the consent is Maria's.
    assert withdraw(giulia, other.id, given.id).status_code == 404
    assert withdraw(giulia, people.beneficiary.id, given.id + 1000).status_code == 404
    for username, status in (("marco", 404), ("paolo", 404), ("admin", 403)):
        client = signed_in(app, username)
        assert withdraw(client, people.beneficiary.id, given.id).status_code == status, username
    assert withdrawn_at(db, given.id) is None


def test_without_the_csrf_token_nothing_is_withdrawn(app, db, people, given):
    client = signed_in(app, "giulia")
    response = client.post(f"/beneficiaries/{people.beneficiary.id}/consents/{given.id}/withdraw", data={})
    assert response.status_code == 400
    assert withdrawn_at(db, given.id) is None
