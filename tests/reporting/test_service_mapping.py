"""The mapping of services on a hand-built data set, on both databases: every figure computed by hand.

Period: the first quarter of 2026 (local days, Europe/Rome). Unione NET holds Settimo and
Volpiano; the Ambito di Lodi holds Lodi. Services (own small taxonomy: abitare/casa,
lavoro/lavoro, salute/salute):
  S1 Sportello casa   casa    Settimo            capacity 10, 0 places  -> no places
  S2 Tirocini         lavoro  Settimo, Volpiano  no fixed capacity      -> places
  S3 Ambulatorio      salute  Volpiano           inactive
  S4 Casa Lodi        casa    Lodi               no fixed capacity
Latest screenings in the period (need profile):
  anna  Settimo  {casa 3, lavoro 0}  (an earlier one had lavoro 1)
  bruna Settimo  {casa 1, lavoro 2, salute 0}
  carlo Volpiano {lavoro 1, salute 2} (a later one, after the period, scores 0)
  dina  no comune {casa 5}            -> not mapped
  fatima Settimo, restricted programme -> not seen by the supervisor
  luca  Lodi {casa 1}                  -> Lodi's supervisor only
Referrals added in the period (seen by the Unione's supervisor: R1..R8):
  R1 anna->S1 refused no_places; R2 anna->S2 requested 14/01 23:30 UTC (15/01 in Rome), started
  25/01, completed (10 days); R3 bruna->S2 requested 22/01, started 05/02 (14 days); R4 bruna->S1
  refused no_places; R5 carlo->S2 requested 07/02, started 10/02 (3 days), dropped no_show;
  R6 carlo->S3 proposed; R7 dina->S2 requested; R8 dina->S1 accepted then dropped
  beneficiary_withdrew, never started. Not counted: R9 (restricted), R10 (Lodi), R11 (added in 2025).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from casework.errors import InvalidInput
from casework.models import (
    Beneficiary,
    Gender,
    Organisation,
    OrganisationKind,
    Pact,
    Priority,
    Programme,
    Role,
    Screening,
    Service,
    ServiceAccess,
    ServiceComune,
    ServiceCost,
    ServiceMacroArea,
    ServiceReferral,
    ServiceReferralStatus,
    ServiceType,
    Territory,
    TerritoryKind,
    User,
)
from casework.reporting.period import IndicatorScope
from casework.reporting.service_mapping import MappingFigures, compute_service_mapping
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE

WORKFLOW = """
name: percorso_mappa
version: 1
label: {it: Percorso, en: Pathway}
initial: referral
states:
  referral: {label: {it: Segnalazione, en: Referral}}
  closed: {label: {it: Chiuso, en: Closed}, final: true}
events:
  close: {label: {it: Chiudi, en: Close}, from: referral, to: closed}
questionnaire:
  need_areas:
    casa: {label: {it: Casa, en: Housing}}
    lavoro: {label: {it: Lavoro, en: Work}}
    salute: {label: {it: Salute, en: Health}}
  sections:
    - id: tutto
      label: {it: Tutto, en: All}
      questions:
        - {id: q_casa, label: {it: Casa, en: Housing}, type: scale, min: 0, max: 5, need_area: casa}
        - {id: q_lavoro, label: {it: Lavoro, en: Work}, type: scale, min: 0, max: 5, need_area: lavoro}
        - {id: q_salute, label: {it: Salute, en: Health}, type: scale, min: 0, max: 5, need_area: salute}
  priority:
    - {min_score: 0, priority: low}
