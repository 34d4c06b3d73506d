"""The pact page's "Servizi" part: who sees it, each form valid and invalid, stale forms, other users.

Runs on SQLite and, when configured, on PostgreSQL (`app` is the `engine_app` fixture).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from casework.models import (
    ActionStatus,
    DataSharingConsent,
    OutboundEmail,
    Performer,
    ServiceReferral,
    ServiceReferralEvent,
    ServiceReferralStatus,
)
from casework.pacts import operations as ops
from casework.services import propose_referral
from tests.conftest import ZONE
from tests.services.referral_helpers import make_service
from tests.web.conftest import submit
from tests.web.pacts.test_page import signed_in, text, today

S = ServiceReferralStatus


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def referral(db, people):
    now = datetime.now(timezone.utc)
    service = make_service(db, people.beneficiary.comune, now=now)
    made = propose_referral(db, people.manager, people.pact, service.id, now=now, need_area="lavoro")
    db.commit()
    return made


def part(page: str) -> str:
    found = re.search(r'<section id="services".*?</section>', page, re.DOTALL)
    assert found, "no services part"
    return found.group(0)


def current(db, referral_id: int) -> ServiceReferral:
    db.expire_all()
    return db.get(ServiceReferral, referral_id)


def post(client, pact_id: int, path: str, data: dict):
    return submit(client, f"/pacts/{pact_id}/services/{path}", data, form_page=f"/pacts/{pact_id}")


def step(client, db, people, referral_id: int, event: str, **fields):
    version = current(db, referral_id).version
    data = {f"referral-{referral_id}-{event}-version": version,
            **{f"referral-{referral_id}-{event}-{name}": value for name, value in fields.items()}}
    return post(client, people.pact.id, f"{referral_id}/steps/{event}", data)


def consent(client, people, referral_id: int, **fields):
    data = {f"consent-{referral_id}-given_on": today(), f"consent-{referral_id}-purpose": "Invio al servizio",
            f"consent-{referral_id}-legal_basis": "consent"}
    data.update({f"consent-{referral_id}-{name}": value for name, value in fields.items()})
    return post(client, people.pact.id, f"{referral_id}/consent", data)


# Who sees the part -------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["giulia", "elena"])
def test_the_part_shows_the_referral_with_its_status_and_next_steps(app, people, referral, username):
    client = signed_in(app, username, english=False)
    page = text(client.get(f"/pacts/{people.pact.id}"))
    services = part(page)
    assert 'data-part-link="services"' in page and ">\n        Servizi" in page or "Servizi" in page
    assert "Sportello lavoro" in services and "Cooperativa Il Ponte" in services
    assert "referral-status-proposed" in services and "Proposto" in services
    assert re.search(r"Area di bisogno</dt><dd[^>]*>Lavoro</dd>", services)
    # The request waits for the consent, and says so; the consent form proposes its purpose.
    assert re.search(r'<button type="button" class="btn btn-primary" disabled[^>]*>Invia la richiesta al servizio</button>',
                     services)
    assert "Registra prima il consenso" in services
    assert f"Invio al servizio Sportello lavoro per il patto n. {people.pact.id}" in services


@pytest.mark.parametrize(("username", "status"), [("marco", 404), ("paolo", 404), ("admin", 404)])
def test_other_users_get_nothing(app, db, people, referral, username, status):
    client = signed_in(app, username)
    assert client.get(f"/pacts/{people.pact.id}").status_code == status
    response = consent(client, people, referral.id)
    assert response.status_code == status
    response = step(client, db, people, referral.id, "request")
    assert response.status_code == status
    assert current(db, referral.id).status == S.PROPOSED
    assert db.scalars(select(DataSharingConsent)).all() == []


def test_a_referral_of_another_pact_is_not_found(app, db, people, referral, registry):
    other = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=people.restricted,
                          case_manager=people.manager, actor=people.manager,
                          clock=ops.Clock(datetime.now(timezone.utc), ZONE))
    db.commit()
    client = signed_in(app, "giulia")
    response = post(client, other.id, f"{referral.id}/consent", {})
    assert response.status_code == 404


# Each form, valid and invalid -----------------------------------------------------------------------

def test_consent_then_request_accept_start_complete(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    assert step(client, db, people, referral.id, "request").status_code == 422  # no consent yet
    response = consent(client, people, referral.id)
    assert response.status_code == 302 and response.headers["Location"].endswith("#services")
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert "Consenso alla condivisione dei dati per Sportello lavoro registrato." in page
    response = step(client, db, people, referral.id, "request")
    assert response.status_code == 302
    page = text(client.get(f"/pacts/{people.pact.id}"))
    assert "Invio a Sportello lavoro: richiesto." in page
    assert "sportello@coop.example.org" in part(page)
    assert len(db.scalars(select(OutboundEmail)).all()) == 1
    assert step(client, db, people, referral.id, "accept", on="").status_code == 302
    assert step(client, db, people, referral.id, "start", on=today()).status_code == 302
    assert step(client, db, people, referral.id, "complete").status_code == 302
    done = current(db, referral.id)
    assert done.status == S.COMPLETED and done.started_on is not None
    timeline = text(client.get(f"/pacts/{people.pact.id}/timeline"))
    assert "Invio a Sportello lavoro: concluso" in timeline
    assert "Invio a Sportello lavoro: richiesto" in timeline


def test_a_refusal_without_reason_is_shown_next_to_the_field(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    consent(client, people, referral.id)
    step(client, db, people, referral.id, "request")
    response = step(client, db, people, referral.id, "refuse", reason="")
    assert response.status_code == 422
    page = text(response)
    assert re.search(rf'id="referral-{referral.id}-refuse-reason-error"[^>]*>Scegli il motivo.', page)
    assert current(db, referral.id).status == S.REQUESTED
    response = step(client, db, people, referral.id, "refuse", reason="no_places", note="Lista d'attesa piena")
    assert response.status_code == 302
    assert (current(db, referral.id).status, current(db, referral.id).refusal_reason) == (S.REFUSED, "no_places")
    timeline = text(client.get(f"/pacts/{people.pact.id}/timeline"))
    assert "Invio a Sportello lavoro: rifiutato" in timeline and "Nessun posto disponibile" in timeline


def test_a_start_without_its_day_and_a_consent_in_the_future_are_refused(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    tomorrow = (datetime.now(ZONE).date() + timedelta(days=1)).isoformat()
    response = consent(client, people, referral.id, given_on=tomorrow)
    assert response.status_code == 422
    assert "non può essere nel futuro" in text(response)
    response = consent(client, people, referral.id, purpose="")
    assert response.status_code == 422 and "Scrivi per che cosa" in text(response)
    consent(client, people, referral.id)
    step(client, db, people, referral.id, "request")
    step(client, db, people, referral.id, "accept")
    response = step(client, db, people, referral.id, "start", on="")
    assert response.status_code == 422 and "Indica il giorno in cui il servizio è iniziato." in text(response)
    assert current(db, referral.id).status == S.ACCEPTED


def test_a_step_from_a_stale_form_is_a_conflict_keeping_nothing(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    consent(client, people, referral.id)
    read = current(db, referral.id).version
    step(client, db, people, referral.id, "request")
    data = {f"referral-{referral.id}-request-version": read}
    response = post(client, people.pact.id, f"{referral.id}/steps/request", data)
    assert response.status_code in (409, 422)  # stale version, or no request from "requested" any more
    data = {f"referral-{referral.id}-drop-version": read, f"referral-{referral.id}-drop-reason": "no_show"}
    response = post(client, people.pact.id, f"{referral.id}/steps/drop", data)
    assert response.status_code == 409
    assert "Qualcun altro ha modificato questo invio" in text(response)
    assert current(db, referral.id).status == S.REQUESTED


def test_provider_contact_and_linked_action(app, db, people, referral):
    now = datetime.now(timezone.utc)
    action = ops.add_action(db, db.merge(people.pact), description="Colloquio di orientamento",
                            performer=Performer.SERVICE, clock=ops.Clock(now, ZONE))
    db.commit()
    client = signed_in(app, "giulia", english=False)
    version = current(db, referral.id).version
    response = post(client, people.pact.id, f"{referral.id}/contact",
                    {f"contact-{referral.id}-version": version, f"contact-{referral.id}-provider_contact": "x" * 301})
    assert response.status_code == 422
    response = post(client, people.pact.id, f"{referral.id}/contact",
                    {f"contact-{referral.id}-version": version,
                     f"contact-{referral.id}-provider_contact": "Anna Neri, 011 555 0102"})
    assert response.status_code == 302
    version = current(db, referral.id).version
    response = post(client, people.pact.id, f"{referral.id}/action",
                    {f"link-{referral.id}-version": version, f"link-{referral.id}-action": "999999"})
    assert response.status_code == 422 and "Scegli un'azione di questo patto." in text(response)
    response = post(client, people.pact.id, f"{referral.id}/action",
                    {f"link-{referral.id}-version": version, f"link-{referral.id}-action": str(action.id)})
    assert response.status_code == 302
    consent(client, people, referral.id)
    step(client, db, people, referral.id, "request")
    step(client, db, people, referral.id, "accept")
    step(client, db, people, referral.id, "start", on=today())
    db.expire_all()
    assert db.get(type(action), action.id).status == ActionStatus.IN_PROGRESS
    services = part(text(client.get(f"/pacts/{people.pact.id}")))
    assert "Anna Neri, 011 555 0102" in services and "Colloquio di orientamento" in services
    notes = db.scalars(select(ServiceReferralEvent.note).where(ServiceReferralEvent.to_status == "started")).one()
    assert "Colloquio di orientamento" in notes


def test_the_consent_form_proposes_the_persons_consent_and_shows_the_basis_recorded(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    services = part(text(client.get(f"/pacts/{people.pact.id}")))
    select_field = re.search(rf'<select[^>]*name="consent-{referral.id}-legal_basis".*?</select>', services, re.DOTALL)
    assert select_field, "no legal basis to choose"
    assert re.search(r'<option selected value="consent">Consenso dell\'interessato \(art\. 6\.1\.a e 9\.2\.a GDPR\)',
                     select_field.group(0))
    assert "Obbligo di legge (art. 6.1.c GDPR)" in select_field.group(0)
    assert consent(client, people, referral.id, legal_basis="legal_obligation").status_code == 302
    assert db.scalars(select(DataSharingConsent.legal_basis)).one().value == "legal_obligation"
    services = part(text(client.get(f"/pacts/{people.pact.id}")))
    assert "Base giuridica: Obbligo di legge (art. 6.1.c GDPR)" in services


@pytest.mark.parametrize(("basis", "message"), [
    ("", "Scegli la base giuridica della condivisione."),
    ("legitimate_interest", "Scegli una delle basi giuridiche dell'elenco."),
])
def test_a_consent_without_a_legal_basis_is_refused_next_to_the_field(app, db, people, referral, basis, message):
    client = signed_in(app, "giulia", english=False)
    response = consent(client, people, referral.id, legal_basis=basis)
    assert response.status_code == 422
    page = text(response)
    assert re.search(rf'id="consent-{referral.id}-legal_basis-error"[^>]*>{re.escape(message)}', page), page[-3000:]
    assert db.scalars(select(DataSharingConsent)).all() == []


def test_withdrawing_the_consent(app, db, people, referral):
    client = signed_in(app, "giulia", english=False)
    consent(client, people, referral.id)
    given = db.scalars(select(DataSharingConsent)).one()
    response = post(client, people.pact.id, f"{referral.id}/consent/withdraw", {f"withdraw-{referral.id}-consent": given.id})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(DataSharingConsent, given.id).withdrawn_at is not None
    response = post(client, people.pact.id, f"{referral.id}/consent/withdraw", {f"withdraw-{referral.id}-consent": given.id})
    assert response.status_code == 422 and "già stato revocato" in text(response)


def test_nothing_changes_on_a_closed_pact(app, db, people, referral):
    pact = db.merge(people.pact)
    pact.closed_at = datetime.now(timezone.utc)
    db.commit()
    client = signed_in(app, "giulia", english=False)
    services = part(text(client.get(f"/pacts/{people.pact.id}")))
    assert "<form" not in services
    response = consent(client, people, referral.id)
    assert response.status_code == 422 and "Il patto è chiuso" in text(response)


# A fixed number of queries ------------------------------------------------------------------------

def test_the_pact_page_costs_the_same_queries_for_one_or_ten_referrals(app, db, people, referral):
    from tests.web.pacts.test_workspace import _queries

    client = signed_in(app, "giulia")
    url = f"/pacts/{people.pact.id}"
    one = _queries(app, client, url)
    now = datetime.now(timezone.utc)
    pact = db.merge(people.pact)
    for number in range(9):
        service = make_service(db, people.beneficiary.comune, name=f"Servizio {number}", now=now)
        made = propose_referral(db, people.manager, pact, service.id, now=now)
        from casework.services import advance_referral, record_consent

        record_consent(db, people.manager, made, given_on=now.astimezone(ZONE).date(), purpose="Invio", legal_basis="consent", now=now,
                       zone=ZONE)
        advance_referral(db, people.manager, made, "request", now=now, expected_version=made.version)
    db.commit()
    ten = _queries(app, client, url)
    assert one == ten, (one, ten)
    assert ten <= 45


def test_proposing_a_service_valid_and_invalid(app, db, people, referral):
    now = datetime.now(timezone.utc)
    other = make_service(db, people.beneficiary.comune, name="Centro famiglia", now=now)
    closed = make_service(db, people.beneficiary.comune, name="Ludoteca chiusa", active=False, now=now)
    db.commit()
    client = signed_in(app, "giulia", english=False)
    pact_id = people.pact.id
    response = post(client, pact_id, "propose", {"service": other.id, f"propose-{other.id}-need_area": "conciliazione"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#services")
    assert "Invio a Centro famiglia proposto" in text(client.get(f"/pacts/{pact_id}"))
    made = db.scalars(select(ServiceReferral).where(ServiceReferral.service_id == other.id)).one()
    assert (made.status, made.need_area) == (S.PROPOSED, "conciliazione")
    response = post(client, pact_id, "propose", {"service": other.id})
    assert response.status_code == 422 and "Il patto ha già un invio aperto a questo servizio." in text(response)
    response = post(client, pact_id, "propose", {"service": closed.id})
    assert response.status_code == 422 and "Questo servizio non è più attivo." in text(response)
    assert post(client, pact_id, "propose", {}).status_code == 400
    for nonsense in ("abc", "99999999999999999999", "-3"):  # no row's id: refused, never a 500
        assert post(client, pact_id, "propose", {"service": nonsense}).status_code == 400
    assert post(signed_in(app, "marco"), pact_id, "propose", {"service": closed.id}).status_code == 404


# Suggestions -----------------------------------------------------------------------------------------

def test_the_part_suggests_services_with_their_reasons_and_proposing_one_makes_a_referral(app, db, people, registry):
    from tests.support import valid_answers

    now = datetime.now(timezone.utc)
    pact = db.merge(people.pact)
    questionnaire = registry.engine_for(pact).definition.questionnaire
    ops.record_screening(db, registry, pact, valid_answers(questionnaire, worst=True), actor=people.manager,
                         clock=ops.Clock(now, ZONE))
    service = make_service(db, people.beneficiary.comune, name="Sportello lavoro Settimo", now=now)
    service.places_available = 3
    db.commit()
    client = signed_in(app, "giulia", english=False)
    services = part(text(client.get(f"/pacts/{pact.id}")))
    assert "Servizi suggeriti" in services
    suggestion = re.search(r'<li class="service-suggestion.*?</li>\s*</ul>|<li class="service-suggestion.*?</form>', services,
                           re.DOTALL).group(0)
    assert "Sportello lavoro Settimo" in suggestion and "Cooperativa Il Ponte" in suggestion
    assert "Nel comune di residenza (Settimo Torinese)" in suggestion
    assert "Posti disponibili: 3" in suggestion and "Lavoro" in suggestion
    response = post(client, pact.id, "propose", {"service": service.id, f"propose-{service.id}-need_area": "lavoro"})
    assert response.status_code == 302
    made = db.scalars(select(ServiceReferral).where(ServiceReferral.service_id == service.id)).one()
    assert (made.status, made.need_area) == (S.PROPOSED, "lavoro")
    services = part(text(client.get(f"/pacts/{pact.id}")))
    assert "referral-status-proposed" in services
    assert 'class="service-suggestion' not in services  # an open referral is not suggested again
    # The supervisor sees the suggestions too; a closed pact shows none.
    assert "Servizi suggeriti" in part(text(signed_in(app, "elena", english=False).get(f"/pacts/{pact.id}")))
