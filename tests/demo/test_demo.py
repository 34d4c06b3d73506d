"""The demo data: loaded once through the real operations, then checked like production data."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import Session, sessionmaker
from stdnum.it import codicefiscale

from casework import PROJECT_ROOT
from casework.db import make_engine, make_session_factory
from casework.demo.loader import DemoSummary, load_demo
from casework.demo.tables import TERRITORIES
from casework.models import (
    Base,
    Beneficiary,
    DataSharingConsent,
    FollowUpContact,
    Gender,
    Pact,
    PactRevision,
    Programme,
    Role,
    Service,
    ServiceCost,
    ServiceReferral,
    ServiceReferralStatus,
    Territory,
    TerritoryKind,
    TransitionRecord,
    User,
)
from casework.reminders import StatePosition, state_deadlines
from casework.security.passwords import verify_password
from casework.services import load_taxonomy
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE

# A Monday morning in Rome; the demo's history lies before it.
NOW = datetime(2026, 3, 16, 9, 30, tzinfo=timezone.utc)


@dataclass
class Loaded:
    factory: sessionmaker[Session]
    registry: WorkflowRegistry
    summary: DemoSummary


def _row_counts(session: Session) -> dict[str, int]:
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loaded]:
    path: Path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    engine = make_engine("sqlite:///" + str(path))
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
    with factory() as session:
        summary = load_demo(session, registry, now=NOW, zone=ZONE)
        session.commit()
    yield Loaded(factory, registry, summary)
    engine.dispose()


@pytest.fixture
def session(loaded: Loaded) -> Iterator[Session]:
    with loaded.factory() as session:
        yield session


def test_first_load_creates_about_200_beneficiaries_each_with_a_pact(loaded: Loaded, session: Session) -> None:
    summary = loaded.summary
    assert summary.created is True
    assert 180 <= summary.beneficiaries <= 220
    assert summary.beneficiaries == session.scalar(select(func.count()).select_from(Beneficiary))
    assert summary.pacts == session.scalar(select(func.count()).select_from(Pact))
    assert summary.pacts >= summary.beneficiaries


def test_codici_fiscali_are_valid_unique_and_match_the_person(session: Session) -> None:
    beneficiaries = session.scalars(select(Beneficiary)).all()
    codes = [b.codice_fiscale for b in beneficiaries]
    assert all(code is not None and codicefiscale.is_valid(code) for code in codes)
    assert len(set(codes)) == len(codes)
    for beneficiary in beneficiaries:
        code = beneficiary.codice_fiscale
        assert code is not None and beneficiary.birth_date is not None
        assert codicefiscale.get_birth_date(code) == beneficiary.birth_date
        assert codicefiscale.get_gender(code) == ("F" if beneficiary.gender == Gender.FEMALE else "M")
        # Born abroad: the code's place is a country (Z...), and the person has a migrant background.
        if code[11] == "Z":
            assert beneficiary.migrant_background


def test_territories_use_the_real_istat_codes(session: Session) -> None:
    comuni = {t.name: t for t in session.scalars(select(Territory).where(Territory.kind == TerritoryKind.COMUNE))}
    assert comuni["Settimo Torinese"].istat_code == "001265"
    assert comuni["Leinì"].istat_code == "001130"
    assert comuni["Lodi"].istat_code == "098031"
    assert comuni["Sant'Angelo Lodigiano"].istat_code == "098050"
    assert comuni["Rivalta di Torino"].istat_code == "001214"
    assert comuni["Volvera"].istat_code == "001315"
    assert comuni["Volpiano"].parent is not None and comuni["Volpiano"].parent.kind == TerritoryKind.UNIONE
    assert comuni["Codogno"].parent is not None and comuni["Codogno"].parent.kind == TerritoryKind.AMBITO
    assert comuni["Bruino"].parent is not None and comuni["Bruino"].parent.kind == TerritoryKind.CONSORZIO


def test_beneficiaries_live_in_their_programme_territory(session: Session) -> None:
    for pact in session.scalars(select(Pact)):
        comune = pact.beneficiary.comune
        assert comune is not None and comune.parent_id == pact.programme.territory_id


def test_femminili_plurali_meets_its_women_and_migrant_targets(session: Session) -> None:
    programme = session.scalar(select(Programme).where(Programme.code == "FEMMINILI_PLURALI"))
    assert programme is not None
    targets = {t.indicator: t.value for t in programme.targets}
    assert targets["beneficiaries"] == 300
    people = [p.beneficiary for p in session.scalars(select(Pact).where(Pact.programme_id == programme.id))]
    women = sum(1 for b in people if b.gender == Gender.FEMALE)
    assert women / len(people) >= float(targets["share_women"]) - 0.1
    assert all(b.migrant_background for b in people)


def test_restricted_programmes_and_targets_have_descriptions(session: Session) -> None:
    programmes = {p.code: p for p in session.scalars(select(Programme))}
    assert {"TILDE", "CHANCE", "FEMMINILI_PLURALI", "SISACT"} <= set(programmes)
    assert programmes["SISACT"].restricted and not programmes["TILDE"].restricted
    assert programmes["TILDE"].funder == "non indicato nella scheda di progetto"
    assert programmes["CHANCE"].workflow_name == "chance_dispersione"
    assert {t.indicator: t.value for t in programmes["SISACT"].targets}["beneficiaries"] == 200
    today = NOW.date()
    for programme in programmes.values():
        assert programme.starts_on < today - timedelta(days=365) and programme.ends_on is not None
        assert programme.ends_on > today + timedelta(days=365)
        assert all(target.description for target in programme.targets)


def test_every_state_of_both_workflows_has_a_pact(loaded: Loaded, session: Session) -> None:
    found = set(session.execute(select(Pact.workflow_name, Pact.state).distinct()).tuples())
    for name in ("patto_personalizzato", "chance_dispersione"):
        states = set(loaded.registry.latest(name).definition.states)
        assert {(name, state) for state in states} <= found, name


def test_replaying_the_audit_trail_gives_each_pact_its_state(session: Session) -> None:
    records: dict[int, list[TransitionRecord]] = defaultdict(list)
    for record in session.scalars(select(TransitionRecord).order_by(TransitionRecord.id)):
        records[record.pact_id].append(record)
    for pact in session.scalars(select(Pact)):
        trail = records[pact.id]
        assert trail[0].from_state is None and trail[0].event == "open" and trail[0].at == pact.opened_at
        state = trail[0].to_state
        for previous, record in itertools.pairwise(trail):
            assert record.from_state == state, (pact.id, record.event)
            assert record.at >= previous.at
            state = record.to_state
        assert state == pact.state
        assert trail[-1].at == pact.state_entered_at
        assert trail[-1].pact_version <= pact.version


def test_final_states_are_closed_and_open_states_carry_a_deadline(loaded: Loaded, session: Session) -> None:
    """... unless the work of every deadline of the stage is done (screened, signed) and the pact
    waits for its next move."""
    for pact in session.scalars(select(Pact)):
        definition = loaded.registry.get(pact.workflow_name, pact.workflow_version).definition
        if pact.state in definition.final_states:
            assert pact.closed_at is not None and pact.next_deadline_at is None
        else:
            assert pact.closed_at is None
            deadlines = state_deadlines(session, definition, StatePosition.of(pact), ZONE, include_met=True)
            if all(deadline.met for deadline in deadlines):
                assert pact.next_deadline_at is None
            else:
                assert pact.next_deadline_at is not None and pact.next_deadline_label


def test_history_lies_in_the_past(session: Session) -> None:
    assert session.scalar(select(func.max(TransitionRecord.at))) <= NOW
    assert session.scalar(select(func.max(FollowUpContact.contact_at))) <= NOW
    assert session.scalar(select(func.min(Pact.opened_at))) >= NOW - timedelta(days=400)


def test_what_is_due_has_overdue_and_upcoming_pacts(session: Session) -> None:
    deadlines = session.scalars(select(Pact.next_deadline_at).where(Pact.closed_at.is_(None))).all()
    overdue = sum(1 for d in deadlines if d is not None and d < NOW)
    due_this_week = sum(1 for d in deadlines if d is not None and NOW <= d < NOW + timedelta(days=7))
    assert overdue >= 10
    assert due_this_week >= 5


def test_active_pacts_were_signed_before_activation(session: Session) -> None:
    for pact in session.scalars(select(Pact).where(Pact.state.in_(["activation", "follow_up", "accompaniment"]))):
        revision = pact.latest_revision
        assert revision is not None and revision.is_signed and revision.content["goals"]
    reopened = session.scalars(select(PactRevision).where(PactRevision.number == 2)).all()
    assert reopened, "a reopened pact is signed again as revision 2"


def test_chance_cases_taken_in_have_an_equipe(session: Session) -> None:
    taken_in = session.scalars(
        select(Pact).join(TransitionRecord, TransitionRecord.pact_id == Pact.id).where(TransitionRecord.event == "take_in")
    ).unique().all()
    assert taken_in
    assert all(pact.members for pact in taken_in)


def test_case_managers_belong_to_the_programme_territory(session: Session) -> None:
    for pact in session.scalars(select(Pact)):
        assert pact.case_manager.role == Role.CASE_MANAGER
        assert pact.case_manager.territory_id == pact.programme.territory_id
    actors = set(session.scalars(select(TransitionRecord.actor_id).distinct()))
    managers = set(session.scalars(select(User.id).where(User.role == Role.CASE_MANAGER)))
    assert actors <= managers


def test_each_role_has_an_account_whose_password_works(loaded: Loaded, session: Session) -> None:
    roles = Counter(account.role for account in loaded.summary.accounts)
    assert roles[Role.ADMIN.value] == 1 and roles[Role.SUPERVISOR.value] == 3 and roles[Role.CASE_MANAGER.value] == 6
    checked = set()
    for account in loaded.summary.accounts:
        user = session.scalar(select(User).where(User.username == account.username))
        assert user is not None and user.role.value == account.role and user.full_name == account.full_name
        assert user.territory.name == account.territory
        if account.role not in checked:
            assert verify_password(user.password_hash, account.password)
            assert not verify_password(user.password_hash, account.password + "x")
            checked.add(account.role)
    assert checked == {role.value for role in Role}


def test_texts_fit_their_columns(session: Session) -> None:
    """SQLite ignores VARCHAR lengths; PostgreSQL would refuse the whole demo."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            length = getattr(column.type, "length", None)
            if isinstance(column.type, String) and length:
                longest = session.scalar(select(func.max(func.length(column))))
                assert longest is None or longest <= length, f"{table.name}.{column.name}: {longest} > {length}"


