"""Impact indicators on a hand-built data set, on both databases: every figure computed by hand.

The period is the first quarter of 2026 (local days, Europe/Rome) and "now" is Friday
20 March 2026. The data set is written row by row, so every timestamp is known; a few sit
around local midnight to check that days and months are Rome's, not UTC's.

People (age on 31/03/2026, the period's last day):
  anna   F 01/04/2008 -> 17 under_18   migrant  Settimo   pacts P1, P6
  bruna  F 31/03/2001 -> 25 25_34      -        Settimo   pact P2
  carlo  M 15/06/1980 -> 45 35_49      migrant  Volpiano  pact P3
  dina   F unknown    -> unknown       -        (none)    pact P4
  elio   M 01/01/1958 -> 68 65_over    -        Volpiano  pact P5 (+ P11 on the short workflow)
  hana   F 01/01/1970 -> 56 50_64      migrant  Settimo   pact P9
  fatima F                              migrant  Settimo   P7: restricted programme, not the supervisor's
  gino   M                              -        Settimo   P8: opened after the period
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from casework.errors import InvalidInput
from casework.models import (
    Beneficiary,
    ContactChannel,
    FollowUpContact,
    Gender,
    GoalsAchieved,
    Pact,
    PactDeadline,
    PactOutcome,
    PactRevision,
    Priority,
    Programme,
    ProgrammeTarget,
    Referral,
    ReferralSource,
    Role,
    Screening,
    Territory,
    TerritoryKind,
    TransitionRecord,
    User,
)
from casework.reporting.indicators import KeyFigures, compute
from casework.reporting.period import IndicatorScope
from casework.reporting.report_tables import Column, Table, with_small_counts_withheld
from casework.workflow.engine import WorkflowRegistry
from tests.conftest import ZONE

TRIAL_WORKFLOW = """
name: percorso_prova
version: 1
label: {it: Percorso di prova, en: Trial pathway}
initial: referral
milestones: {activation: activation}
states:
  referral: {label: {it: Segnalazione, en: Referral}}
  screening: {label: {it: Screening, en: Screening}}
  co_design: {label: {it: Co-progettazione, en: Co-design}}
  activation: {label: {it: Attivazione, en: Activation}}
  withdrawn: {label: {it: Rinuncia, en: Withdrawn}, final: true}
  follow_up: {label: {it: Monitoraggio, en: Follow-up}}
  closed: {label: {it: Chiuso, en: Closed}, final: true}
events:
  start_screening: {label: {it: Avvia lo screening, en: Start screening}, from: referral, to: screening}
  start_co_design: {label: {it: Avvia la co-progettazione, en: Start co-design}, from: screening, to: co_design}
  activate: {label: {it: Attiva, en: Activate}, from: co_design, to: activation}
  start_follow_up: {label: {it: Avvia il monitoraggio, en: Start follow-up}, from: activation, to: follow_up}
  close: {label: {it: Chiudi, en: Close}, from: follow_up, to: closed}
  withdraw:
    label: {it: Registra la rinuncia, en: Record withdrawal}
    from: [referral, screening, co_design, activation, follow_up]
    to: withdrawn
    reasons:
      moved_away: {label: {it: Trasferimento, en: Moved away}}
      found_work: {label: {it: Ha trovato lavoro, en: Found work}}
outcomes:
  work_entered: {label: {it: Inserimento lavorativo, en: Entered work}}
  work_kept: {label: {it: Lavoro mantenuto, en: Kept work}}
  no_change: {label: {it: Nessun cambiamento, en: No change}}
"""

SHORT_WORKFLOW = """
name: percorso_breve
version: 1
label: {it: Sportello breve, en: Short desk}
initial: intake
states:
  intake: {label: {it: Accoglienza, en: Intake}}
  done: {label: {it: Concluso, en: Done}, final: true}
events:
  finish: {label: {it: Concludi, en: Finish}, from: intake, to: done}