"""

Q1 = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)


def at(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> WorkflowRegistry:
    folder: Path = tmp_path_factory.mktemp("mapping_workflows")
    (folder / "percorso_mappa.yaml").write_text(WORKFLOW, encoding="utf-8")
    return WorkflowRegistry.from_directory(folder)


class Town:
    """The data set of the module docstring, with names to reach its rows."""

    def __init__(self, session):
        self.session = session
        area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
        self.settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=area)
        self.volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=area)
        lodi_area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
        self.lodi = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi_area)

        def user(name: str, role: Role, territory: Territory) -> User:
            return User(username=name, full_name=name.title(), email=f"{name}@example.org", password_hash="!",
                        role=role, territory=territory)

        self.supervisor = user("elena", Role.SUPERVISOR, area)
        self.manager = user("giulia", Role.CASE_MANAGER, area)
        self.admin = user("amministra", Role.ADMIN, area)
        self.lodi_supervisor = user("paolo", Role.SUPERVISOR, lodi_area)
        self.tilde = Programme(code="TILDE", name="TILDE", funder="-", territory=area, starts_on=date(2025, 1, 1),
                               workflow_name="percorso_mappa")
        restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=area, restricted=True,
                               starts_on=date(2025, 1, 1), workflow_name="percorso_mappa")
        chance = Programme(code="CHANCE", name="CHANCE", funder="-", territory=lodi_area, starts_on=date(2025, 1, 1),
                           workflow_name="percorso_mappa")
        session.add_all([area, self.settimo, self.volpiano, lodi_area, self.lodi, self.supervisor, self.manager,
                         self.admin, self.lodi_supervisor, self.tilde, restricted, chance])

        macro = {code: ServiceMacroArea(code=code, label_it=it, label_en=en, position=position)
                 for position, (code, it, en) in enumerate((("abitare", "Abitare", "Housing"),
                                                            ("lavoro", "Lavoro", "Work"),
                                                            ("salute", "Salute", "Health")))}
        kinds = {code: ServiceType(code=f"t_{code}", macro_area=macro[area_code], label_it=code, label_en=code,
                                   need_area=code)
                 for code, area_code in (("casa", "abitare"), ("lavoro", "lavoro"), ("salute", "salute"))}
        coop = Organisation(name="Coop Uno", kind=OrganisationKind.COOPERATIVE)
        association = Organisation(name="Associazione Due", kind=OrganisationKind.ASSOCIATION)

        def service(name, kind, organisation, comuni, *, capacity=None, places=None, active=True) -> Service:
            return Service(name=name, service_type=kinds[kind], organisation=organisation,
                           access=ServiceAccess.FREE_ACCESS, cost=ServiceCost.FREE, capacity=capacity,
                           places_available=places, active=active, last_checked_on=date(2026, 1, 1),
                           created_at=at(1, 1), updated_at=at(1, 1),
                           comuni=[ServiceComune(territory=comune) for comune in comuni])

        self.s1 = service("Sportello casa", "casa", coop, [self.settimo], capacity=10, places=0)
        self.s2 = service("Tirocini", "lavoro", association, [self.settimo, self.volpiano])
        self.s3 = service("Ambulatorio", "salute", coop, [self.volpiano], capacity=5, places=2, active=False)
        self.s4 = service("Casa Lodi", "casa", coop, [self.lodi])
        session.add_all([*macro.values(), *kinds.values(), coop, association, self.s1, self.s2, self.s3, self.s4])

        def person(name: str, comune: Territory | None) -> Beneficiary:
            return Beneficiary(first_name=name.title(), last_name="Prova", gender=Gender.FEMALE, comune=comune)

        def pact(who: Beneficiary, programme: Programme, opened: datetime) -> Pact:
            made = Pact(beneficiary=who, programme=programme, case_manager=self.manager,
                        workflow_name="percorso_mappa", workflow_version=1, state="referral", opened_at=opened,
                        state_entered_at=opened, updated_at=opened)
            session.add(made)
            return made

        anna = pact(person("anna", self.settimo), self.tilde, at(1, 10))
        bruna = pact(person("bruna", self.settimo), self.tilde, at(1, 15))
        carlo = pact(person("carlo", self.volpiano), self.tilde, at(2, 1))
        dina = pact(person("dina", None), self.tilde, at(2, 1))
        fatima = pact(person("fatima", self.settimo), restricted, at(1, 10))
        luca = pact(person("luca", self.lodi), chance, at(1, 10))
        session.flush()

        def screening(of: Pact, when: datetime, profile: dict[str, int]) -> None:
            session.add(Screening(pact=of, answers={}, need_profile=profile, total_score=sum(profile.values()),
                                  priority=Priority.LOW, completed_at=when))

        screening(anna, at(1, 12), {"casa": 2, "lavoro": 1})
        screening(anna, at(2, 1), {"casa": 3, "lavoro": 0})
        screening(bruna, at(1, 20), {"casa": 1, "lavoro": 2, "salute": 0})
        screening(carlo, at(2, 5), {"lavoro": 1, "salute": 2})
        screening(carlo, at(4, 10), {"lavoro": 0, "salute": 0})
        screening(dina, at(2, 2), {"casa": 5})
        screening(fatima, at(1, 12), {"casa": 4})
        screening(luca, at(1, 12), {"casa": 1})

        def referral(of: Pact, to: Service, status: ServiceReferralStatus, proposed: datetime, *,
                     requested: datetime | None = None, answered: datetime | None = None,
                     started: date | None = None, refusal: str = "", drop: str = "") -> None:
            session.add(ServiceReferral(pact=of, service=to, status=status, proposed_at=proposed,
                                        requested_at=requested, answered_at=answered, started_on=started,
                                        refusal_reason=refusal, drop_reason=drop, updated_at=proposed))

        S = ServiceReferralStatus
        referral(anna, self.s1, S.REFUSED, at(1, 13), requested=at(1, 14), answered=at(1, 16), refusal="no_places")
        referral(anna, self.s2, S.COMPLETED, at(1, 13), requested=at(1, 14, 23, 30), answered=at(1, 20),
                 started=date(2026, 1, 25))
        referral(bruna, self.s2, S.STARTED, at(1, 21), requested=at(1, 22, 9), answered=at(1, 23),
                 started=date(2026, 2, 5))
        referral(bruna, self.s1, S.REFUSED, at(1, 21), requested=at(1, 22), answered=at(1, 25), refusal="no_places")
        referral(carlo, self.s2, S.DROPPED, at(2, 6), requested=at(2, 7), answered=at(2, 9),
                 started=date(2026, 2, 10), drop="no_show")
        referral(carlo, self.s3, S.PROPOSED, at(2, 6))
        referral(dina, self.s2, S.REQUESTED, at(2, 2), requested=at(2, 3))
        referral(dina, self.s1, S.DROPPED, at(2, 2), requested=at(2, 3), answered=at(2, 4),
                 drop="beneficiary_withdrew")
        referral(fatima, self.s1, S.REFUSED, at(1, 15), requested=at(1, 15), answered=at(1, 16),
                 refusal="not_eligible")
        referral(luca, self.s4, S.REQUESTED, at(1, 15), requested=at(1, 16))
        referral(anna, self.s2, S.COMPLETED, at(12, 20, year=2025), requested=at(12, 21, year=2025),
                 answered=at(12, 22, year=2025), started=date(2025, 12, 28))
        session.commit()


@pytest.fixture
def town(session) -> Town:
    return Town(session)


def mapping(session, registry, user, *, programme=None, territory=None, locale="it", **period):
    scope = IndicatorScope(programme_id=programme, territory_id=territory, **(period or Q1))
    return compute_service_mapping(session, registry, user, scope, now=NOW, locale=locale, zone=ZONE)


def test_key_figures_of_the_supervisor(session, registry, town):
    report = mapping(session, registry, town.supervisor)
    assert report.key_figures == MappingFigures(
        referrals=8, answered=6, accepted=4, acceptance_rate=4 / 6, started=3, completed=1, completion_rate=1 / 3,
        median_days_to_start=10.0, gaps=2,
    )


def test_referrals_by_status_macro_area_and_comune(session, registry, town):
    report = mapping(session, registry, town.supervisor)
    assert report.table("outcomes").rows == (
        ("proposed", "Proposto", 1, 1 / 8), ("requested", "Richiesto", 1, 1 / 8), ("accepted", "Accettato", 0, 0.0),
        ("refused", "Rifiutato", 2, 2 / 8), ("started", "Avviato", 1, 1 / 8), ("completed", "Concluso", 1, 1 / 8),
        ("dropped", "Interrotto", 2, 2 / 8),
    )
    assert report.table("macro_areas").rows == (
        ("abitare", "Abitare", 3, 3 / 8), ("lavoro", "Lavoro", 4, 4 / 8), ("salute", "Salute", 1, 1 / 8),
    )
    assert report.table("comuni").rows == (
        ("001265", "Settimo Torinese", 4, 4 / 8), ("001314", "Volpiano", 2, 2 / 8),
        (None, "Comune non registrato", 2, 2 / 8),
    )


def test_rates_and_median_per_service(session, registry, town):
    rows = mapping(session, registry, town.supervisor).table("services").rows
    assert rows == (
        (town.s2.id, "Tirocini (Associazione Due)", "Associazione Due", 4, 3, 3, 1.0, 3, 1, 1 / 3, 10.0, 3),
        (town.s1.id, "Sportello casa (Coop Uno)", "Coop Uno", 3, 3, 1, 1 / 3, 0, 0, None, None, 0),
        (town.s3.id, "Ambulatorio (Coop Uno)", "Coop Uno", 1, 0, 0, None, 0, 0, None, None, 0),
    )


def test_refusals_and_drops_by_reason(session, registry, town):
    report = mapping(session, registry, town.supervisor, locale="en")
    assert report.table("refusals").rows == (
        ("no_places", "No places available", 2, 1.0), ("not_eligible", "Not eligible for the service", 0, 0.0),
        ("out_of_area", "Outside the area the service covers", 0, 0.0),
        ("beneficiary_declined", "The beneficiary declined", 0, 0.0), ("no_answer", "No answer from the beneficiary", 0, 0.0),
        ("other", "Other reason", 0, 0.0),
    )
    drops = {code: (count, share) for code, _, count, share in report.table("drops").rows}
    assert drops == {"beneficiary_withdrew": (1, 0.5), "no_show": (1, 0.5), "moved_away": (0, 0.0),
                     "needs_changed": (0, 0.0), "service_closed": (0, 0.0), "other": (0, 0.0)}


def test_gaps_compare_latest_screenings_with_active_services_and_places(session, registry, town):
    report = mapping(session, registry, town.supervisor, programme=town.tilde.id)
    assert report.table("gaps").rows == (
        ("001265", "Settimo Torinese", "casa", "Settimo Torinese: Casa", 2, 1, 0, "no_places", "Nessun posto"),
        ("001314", "Volpiano", "salute", "Volpiano: Salute", 1, 0, 0, "no_service", "Nessun servizio attivo"),
    )
    assert [row[:8] for row in report.table("demand").rows] == [
        ("001265", "Settimo Torinese", "casa", "Settimo Torinese: Casa", 2, 1, 0, "no_places"),
        ("001265", "Settimo Torinese", "lavoro", "Settimo Torinese: Lavoro", 1, 1, 1, ""),
        ("001314", "Volpiano", "lavoro", "Volpiano: Lavoro", 1, 1, 1, ""),
        ("001314", "Volpiano", "salute", "Volpiano: Salute", 1, 0, 0, "no_service"),
    ]


def test_a_territory_narrows_referrals_and_gaps(session, registry, town):
    report = mapping(session, registry, town.supervisor, territory=town.volpiano.id)
    assert (report.key_figures.referrals, report.key_figures.gaps) == (2, 1)
    assert report.table("gaps").rows[0][:3] == ("001314", "Volpiano", "salute")


def test_other_territories_and_roles_see_only_theirs(session, registry, town):
    lodi = mapping(session, registry, town.lodi_supervisor)
    assert (lodi.key_figures.referrals, lodi.key_figures.gaps) == (1, 0)
    assert [row[:7] for row in lodi.table("demand").rows] == [("098031", "Lodi", "casa", "Lodi: Casa", 1, 1, 1)]
    # Administrators see no case data: no referral, no screening.
    admin = mapping(session, registry, town.admin)
    assert (admin.key_figures.referrals, admin.key_figures.gaps, admin.table("demand").rows) == (0, 0, ())


def test_a_period_with_nothing_gives_empty_figures(session, registry, town):
    report = mapping(session, registry, town.supervisor, start=date(2024, 1, 1), end=date(2024, 12, 31))
    assert report.key_figures == MappingFigures(0, 0, 0, None, 0, 0, None, None, 0)
    assert report.table("services").rows == ()


def test_bad_scopes_are_refused(session, registry, town):
    with pytest.raises(InvalidInput) as refused:
        mapping(session, registry, town.supervisor, programme=999999, territory=town.lodi.id,
                start=date(2026, 3, 1), end=date(2026, 1, 1))
    assert refused.value.errors == {"programme": "not_an_option", "territory": "not_an_option", "end": "before_start"}