@pytest.mark.postgres
def test_loads_on_postgresql_too(loaded: Loaded, fresh_postgres_url: str) -> None:
    engine = make_engine(fresh_postgres_url)
    try:
        Base.metadata.create_all(engine)
        registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
        with make_session_factory(engine)() as session:
            summary = load_demo(session, registry, now=NOW, zone=ZONE)
            session.commit()
        with make_session_factory(engine)() as session:
            assert summary.created and summary.pacts == session.scalar(select(func.count()).select_from(Pact))
            assert summary.services == session.scalar(select(func.count()).select_from(Service)) >= 80
            statuses = set(session.scalars(select(ServiceReferral.status).distinct()))
            assert statuses == set(ServiceReferralStatus)
            _check_referrals(session)
            with loaded.factory() as on_sqlite:  # the same seed and now give the same demo
                assert _referral_digest(session) == _referral_digest(on_sqlite)
            before = _row_counts(session)
            assert load_demo(session, registry, now=NOW, zone=ZONE).created is False
            session.commit()
        with make_session_factory(engine)() as session:
            assert _row_counts(session) == before
    finally:
        engine.dispose()


def test_second_load_creates_nothing(loaded: Loaded) -> None:
    with loaded.factory() as session:
        before = _row_counts(session)
        again = load_demo(session, loaded.registry, now=NOW + timedelta(days=3), zone=ZONE)
        session.commit()
    with loaded.factory() as session:
        assert _row_counts(session) == before
    assert again.created is False
    assert again.accounts == loaded.summary.accounts
    assert (again.beneficiaries, again.pacts) == (loaded.summary.beneficiaries, loaded.summary.pacts)