"""

Q1 = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # Friday 10:00 in Rome


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> WorkflowRegistry:
    folder: Path = tmp_path_factory.mktemp("workflows")
    (folder / "percorso_prova.yaml").write_text(TRIAL_WORKFLOW, encoding="utf-8")
    (folder / "percorso_breve.yaml").write_text(SHORT_WORKFLOW, encoding="utf-8")
    return WorkflowRegistry.from_directory(folder)


class Builder:
    """Writes pacts and their records exactly as told: the timestamps are the test's."""

    def __init__(self, session, manager: User):
        self.session, self.manager = session, manager

    def pact(self, person: Beneficiary, programme: Programme, opened_at: datetime, *, path: list[tuple[str, datetime]] = (),
             closed: bool = False, manager: User | None = None, reasons: dict[str, str | None] | None = None) -> Pact:
        """A pact opened at `opened_at` that moved through `path` [(state, when)]."""
        workflow = programme.workflow_name
        initial = "intake" if workflow == "percorso_breve" else "referral"
        state, entered = (path[-1] if path else (initial, opened_at))
        pact = Pact(beneficiary=person, programme=programme, case_manager=manager or self.manager,
                    workflow_name=workflow, workflow_version=1, state=state, opened_at=opened_at,
                    state_entered_at=entered, closed_at=entered if closed else None, updated_at=entered)
        self.session.add(pact)
        self.session.flush()
        self.session.add(TransitionRecord(pact_id=pact.id, event="open", from_state=None, to_state=initial,
                                          at=opened_at, pact_version=1))
        previous = initial
        for version, (target, when) in enumerate(path, start=2):
            event = "withdraw" if target == "withdrawn" else f"to_{target}"
            if workflow == "percorso_breve":
                event = "finish"
            self.session.add(TransitionRecord(
                pact_id=pact.id, event=event, from_state=previous, to_state=target, at=when, pact_version=version,
                reason=(reasons or {}).get(target),
            ))
            previous = target
        return pact

    def referral(self, pact: Pact, day: date) -> None:
        self.session.add(Referral(pact=pact, source=ReferralSource.SCHOOL, reason="segnalazione", referred_on=day))

    def screening(self, pact: Pact, when: datetime) -> None:
        self.session.add(Screening(pact=pact, answers={}, need_profile={}, total_score=0, priority=Priority.LOW,
                                   completed_at=when))

    def revision(self, pact: Pact, number: int, signed_on: date | None) -> None:
        self.session.add(PactRevision(pact=pact, number=number, content={}, signed_on=signed_on,
                                      signed_by="Firmatari" if signed_on else "", consent_given=signed_on is not None))

    def contact(self, pact: Pact, when: datetime) -> None:
        self.session.add(FollowUpContact(pact=pact, contact_at=when, channel=ContactChannel.PHONE))

    def deadline(self, pact: Pact, rule: str, due_on: date, *, met: bool | None = None, ended: bool = False) -> None:
        due_at = datetime(due_on.year, due_on.month, due_on.day, 22, 59, tzinfo=UTC)
        self.session.add(PactDeadline(
            pact=pact, rule_id=rule, state=pact.state, state_entered_at=pact.state_entered_at,
            natural_anchor_at=pact.opened_at, anchor_on=pact.opened_at.date(), due_on=due_on, due_at=due_at,
            created_at=pact.opened_at, ended_at=due_at if ended else None, met=met if ended else None,
        ))

    def outcome(self, pact: Pact, code: str, goals: GoalsAchieved) -> None:
        self.session.add(PactOutcome(pact=pact, outcome=code, goals_achieved=goals))


