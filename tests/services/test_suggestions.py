"""Suggestions on a pact: the fixed directory below, ranked by hand (need score, distance,
places, language, name), on both databases; their reasons; a fixed number of queries."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from casework.models import Screening, ServiceReferral, ServiceReferralStatus
from casework.services import reason_text, suggest_services
from tests.conftest import ZONE
from tests.services.search_support import build_places, make_pact, make_service

NEEDS = {"casa": 3, "conciliazione": 2, "istruzione": 1, "lavoro": 0}


@pytest.fixture
def directory(session, registry, clock):
    """Amina lives in Settimo (Ambito Nord) and prefers Arabic."""
    places = build_places(session)
    pact = make_pact(session, registry, clock, places, language="ar", need_profile=NEEDS)
    s = {}

    def add(key, *args, **kwargs):
        s[key] = make_service(session, places, *args, **kwargs)

    # casa (score 3)
    add("agenzia", "Agenzia Casa Settimo", "agenzia_casa", ["settimo"])  # no fixed limit
    add("abitare", "Abitare Insieme", "abitare_supportato", ["settimo"])  # no fixed limit; an ended referral
    add("affitto", "Affitto Settimo", "sostegno_affitto", ["settimo"], capacity=5)  # places not known
    add("alloggi", "Alloggi Volpiano", "emergenza_abitativa", ["volpiano"], capacity=10, places_available=2,
        languages=("ar", "it"))
    add("leini", "Housing Leinì", "housing_sociale", ["leini"], capacity=5, places_available=0, waiting_list=3)
    add("moncalieri", "Case Moncalieri", "sostegno_affitto", ["moncalieri"])  # another ambito
    add("bonus", "Bonus utenze", "bonus_utenze", ["settimo", "volpiano"], active=False)
    add("proposed", "Alloggio già proposto", "housing_sociale", ["settimo"])  # an open referral
    # conciliazione (score 2)
    add("ludoteca", "Ludoteca Arcobaleno", "ludoteca", ["volpiano"], languages=("ar",))
    add("famiglie", "Centro famiglie Settimo", "centro_famiglia", ["settimo"], capacity=10, places_available=0)
    add("girotondo", "Nido Girotondo", "nido", ["settimo"], capacity=20, places_available=3, languages=("en",))
    add("zefiro", "Nido Zefiro", "nido", ["settimo"], capacity=20, places_available=3, languages=("ar",))
    # istruzione (score 1), lavoro (score 0), cibo (not screened)
    add("doposcuola", "Doposcuola Insieme", "doposcuola", ["settimo", "moncalieri"])
    add("tirocini", "Tirocini Nord", "tirocini", ["settimo"])
    add("emporio", "Emporio solidale", "emporio_solidale", ["settimo"])

    def referral(service, status):
        session.add(ServiceReferral(
            pact=pact, service=service, status=status, need_area="casa", proposed_at=clock.now,
            requested_at=None if status == ServiceReferralStatus.PROPOSED else clock.now,
            ended_at=clock.now if status == ServiceReferralStatus.COMPLETED else None, updated_at=clock.now))

    referral(s["proposed"], ServiceReferralStatus.REQUESTED)
    referral(s["abitare"], ServiceReferralStatus.COMPLETED)
    session.commit()
    return places, pact, s


def names(suggestions):
    return [suggestion.service.name for suggestion in suggestions]


def test_the_ranking_computed_by_hand(session, directory, clock):
    _places, pact, _services = directory
    suggestions = suggest_services(session, pact, now=clock.now, zone=ZONE, limit=20)
    assert names(suggestions) == [
        # casa 3: same comune, with places (no fixed limit), by name; then places not known
        "Abitare Insieme", "Agenzia Casa Settimo", "Affitto Settimo",
        # casa 3, same ambito: places before none
        "Alloggi Volpiano", "Housing Leinì",
        # conciliazione 2, same comune: places and Arabic, places, none; then the ambito
        "Nido Zefiro", "Nido Girotondo", "Centro famiglie Settimo", "Ludoteca Arcobaleno",
        # istruzione 1
        "Doposcuola Insieme",
    ]
    assert names(suggest_services(session, pact, now=clock.now, zone=ZONE, limit=3)) == [
        "Abitare Insieme", "Agenzia Casa Settimo", "Affitto Settimo"]


def test_each_suggestion_says_why(session, directory, clock):
    _places, pact, _services = directory
    by_name = {suggestion.service.name: suggestion
               for suggestion in suggest_services(session, pact, now=clock.now, zone=ZONE, limit=20)}
    alloggi = by_name["Alloggi Volpiano"]
    assert (alloggi.need_area, alloggi.need_score, alloggi.distance, alloggi.places_left,
            alloggi.language_match) == ("casa", 3, "ambito", 2, True)
    assert alloggi.reasons == (("need", "casa", 3), ("same_ambito", "Ambito Nord"), ("places", 2),
                               ("language", "ar"))
    assert by_name["Agenzia Casa Settimo"].reasons == (
        ("need", "casa", 3), ("same_comune", "Settimo Torinese"), ("no_limit",))
    assert by_name["Centro famiglie Settimo"].reasons == (
        ("need", "conciliazione", 2), ("same_comune", "Settimo Torinese"))
    assert [reason_text(reason, "it", need_label="Casa") for reason in alloggi.reasons] == [
        "Bisogno Casa (punteggio 3)", "Nello stesso ambito (Ambito Nord)", "Posti disponibili: 2", "Parla arabo"]
    assert [reason_text(reason, "en", need_label="Housing") for reason in alloggi.reasons] == [
        "Need: Housing (score 3)", "In the same ambito (Ambito Nord)", "Places available: 2", "Speaks Arabic"]
    assert reason_text(("same_comune", "Settimo Torinese"), "it") == "Nel comune di residenza (Settimo Torinese)"


def test_the_latest_screening_counts_and_no_screening_or_comune_suggests_nothing(session, directory, registry, clock):
    places, pact, _services = directory
    session.add(Screening(pact=pact, answers={}, need_profile={"istruzione": 2}, total_score=2,
                          priority=pact.screenings[0].priority, completed_at=clock.now))
    session.commit()
    assert names(suggest_services(session, pact, now=clock.now, zone=ZONE)) == ["Doposcuola Insieme"]

    unscreened = make_pact(session, registry, clock, places, name="Bruno")
    assert suggest_services(session, unscreened, now=clock.now, zone=ZONE) == []
    homeless = make_pact(session, registry, clock, places, name="Carla", need_profile={"casa": 1})
    homeless.beneficiary.comune = None
    session.flush()
    assert suggest_services(session, homeless, now=clock.now, zone=ZONE) == []
    # In Moncalieri (Ambito Sud) only what serves Ambito Sud.
    south = make_pact(session, registry, clock, places, comune="moncalieri", name="Dario",
                      need_profile={"casa": 1, "istruzione": 1})
    assert names(suggest_services(session, south, now=clock.now, zone=ZONE)) == [
        "Case Moncalieri", "Doposcuola Insieme"]


def test_a_fixed_number_of_queries_whatever_the_directory(session, directory, engine, clock):
    places, pact, _services = directory
    session.expire_all()

    def count() -> int:
        statements: list[str] = []

        def record(*args):
            statements.append(args[2])

        session.expire_all()
        event.listen(engine, "before_cursor_execute", record)
        try:
            suggest_services(session, pact, now=clock.now, zone=ZONE, limit=50)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    before = count()
    for number in range(12):
        make_service(session, places, f"Ludoteca {number}", "ludoteca", ["settimo", "leini"],
                     organisation="comune" if number % 2 else "coop", languages=("fr", "ar"))
    session.commit()
    assert count() == before <= 8