# ---- the directory of services and the referrals ----------------------------------------------

NEED_AREAS = {"lavoro", "casa", "cibo", "conciliazione", "istruzione", "salute", "relazioni", "mobilita", "documenti"}


def _served_areas(session: Session) -> dict[str, set[str]]:
    """Comune name -> need areas of the active services that serve it."""
    served: dict[str, set[str]] = defaultdict(set)
    for service in session.scalars(select(Service).where(Service.active.is_(True))):
        for place in service.comuni:
            served[place.territory.name].add(service.service_type.need_area)
    return served


def test_the_directory_has_about_90_services_of_about_40_organisations(loaded: Loaded, session: Session) -> None:
    services = session.scalars(select(Service)).all()
    assert 80 <= len(services) <= 100
    assert loaded.summary.services == len(services)
    assert 35 <= len({service.organisation_id for service in services}) <= 45
    assert {service.service_type.macro_area.code for service in services} == {area.code for area in load_taxonomy()}
    languages = Counter(language.language for service in services for language in service.languages)
    assert {"it", "en", "fr", "ar", "ro", "sq", "zh", "uk"} <= set(languages)
    assert {service.cost for service in services} == set(ServiceCost)
    assert any(service.company_welfare_plan for service in services)
    full = [s for s in services if s.capacity is not None and s.places_available == 0 and s.waiting_list > 0]
    assert len(full) >= 5
    stale = [s for s in services if (NOW.date() - s.last_checked_on).days > 365]
    assert 3 <= len(stale) <= len(services) // 4
    assert 1 <= sum(1 for s in services if not s.active) <= 5
    assert all(s.opening_hours and s.comuni and s.languages for s in services)
    assert all(s.created_at <= s.updated_at <= NOW for s in services)