@pytest.fixture
def town(session):
    area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=area)
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=area)
    lodi_area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)

    def user(name: str, role: Role, territory: Territory) -> User:
        return User(username=name, full_name=name.title(), email=f"{name}@example.org", password_hash="!",
                    role=role, territory=territory)

    people = {
        "supervisor": user("elena", Role.SUPERVISOR, area),
        "manager": user("giulia", Role.CASE_MANAGER, area),
        "restricted_manager": user("rita", Role.CASE_MANAGER, area),
        "lodi_supervisor": user("paolo", Role.SUPERVISOR, lodi_area),
    }
    tilde = Programme(code="TILDE", name="TILDE", funder="Fondazione Cariplo", territory=area,
                      starts_on=date(2025, 1, 1), workflow_name="percorso_prova", targets=[
                          ProgrammeTarget(indicator="beneficiaries", value=Decimal(5)),
                          ProgrammeTarget(indicator="share_women", value=Decimal("0.60")),
                          ProgrammeTarget(indicator="share_migrant_background", value=Decimal("0.50")),
                          ProgrammeTarget(indicator="share_goals_achieved", value=Decimal("0.60")),
                          ProgrammeTarget(indicator="share_deadlines_met", value=Decimal("0.80")),
                          ProgrammeTarget(indicator="self_employment_training", value=Decimal(30),
                                          description="30 donne formate all'autoimprenditoria"),
                      ])
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="-", territory=area, restricted=True,
                           starts_on=date(2025, 1, 1), workflow_name="percorso_prova")
    short = Programme(code="SPORTELLO", name="Sportello", funder="-", territory=area, starts_on=date(2025, 1, 1),
                      workflow_name="percorso_breve")
    lodi = Programme(code="CHANCE", name="CHANCE", funder="-", territory=lodi_area, starts_on=date(2025, 1, 1),
                     workflow_name="percorso_prova")

    def person(name: str, gender: Gender, birth: date | None, migrant: bool, comune: Territory | None) -> Beneficiary:
        return Beneficiary(first_name=name.title(), last_name="Prova", gender=gender, birth_date=birth,
                           migrant_background=migrant, comune=comune)

    anna = person("anna", Gender.FEMALE, date(2008, 4, 1), True, settimo)
    bruna = person("bruna", Gender.FEMALE, date(2001, 3, 31), False, settimo)
    carlo = person("carlo", Gender.MALE, date(1980, 6, 15), True, volpiano)
    dina = person("dina", Gender.FEMALE, None, False, None)
    elio = person("elio", Gender.MALE, date(1958, 1, 1), False, volpiano)
    hana = person("hana", Gender.FEMALE, date(1970, 1, 1), True, settimo)
    fatima = person("fatima", Gender.FEMALE, date(1990, 5, 5), True, settimo)
    gino = person("gino", Gender.MALE, date(1990, 5, 5), False, settimo)
    session.add_all([area, settimo, volpiano, lodi_area, *people.values(), tilde, restricted, short, lodi,
                     anna, bruna, carlo, dina, elio, hana, fatima, gino])
    session.flush()

    b = Builder(session, people["manager"])
    p1 = b.pact(anna, tilde, at(2026, 1, 10, 9), closed=True, path=[
        ("screening", at(2026, 1, 12)), ("co_design", at(2026, 1, 16)), ("activation", at(2026, 2, 1, 10)),
        ("follow_up", at(2026, 2, 10)), ("closed", at(2026, 3, 10, 10))])
    b.referral(p1, date(2026, 1, 5))
    b.screening(p1, at(2026, 1, 15, 10))
    b.revision(p1, 1, date(2026, 1, 25))
    b.revision(p1, 2, date(2026, 3, 1))
    b.outcome(p1, "work_entered", GoalsAchieved.FULLY)
    b.contact(p1, at(2026, 2, 20))
    b.contact(p1, at(2026, 3, 5))
    b.deadline(p1, "screening_due", date(2026, 1, 20), ended=True, met=True)
    b.deadline(p1, "signature_due", date(2026, 2, 5), ended=True, met=False)

    # Opened at 00:30 in Rome on 20 January (still the 19th in UTC), with no referral recorded.
    p2 = b.pact(bruna, tilde, at(2026, 1, 19, 23, 30), path=[
        ("screening", at(2026, 1, 22)), ("co_design", at(2026, 1, 27)), ("activation", at(2026, 2, 15)),
        ("follow_up", at(2026, 2, 20))])
    b.screening(p2, at(2026, 1, 26))
    b.screening(p2, at(2026, 2, 1))
    b.revision(p2, 1, date(2026, 2, 9))
    b.contact(p2, at(2026, 2, 28, 23, 30))  # 1 March, 00:30 in Rome
    b.deadline(p2, "contact_a", date(2026, 3, 10))
    b.deadline(p2, "contact_b", date(2026, 3, 25))
    b.deadline(p2, "contact_c", date(2026, 3, 20))

    p3 = b.pact(carlo, tilde, at(2026, 2, 3), closed=True, reasons={"withdrawn": "moved_away"}, path=[
        ("screening", at(2026, 2, 5)), ("co_design", at(2026, 2, 14)), ("withdrawn", at(2026, 3, 5))])
    b.referral(p3, date(2026, 2, 1))
    b.screening(p3, at(2026, 2, 13))
    b.revision(p3, 1, date(2026, 2, 24))
    b.deadline(p3, "screening_due", date(2026, 2, 15), ended=True, met=True)

    p4 = b.pact(dina, tilde, at(2026, 3, 2), path=[("screening", at(2026, 3, 3)), ("co_design", at(2026, 4, 5))])
    b.referral(p4, date(2026, 2, 27))
    b.screening(p4, at(2026, 3, 8))
    b.revision(p4, 1, None)
    b.deadline(p4, "screening_due", date(2026, 3, 12), ended=True, met=True)

    p5 = b.pact(elio, tilde, at(2025, 11, 10), closed=True, path=[
        ("screening", at(2025, 11, 12)), ("co_design", at(2025, 11, 20)), ("activation", at(2025, 12, 1)),
        ("follow_up", at(2025, 12, 5)), ("closed", at(2026, 3, 25))])
    b.referral(p5, date(2025, 11, 3))
    b.outcome(p5, "no_change", GoalsAchieved.PARTLY)
    b.contact(p5, at(2026, 1, 15))
    b.contact(p5, at(2026, 2, 20))
    b.contact(p5, at(2026, 2, 25))
    b.deadline(p5, "final_check", date(2026, 4, 10))

    p6 = b.pact(anna, tilde, at(2026, 3, 15), closed=True, reasons={"withdrawn": None},
                path=[("withdrawn", at(2026, 3, 18))])
    b.referral(p6, date(2026, 3, 14))
    b.contact(p6, at(2026, 3, 16))

    # Only its case manager sees it; the supervisor must not count it anywhere.
    p7 = b.pact(fatima, restricted, at(2026, 1, 12), closed=True, manager=people["restricted_manager"], path=[
        ("screening", at(2026, 1, 13)), ("co_design", at(2026, 1, 14)), ("activation", at(2026, 1, 15)),
        ("follow_up", at(2026, 1, 16)), ("closed", at(2026, 2, 1))])
    b.referral(p7, date(2026, 1, 12))
    b.screening(p7, at(2026, 1, 13))
    b.outcome(p7, "work_kept", GoalsAchieved.FULLY)
    b.contact(p7, at(2026, 1, 20))
    b.deadline(p7, "screening_due", date(2026, 2, 1), ended=True, met=False)

    b.pact(gino, tilde, at(2026, 4, 2))  # P8: after the period
    # P9: withdrawn at 00:30 on 1 January in Rome (still 31 December in UTC): inside the period.
    b.pact(hana, tilde, at(2025, 10, 1), closed=True, reasons={"withdrawn": "found_work"},
           path=[("withdrawn", at(2025, 12, 31, 23, 30))])
    # P11: elio again, on the short workflow of another programme.
    b.pact(elio, short, at(2026, 2, 10), closed=True, path=[("done", at(2026, 2, 12))])
    session.commit()
    return people, {"tilde": tilde, "restricted": restricted, "short": short, "lodi": lodi,
                    "settimo": settimo, "volpiano": volpiano, "lodi_area": lodi_area}


def report(session, registry, user, programme=None, territory=None, locale="en", **period):
    scope = IndicatorScope(programme_id=programme.id if programme else None,
                           territory_id=territory.id if territory else None, **(period or Q1))
    return compute(session, registry, user, scope, now=NOW, locale=locale, zone=ZONE)


def rows(result, key: str) -> list[tuple]:
    return [tuple(row) for row in result.table(key).rows]


def column(result, key: str, name: str) -> list:
    table = result.table(key)
    index = [c.key for c in table.columns].index(name)
    return [row[index] for row in table.rows]


def test_people_reached_and_their_breakdowns(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Reached: anna (P1, P6), bruna, carlo, dina, elio (open since 2025), hana (closed 00:30 on 1 January
    # in Rome) = 6 people; not gino (opened in April), not fatima (restricted, not the supervisor's).
    # Active pacts P1 P2 P3 P4 P5 P6 P9 = 7; opened in Q1: P1 P2 P3 P4 P6 = 5;
    # closed in Q1: P9 (1 Jan), P1 (10 Mar), P3 (5 Mar), P6 (18 Mar), P5 (25 Mar) = 5.
    assert rows(result, "reached") == [
        ("beneficiaries", "People reached", 6), ("pacts_active", "Pacts active in the period", 7),
        ("pacts_opened", "Pacts opened in the period", 5), ("pacts_closed", "Pacts closed in the period", 5),
    ]
    # Women: anna, bruna, dina, hana = 4/6; men: carlo, elio = 2/6.
    assert rows(result, "gender") == [
        ("female", "Women", 4, pytest.approx(4 / 6)), ("male", "Men", 2, pytest.approx(2 / 6)),
        ("other", "Other gender", 0, 0.0),
    ]
    # On 31/03/2026: anna turns 18 the next day (17), bruna turned 25 that day, carlo 45, hana 56, elio 68,
    # dina has no birth date: one person in each of those bands, 1/6 each.
    sixth = pytest.approx(1 / 6)
    assert rows(result, "age_band") == [
        ("under_18", "Under 18", 1, sixth), ("18_24", "18–24", 0, 0.0), ("25_34", "25–34", 1, sixth),
        ("35_49", "35–49", 1, sixth), ("50_64", "50–64", 1, sixth), ("65_over", "65 and over", 1, sixth),
        ("unknown", "Age unknown", 1, sixth),
    ]
    # Migrant background: anna, carlo, hana = 3/6.
    assert rows(result, "migrant_background") == [
        ("yes", "With a migrant background", 3, 0.5), ("no", "Without a migrant background", 3, 0.5),
    ]
    # Settimo: anna, bruna, hana = 3; Volpiano: carlo, elio = 2; dina: no comune = 1.
    assert rows(result, "comune") == [
        ("001265", "Settimo Torinese", 3, 0.5), ("001314", "Volpiano", 2, pytest.approx(2 / 6)),
        (None, "Comune not recorded", 1, sixth),
    ]
    assert result.table("gender").chart == "bars"


def test_funnel_of_the_pacts_opened_in_the_period(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Opened in Q1: P1 P2 P3 P4 P6 = 5. Screening: P1 P2 P3 P4 = 4; co-design: P1 P2 P3 = 3 (P4 got there
    # on 5 April, after the period); activation and follow-up: P1 P2 = 2; withdrawn: P3 P6 = 2; closed: P1.
    # Final stages last, in file order.
    assert rows(result, "funnel") == [
        ("percorso_prova", "referral", "Referral", 5, 1.0),
        ("percorso_prova", "screening", "Screening", 4, 0.8),
        ("percorso_prova", "co_design", "Co-design", 3, 0.6),
        ("percorso_prova", "activation", "Activation", 2, 0.4),
        ("percorso_prova", "follow_up", "Follow-up", 2, 0.4),
        ("percorso_prova", "withdrawn", "Withdrawn", 2, 0.4),
        ("percorso_prova", "closed", "Closed", 1, 0.2),
    ]
    assert result.table("funnel").chart == "funnel"


def test_funnel_over_all_programmes_names_each_workflow(session, registry, town):
    people, _ = town
    result = report(session, registry, people["supervisor"], locale="it")
    funnel = rows(result, "funnel")
    # The short desk: P11 opened in February and finished two days later.
    assert funnel[:2] == [
        ("percorso_breve", "intake", "Sportello breve: Accoglienza", 1, 1.0),
        ("percorso_breve", "done", "Sportello breve: Concluso", 1, 1.0),
    ]
    assert funnel[2] == ("percorso_prova", "referral", "Percorso di prova: Segnalazione", 5, 1.0)


def test_days_from_referral_with_median_and_90th_percentile(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Referral day, else the local day the pact was opened:
    #   P1 5 Jan; P2 20 Jan (opened 00:30 in Rome); P3 1 Feb; P4 27 Feb; P6 14 Mar.
    # First screening: P1 15 Jan = 10, P2 26 Jan = 6, P3 13 Feb = 12, P4 8 Mar = 9 (days).
    #   sorted 6 9 10 12, n = 4: median at position 1.5 -> 9 + 0.5*(10-9) = 9.5;
    #   p90 at 0.9*3 = 2.7 -> 10 + 0.7*(12-10) = 11.4.
    # First signature: P1 25 Jan = 20, P2 9 Feb = 20, P3 24 Feb = 23 (P4's revision is unsigned).
    #   sorted 20 20 23, n = 3: median at 1 -> 20; p90 at 1.8 -> 20 + 0.8*(23-20) = 22.4.
    # Activation: P1 1 Feb = 27, P2 15 Feb = 26: median 26.5; p90 at 0.9 -> 26 + 0.9 = 26.9.
    assert rows(result, "durations") == [
        ("screening", "First screening completed", 4, 9.5, pytest.approx(11.4)),
        ("signature", "Pact first signed", 3, 20.0, pytest.approx(22.4)),
        ("activation", "Activation", 2, 26.5, pytest.approx(26.9)),
    ]


def test_deadlines_met_on_time(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Due in Q1: met P1 20 Jan, P3 15 Feb, P4 12 Mar = 3; missed P1 5 Feb (late), P2 10 Mar (open, past) = 2;
    # pending P2 20 Mar (due today) and 25 Mar = 2. P5's is due in April; P7's is restricted.
    # Share met = 3 / (3 + 2) = 0.6.
    assert rows(result, "deadlines") == [
        ("met", "Met", 3, 0.6), ("missed", "Missed", 2, 0.4), ("pending", "Pending", 2, None),
    ]


def test_outcomes_and_goals_of_the_pacts_closed(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Closed in Q1 with an outcome: P1 work_entered (fully), P5 no_change (partly): 2 pacts.
    # The workflow's outcomes are all listed, in file order.
    assert rows(result, "outcomes") == [
        ("work_entered", "Entered work", 1, 0.5), ("work_kept", "Kept work", 0, 0.0),
        ("no_change", "No change", 1, 0.5),
    ]
    assert rows(result, "goals_achieved") == [
        ("fully", "Fully", 1, 0.5), ("partly", "Partly", 1, 0.5), ("not", "Not achieved", 0, 0.0),
    ]


def test_withdrawal_reasons(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # Withdrawals in Q1: P9 found work (1 Jan in Rome), P3 moved away, P6 with no reason: 1 each of 3.
    third = pytest.approx(1 / 3)
    assert rows(result, "withdrawals") == [
        ("percorso_prova", "withdraw", "found_work", "Found work", 1, third),
        ("percorso_prova", "withdraw", "moved_away", "Moved away", 1, third),
        ("percorso_prova", "withdraw", None, "Reason not recorded", 1, third),
    ]


def test_month_by_month(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"], locale="it")
    # Opened: Jan P1, P2 (20 Jan in Rome) = 2; Feb P3 = 1; Mar P4, P6 = 2.
    # Closed: Jan P9 (1 Jan in Rome) = 1; Feb none; Mar P1, P3, P5, P6 = 4.
    # People with a contact: Jan elio; Feb elio (twice), anna = 2; Mar anna (P1 and P6: once),
    # bruna (00:30 on 1 March in Rome) = 2.
    assert rows(result, "trend") == [
        ("2026-01", "gen 2026", 2, 1, 1), ("2026-02", "feb 2026", 1, 0, 2), ("2026-03", "mar 2026", 2, 4, 2),
    ]
    assert result.table("trend").chart == "trend"


def test_targets_against_results(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    # 6 people >= 5; women 4/6 >= 0.60; migrant 3/6 >= 0.50 (equal counts as met);
    # goals fully achieved 1/2 < 0.60; deadlines met 3/5 < 0.80; the training target is not measured.
    assert rows(result, "targets") == [
        ("beneficiaries", "People reached", "count", 5, 6, None, None, "yes"),
        ("share_women", "Share of women", "share", None, None, 0.6, pytest.approx(4 / 6), "yes"),
        ("share_migrant_background", "Share of people with a migrant background", "share", None, None, 0.5, 0.5,
         "yes"),
        ("share_goals_achieved", "Share of closed pacts with goals fully achieved", "share", None, None, 0.6, 0.5,
         "no"),
        ("share_deadlines_met", "Share of deadlines met on time", "share", None, None, 0.8, 0.6, "no"),
        ("self_employment_training", "30 donne formate all'autoimprenditoria", "not_measured", 30, None, None, None,
         None),
    ]
    assert result.programme.id == places["tilde"].id


def test_without_a_programme_targets_are_empty_and_every_visible_programme_counts(session, registry, town):
    people, _ = town
    result = report(session, registry, people["supervisor"])
    assert result.programme is None
    assert rows(result, "targets") == []
    assert result.table("targets").note  # says to choose a programme
    # P11 (short desk) adds a pact but no person: elio is already counted.
    assert rows(result, "reached") == [
        ("beneficiaries", "People reached", 6), ("pacts_active", "Pacts active in the period", 8),
        ("pacts_opened", "Pacts opened in the period", 6), ("pacts_closed", "Pacts closed in the period", 6),
    ]


def test_restricted_pacts_count_only_for_the_people_assigned(session, registry, town):
    people, _ = town
    supervisor = report(session, registry, people["supervisor"])
    # fatima's restricted pact (P7) is not the supervisor's: work_kept and her deadline are nowhere.
    assert ("work_kept", "Kept work", 0, 0.0) not in rows(supervisor, "outcomes")
    assert [row[0] for row in rows(supervisor, "outcomes")] == ["no_change", "work_entered"]
    # Its case manager sees exactly that pact: one woman reached, one closure with work kept.
    assigned = report(session, registry, people["restricted_manager"])
    assert rows(assigned, "reached")[0] == ("beneficiaries", "People reached", 1)
    assert rows(assigned, "gender")[0] == ("female", "Women", 1, 1.0)
    assert rows(assigned, "outcomes") == [("work_kept", "Kept work", 1, 1.0)]
    assert rows(assigned, "deadlines")[:2] == [("met", "Met", 0, 0.0), ("missed", "Missed", 1, 1.0)]


def test_a_restricted_programme_counts_for_its_supervisor_anonymously(session, registry, town):
    """Ricomincio da me's funder report: the territory's supervisor, not assigned to fatima's
    pact, gets her counted, but as "<5" with no share: never 0 everywhere, never a small number."""
    people, places = town
    result = report(session, registry, people["supervisor"], places["restricted"])
    assert rows(result, "reached")[0] == ("beneficiaries", "People reached", "<5")
    assert rows(result, "gender")[0] == ("female", "Women", "<5", None)
    assert ("work_kept", "Kept work", "<5", None) in rows(result, "outcomes")
    assert {"people_reached", "women", "share_women"} <= result.key_figures.withheld
    # The assigned case manager sees her own pact, in full.
    assigned = report(session, registry, people["restricted_manager"])
    assert rows(assigned, "reached")[0] == ("beneficiaries", "People reached", 1)
    assert not assigned.key_figures.withheld
    # Totals over every programme still leave the restricted case out for the supervisor: a
    # total less the other programmes' would give the small count back.
    everything = report(session, registry, people["supervisor"])
    assert "<5" not in [cell for table in everything.tables for row in table.rows for cell in row]
    assert not everything.key_figures.withheld


def test_small_counts_are_withheld_with_what_would_give_them_back():
    table = Table("gender", "Gender", (Column("code", "Code"), Column("label", "Label"),
                                       Column("count", "People", "count"), Column("share", "Share", "share")),
                  (("female", "Women", 3, 0.3), ("male", "Men", 7, 0.7), ("other", "Other", 0, 0.0)))
    assert with_small_counts_withheld(table).rows == (
        ("female", "Women", "<5", None), ("male", "Men", 7, 0.7), ("other", "Other", 0, 0.0))


def test_a_territory_restricts_to_the_people_living_there(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"], territory=places["volpiano"])
    # Volpiano: carlo (P3) and elio (P5).
    assert rows(result, "reached")[0] == ("beneficiaries", "People reached", 2)
    assert rows(result, "comune") == [("001314", "Volpiano", 2, 1.0)]
    assert result.territory.id == places["volpiano"].id


def test_an_empty_period_gives_zeros_and_no_shares(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"],
                    start=date(2024, 1, 1), end=date(2024, 2, 29))
    assert rows(result, "reached") == [
        ("beneficiaries", "People reached", 0), ("pacts_active", "Pacts active in the period", 0),
        ("pacts_opened", "Pacts opened in the period", 0), ("pacts_closed", "Pacts closed in the period", 0),
    ]
    assert all(share is None for share in column(result, "gender", "share"))
    assert all(share is None for share in column(result, "age_band", "share"))
    assert rows(result, "comune") == []
    assert column(result, "funnel", "count") == [0] * 7
    assert all(share is None for share in column(result, "funnel", "share"))
    assert rows(result, "durations") == [
        ("screening", "First screening completed", 0, None, None), ("signature", "Pact first signed", 0, None, None),
        ("activation", "Activation", 0, None, None),
    ]
    assert rows(result, "deadlines") == [("met", "Met", 0, None), ("missed", "Missed", 0, None),
                                         ("pending", "Pending", 0, None)]
    assert column(result, "outcomes", "share") == [None, None, None]
    assert rows(result, "withdrawals") == []
    assert rows(result, "trend") == [("2024-01", "Jan 2024", 0, 0, 0), ("2024-02", "Feb 2024", 0, 0, 0)]
    # Nothing reached: the count target is not met; shares cannot be judged.
    assert [row[-1] for row in rows(result, "targets")] == ["no", None, None, None, None, None]


@pytest.mark.parametrize("scope, field", [
    ({"start": date(2026, 3, 1), "end": date(2026, 2, 28)}, "end"),
    ({"start": date(1, 1, 1), "end": date(2026, 2, 28)}, "start"),  # a mistyped year
    ({"start": date(2016, 1, 1), "end": date(2026, 1, 1)}, "end"),  # ten years and a day
    ({"programme": "lodi"}, "programme"),
    ({"territory": "lodi_area"}, "territory"),
])
def test_a_scope_outside_what_the_user_oversees_is_refused(session, registry, town, scope, field):
    people, places = town
    period = {key: scope[key] for key in ("start", "end") if key in scope}
    with pytest.raises(InvalidInput) as refused:
        report(session, registry, people["supervisor"], places.get(scope.get("programme")),
               territory=places.get(scope.get("territory")), **period)
    assert set(refused.value.errors) == {field}


def test_tables_have_stable_keys_and_raw_cells(session, registry, town):
    people, places = town
    result = report(session, registry, people["supervisor"], places["tilde"])
    assert [table.key for table in result.tables] == [
        "targets", "reached", "gender", "age_band", "migrant_background", "comune", "funnel", "durations",
        "deadlines", "outcomes", "goals_achieved", "withdrawals", "trend",
    ]
    for table in result.tables:
        assert all(c.key.isascii() and c.key.isidentifier() for c in table.columns)
        assert table.note
        for row in table.rows:
            for cell, c in zip(row, table.columns, strict=True):
                if c.kind in ("count",):
                    assert cell is None or isinstance(cell, int)
                if c.kind in ("share", "days"):
                    assert cell is None or isinstance(cell, float)


def test_key_figures_come_from_the_same_aggregates(session, registry, town):
    people, places = town
    figures = report(session, registry, people["supervisor"], places["tilde"]).key_figures
    # 6 people reached against TILDE's target of 5; women anna, bruna, dina, hana = 4/6.
    # Open at the end of 31 March: P2 and P4 (P5 closed on 25 March, P8 opened in April).
    # Deadlines: 3 met of 5 decided. Days to first signature: 20, 20, 23 -> median 20 over 3 pacts.
    assert figures == KeyFigures(
        people_reached=6, people_target=5, share_women=pytest.approx(4 / 6), women=4, pacts_open=2,
        share_deadlines_met=0.6, deadlines_met=3, deadlines_decided=5,
        median_days_to_signature=20.0, pacts_signed=3,
    )


def test_key_figures_without_a_programme_or_a_target_have_no_target(session, registry, town):
    people, places = town
    # Every programme: no single target applies; P11 (short desk, closed in February) is not open.
    every = report(session, registry, people["supervisor"]).key_figures
    assert (every.people_reached, every.people_target, every.pacts_open) == (6, None, 2)
    # The short desk records no target: reached only.
    short = report(session, registry, people["supervisor"], places["short"]).key_figures
    assert (short.people_reached, short.people_target, short.share_women, short.pacts_open) == (1, None, 0.0, 0)
    assert (short.share_deadlines_met, short.median_days_to_signature, short.pacts_signed) == (None, None, 0)


def test_the_report_reads_a_fixed_number_of_queries_whatever_the_data(session, registry, town, engine):
    from sqlalchemy import event

    people, places = town
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries(**period) -> int:
        session.expire_all()
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            report(session, registry, people["supervisor"], places["tilde"], **period)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    empty = queries(start=date(2024, 1, 1), end=date(2024, 2, 29))
    full = queries()
    assert full == empty
    assert full <= 20