def test_service_contacts_are_fictitious(session: Session) -> None:
    for service in session.scalars(select(Service)):
        assert service.contact_email.endswith(".example.org"), service.contact_email
        assert service.website.startswith("https://") and ".example.org/" in service.website
        assert " 000 " in service.contact_phone, service.contact_phone


def test_every_demo_comune_is_served_in_most_need_areas_and_some_gaps_remain(session: Session) -> None:
    served = _served_areas(session)
    comuni = [comune for _, _, rows in TERRITORIES for comune, _, _ in rows]
    for comune in comuni:
        assert len(served[comune] & NEED_AREAS) >= 6, comune
    for group, _, rows in TERRITORIES:  # every need area somewhere in each ambito
        assert set().union(*(served[comune] for comune, _, _ in rows)) >= NEED_AREAS, group
    lived_in = set(session.scalars(select(Territory.name).join(Beneficiary, Beneficiary.comune_id == Territory.id)))
    gaps = {(comune, area) for comune in comuni if comune in lived_in for area in NEED_AREAS - served[comune]}
    assert ("San Benigno Canavese", "casa") in gaps and ("Lodi Vecchio", "cibo") in gaps
    assert ("Piossasco", "casa") in gaps  # its only housing service is suspended


def test_referrals_show_every_status_and_every_reason(session: Session) -> None:
    referrals = session.scalars(select(ServiceReferral)).all()
    assert Counter(r.status for r in referrals).keys() == set(ServiceReferralStatus)
    assert {r.refusal_reason for r in referrals if r.status == ServiceReferralStatus.REFUSED} == {
        "no_places", "not_eligible", "out_of_area", "beneficiary_declined", "no_answer", "other"}
    assert {r.drop_reason for r in referrals if r.status == ServiceReferralStatus.DROPPED} == {
        "beneficiary_withdrew", "no_show", "moved_away", "needs_changed", "service_closed", "other"}
    assert 60 <= len(referrals) <= 200
    assert any(r.action_id is not None for r in referrals)


def _referral_digest(session: Session) -> list[tuple[object, ...]]:
    return sorted(
        (r.pact.beneficiary.codice_fiscale, r.service.name, r.status.value, r.refusal_reason, r.drop_reason,
         r.proposed_at.replace(tzinfo=None), len(r.events))
        for r in session.scalars(select(ServiceReferral))
    )


def _check_referrals(session: Session) -> None:
    beyond_proposed = 0
    for referral in session.scalars(select(ServiceReferral)):
        pact = referral.pact
        screening = pact.latest_screening
        assert screening is not None and screening.completed_at <= referral.proposed_at
        assert referral.service.created_at <= referral.proposed_at
        events = referral.events
        assert events[0].from_status == "" and events[0].to_status == "proposed" and events[0].at == referral.proposed_at
        status = "proposed"
        for previous, event in itertools.pairwise(events):
            assert event.from_status == status and previous.at <= event.at, referral.id
            status = event.to_status
        assert status == referral.status.value
        assert events[-1].at == referral.updated_at <= (pact.closed_at or NOW) <= NOW
        if pact.closed_at is not None:
            assert referral.status in (
                ServiceReferralStatus.REFUSED, ServiceReferralStatus.COMPLETED, ServiceReferralStatus.DROPPED)
        moments = [referral.proposed_at, referral.requested_at, referral.answered_at, referral.ended_at]
        known = [moment for moment in moments if moment is not None]
        assert known == sorted(known)
        if referral.status == ServiceReferralStatus.PROPOSED:
            assert referral.requested_at is None
            continue
        beyond_proposed += 1
        assert referral.requested_at == next(e.at for e in events if e.to_status == "requested" and e.from_status == "proposed")
        consent = session.scalar(select(DataSharingConsent).where(DataSharingConsent.referral_id == referral.id))
        assert consent is not None, referral.id
        assert consent.beneficiary_id == pact.beneficiary_id
        assert consent.organisation_id == referral.service.organisation_id
        assert referral.proposed_at <= consent.recorded_at <= referral.requested_at
        assert consent.given_on <= referral.requested_at.astimezone(ZONE).date()
        assert consent.collected_by_id == pact.case_manager_id and consent.purpose
        assert referral.provider_contact
        if referral.status in (ServiceReferralStatus.STARTED, ServiceReferralStatus.COMPLETED):
            assert referral.answered_at is not None and referral.started_on is not None
            assert referral.started_on >= referral.answered_at.astimezone(ZONE).date()
    assert beyond_proposed > 0


def test_each_referral_has_its_events_in_order_and_a_consent_before_the_request(session: Session) -> None:
    _check_referrals(session)


def test_referrals_answer_the_pact_needs_where_the_beneficiary_lives(session: Session) -> None:
    parents = {t.id: t.parent_id for t in session.scalars(select(Territory))}
    for referral in session.scalars(select(ServiceReferral)):
        service = referral.service
        assert referral.need_area == service.service_type.need_area
        served = {place.territory_id for place in service.comuni}
        comune = referral.pact.beneficiary.comune
        assert comune is not None
        if referral.refusal_reason == "out_of_area":
            assert comune.id not in served and parents[comune.id] in {parents[t] for t in served}
        else:
            assert comune.id in served


def test_referrals_suit_the_person(session: Session) -> None:
    """No man at an anti-violence centre or a women's course, no pupil at an adults' service."""
    for referral in session.scalars(select(ServiceReferral)):
        person, kind = referral.pact.beneficiary, referral.service.service_type.code
        pupil = referral.pact.programme.code == "CHANCE"
        if kind == "antiviolenza" or "donne" in referral.service.name:
            assert person.gender == Gender.FEMALE and not pupil, referral.service.name
        if kind in ("italiano_l2", "sportello_stranieri", "mediazione_culturale"):
            assert person.migrant_background, referral.service.name
        if pupil:
            assert kind not in ("nido", "supporto_psicologico", "antiviolenza"), referral.service.name


def test_a_demo_loaded_before_the_directory_gets_its_services(tmp_path: Path) -> None:
    engine = make_engine("sqlite:///" + str(tmp_path / "old.sqlite3"))
    try:
        Base.metadata.create_all(engine)
        registry = WorkflowRegistry.from_directory(PROJECT_ROOT / "workflows")
        with make_session_factory(engine)() as session:
            territory = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
            session.add(Programme(code="TILDE", name="TILDE", funder="", territory=territory,
                                  starts_on=NOW.date(), workflow_name="patto_personalizzato"))
            session.commit()
            summary = load_demo(session, registry, now=NOW, zone=ZONE)
            session.commit()
            assert summary.created is False and summary.pacts == 0
            assert 80 <= summary.services == session.scalar(select(func.count()).select_from(Service))
            assert session.scalar(select(func.count()).select_from(ServiceReferral)) == 0
            before = _row_counts(session)
            load_demo(session, registry, now=NOW, zone=ZONE)
            session.commit()
            assert _row_counts(session) == before
    finally:
        engine.dispose()
