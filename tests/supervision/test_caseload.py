"""Caseload review: counts per case manager and stage, deadlines, contacts, flags, weights, filters.

The data is built by hand at known times; `NOW` is Wednesday 11 March 2026, 10:00 in Rome, so
"due this week" runs to Sunday 15 March 23:59:59 Rome time. Every expected figure is written
out literally, with the reckoning in a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from casework.config import CaseloadWeights, ConfigError, load_settings
from casework.models import (
    Beneficiary,
    ContactChannel,
    FollowUpContact,
    Gender,
    Pact,
    PactMember,
    Priority,
    Programme,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.pacts import operations as ops
from casework.supervision.caseload import (
    CaseloadFilters,
    DeadlineFilter,
    caseload_choices,
    caseload_overview,
    caseload_pacts,
    week_end,
)
from tests.conftest import ZONE

ROME = ZoneInfo("Europe/Rome")
EVERYTHING = CaseloadFilters()


def rome(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ROME).astimezone(UTC)


NOW = rome(2026, 3, 11)  # a Wednesday

CHANCE_COLUMNS = ["referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification"]
PATTO_ONLY_COLUMNS = ["screening", "co_design", "activation", "follow_up", "suspended"]


@dataclass
class Caseloads:
    volpiano: Territory
    sara: User  # a case manager of the team with no pacts
    restricted: Programme
    lodi_supervisor: User
    lodi_manager: User
    pacts: dict[str, Pact]


def add_pact(session: Session, registry, programme: Programme, manager: User, *, state: str, opened: datetime,
             priority: Priority | None = None, deadline: datetime | None = None, rule: str = "",
             contacts: tuple[datetime, ...] = (), comune: Territory | None = None, closed: datetime | None = None,
             name: str = "Anna") -> Pact:
    """A pact opened by the real operation, then put where the test needs it."""
    person = Beneficiary(first_name=name, last_name="Bruno", gender=Gender.FEMALE, comune=comune)
    pact = ops.open_pact(session, registry, beneficiary=person, programme=programme, case_manager=manager,
                         actor=manager, clock=ops.Clock(opened, ZONE))
    pact.state, pact.priority, pact.closed_at = state, priority, closed
    pact.next_deadline_at, pact.next_deadline_label = deadline, rule
    session.add_all(FollowUpContact(pact_id=pact.id, contact_at=at, channel=ContactChannel.PHONE) for at in contacts)
    session.flush()
    return pact


@pytest.fixture
def caseloads(session, registry, world) -> Caseloads:
    unione = world.comune.parent
    volpiano = Territory(name="Volpiano", kind=TerritoryKind.COMUNE, istat_code="001314", parent=unione)
    sara = User(username="sara", full_name="Sara Neri", email="sara@example.org", password_hash="!",
                role=Role.CASE_MANAGER, territory=world.comune)
    world.chance.no_contact_days = 20
    restricted = Programme(code="RDM", name="Ricomincio da me", funder="—", territory=unione,
                           starts_on=date(2025, 1, 1), workflow_name="patto_personalizzato", restricted=True,
                           no_contact_days=14)
    lodi = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    lodi_comune = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi)
    lodi_supervisor = User(username="paolo", full_name="Paolo Ferrero", email="paolo@example.org", password_hash="!",
                           role=Role.SUPERVISOR, territory=lodi)
    lodi_manager = User(username="luca", full_name="Luca Galli", email="luca@example.org", password_hash="!",
                        role=Role.CASE_MANAGER, territory=lodi)
    lodi_programme = Programme(code="CHANCE-LO", name="CHANCE Lodi", funder="—", territory=lodi,
                               starts_on=date(2025, 1, 1), workflow_name="chance_dispersione")
    session.add_all([volpiano, sara, restricted, lodi, lodi_comune, lodi_supervisor, lodi_manager, lodi_programme])
    session.flush()
    giulia, marco = world.manager, world.colleague
    pacts = {
        # Overdue (due yesterday); no contact: counted from its opening on 1 March, 10 days.
        "referral": add_pact(session, registry, world.programme, giulia, state="referral", opened=rome(2026, 3, 1),
                             deadline=rome(2026, 3, 10, 18), rule="screening_due", comune=world.comune),
        # Due Friday; last contact 5 January: 65 days, more than TILDE's 30.
        "follow_up": add_pact(session, registry, world.programme, giulia, state="follow_up", opened=rome(2025, 12, 1),
                              priority=Priority.HIGH, deadline=rome(2026, 3, 13, 18), rule="follow_up_contact",
                              contacts=(rome(2025, 12, 20), rome(2026, 1, 5)), comune=world.comune),
        # Due later; contacted two days ago.
        "co_design": add_pact(session, registry, world.programme, giulia, state="co_design", opened=rome(2026, 2, 1),
                              priority=Priority.MEDIUM, deadline=rome(2026, 3, 30, 18), rule="pact_signature_due",
                              contacts=(rome(2026, 3, 9),), comune=world.comune),
        # Due Sunday evening, still this week; no contact since 15 February: 24 days, more than CHANCE's 20.
        "chance_referral": add_pact(session, registry, world.chance, giulia, state="referral", opened=rome(2026, 2, 15),
                                    priority=Priority.LOW, deadline=rome(2026, 3, 15, 23, 30),
                                    rule="equipe_submission_due", comune=volpiano),
        # Closed: never counted.
        "closed": add_pact(session, registry, world.programme, giulia, state="closed", opened=rome(2026, 1, 1),
                           closed=rome(2026, 3, 1), comune=world.comune),
        # Due Monday 16 March at 00:30: next week. Last contact 18 February: 21 days, more than 20.
        "accompaniment": add_pact(session, registry, world.chance, marco, state="accompaniment", opened=rome(2026, 1, 1),
                                  priority=Priority.HIGH, deadline=rome(2026, 3, 16, 0, 30), rule="tutor_contact",
                                  contacts=(rome(2026, 2, 18),), comune=world.comune),
        # A restricted case: only the people assigned see it, not the territory's supervisor.
        "restricted": add_pact(session, registry, restricted, marco, state="follow_up", opened=rome(2026, 1, 1),
                               priority=Priority.HIGH, deadline=rome(2026, 3, 9, 18), rule="follow_up_contact",
                               contacts=(rome(2026, 3, 1),), comune=world.comune),
        "lodi": add_pact(session, registry, lodi_programme, lodi_manager, state="engagement", opened=rome(2026, 2, 1),
                         deadline=rome(2026, 3, 10, 18), comune=lodi_comune),
    }
    session.commit()
    return Caseloads(volpiano=volpiano, sara=sara, restricted=restricted, lodi_supervisor=lodi_supervisor,
                     lodi_manager=lodi_manager, pacts=pacts)


def overview(session, registry, supervisor, filters=EVERYTHING, **kwargs):
    return caseload_overview(session, registry, supervisor, filters, now=NOW, zone=ROME, locale="en", **kwargs)


def by_name(result) -> dict[str, object]:
    return {row.name: row for row in result.managers}


def stages(result, counts) -> dict[str, int]:
    return {column.state: count for column, count in zip(result.stages, counts.by_stage) if count}


# --- the overview ------------------------------------------------------------------------------


def test_each_manager_of_the_team_with_their_open_pacts_by_stage(session, registry, world, caseloads):
    result = overview(session, registry, world.supervisor)
    rows = by_name(result)
    assert list(rows) == ["Giulia", "Marco", "Sara Neri"]  # the team, by name; Sara has no pacts
    giulia, marco, sara = rows["Giulia"].counts, rows["Marco"].counts, rows["Sara Neri"].counts
    # Referral is one column for both workflows: one TILDE and one CHANCE pact there.
    assert stages(result, giulia) == {"referral": 2, "co_design": 1, "follow_up": 1}
    assert (giulia.open_pacts, giulia.overdue, giulia.due_this_week, giulia.flagged) == (4, 1, 2, 2)
    assert giulia.longest_without_contact == 65
    # 0.5 (referral) + 1.0 x 1.5 (follow-up, high) + 1.5 (co-design, medium) + 0.5 x 0.8 (referral, low)
    assert giulia.weight == 3.9
    # The restricted pact Marco manages is not the supervisor's to see: one pact, not two.
    assert stages(result, marco) == {"accompaniment": 1}
    assert (marco.open_pacts, marco.overdue, marco.due_this_week, marco.flagged) == (1, 0, 0, 1)
    assert (marco.longest_without_contact, marco.weight) == (21, 1.5)
    assert (sara.open_pacts, sara.overdue, sara.due_this_week, sara.flagged, sara.weight) == (0, 0, 0, 0, 0.0)
    assert sara.longest_without_contact is None and set(sara.by_stage) == {0}
    totals = result.totals
    assert (totals.open_pacts, totals.overdue, totals.due_this_week, totals.flagged) == (5, 1, 2, 3)
    assert (totals.longest_without_contact, totals.weight) == (65, 5.4)
    assert result.week_ends_on == date(2026, 3, 15)
    assert all(row.in_team and row.active for row in result.managers)


def test_stage_columns_follow_the_workflows_and_share_a_state_name(session, registry, world, caseloads):
    result = overview(session, registry, world.supervisor)
    # Workflows in name order (chance_dispersione, patto_personalizzato), open stages in file order;
    # "referral" appears once.
    assert [column.state for column in result.stages] == CHANCE_COLUMNS + PATTO_ONLY_COLUMNS
    assert [column.label for column in result.stages][:2] == ["Referral", "Équipe review"]
    italian = caseload_overview(session, registry, world.supervisor, CaseloadFilters(), now=NOW, zone=ROME, locale="it")
    assert [column.label for column in italian.stages][:2] == ["Segnalazione", "Valutazione d'équipe"]


@pytest.mark.parametrize("filters,expected", [
    # CHANCE only: Giulia's CHANCE referral, Marco's accompaniment; the columns are CHANCE's.
    ("programme", {"Giulia": {"referral": 1}, "Marco": {"accompaniment": 1}}),
    ("comune", {"Giulia": {"referral": 1}, "Marco": {}}),
    (CaseloadFilters(stage="referral"), {"Giulia": {"referral": 2}, "Marco": {}}),
    (CaseloadFilters(priority="high"), {"Giulia": {"follow_up": 1}, "Marco": {"accompaniment": 1}}),
    (CaseloadFilters(priority="none"), {"Giulia": {"referral": 1}, "Marco": {}}),
])
def test_filters_narrow_every_figure(session, registry, world, caseloads, filters, expected):
    if filters == "programme":
        filters = CaseloadFilters(programme_id=world.chance.id)
    elif filters == "comune":
        filters = CaseloadFilters(comune_id=caseloads.volpiano.id)
    result = overview(session, registry, world.supervisor, filters)
    rows = by_name(result)
    assert {name: stages(result, rows[name].counts) for name in ("Giulia", "Marco")} == expected
    assert rows["Sara Neri"].counts.open_pacts == 0
    assert result.totals.open_pacts == sum(sum(counts.values()) for counts in expected.values())
    if filters.programme_id is not None:
        assert [column.state for column in result.stages] == CHANCE_COLUMNS


def test_the_comune_filter_keeps_the_flags_and_deadlines_of_what_it_keeps(session, registry, world, caseloads):
    result = overview(session, registry, world.supervisor, CaseloadFilters(comune_id=caseloads.volpiano.id))
    giulia = by_name(result)["Giulia"].counts
    # Only the CHANCE referral lives in Volpiano: due Sunday, 24 days without contact.
    assert (giulia.open_pacts, giulia.overdue, giulia.due_this_week, giulia.flagged) == (1, 0, 1, 1)
    assert (giulia.longest_without_contact, giulia.weight) == (24, 0.4)


def test_a_restricted_pact_counts_for_a_supervisor_on_its_equipe(session, registry, world, caseloads):
    session.add(PactMember(pact_id=caseloads.pacts["restricted"].id, user_id=world.supervisor.id, role="coordinatrice"))
    session.commit()
    marco = by_name(overview(session, registry, world.supervisor))["Marco"].counts
    # Now two pacts: the restricted one is overdue (due 9 March), contacted 10 days ago (limit 14).
    assert (marco.open_pacts, marco.overdue, marco.flagged) == (2, 1, 1)
    assert marco.weight == 3.0


def test_a_supervisor_of_another_territory_sees_none_of_them(session, registry, world, caseloads):
    result = overview(session, registry, caseloads.lodi_supervisor)
    assert [(row.name, row.counts.open_pacts) for row in result.managers] == [("Luca Galli", 1)]
    assert result.totals.open_pacts == 1
    assert caseload_pacts(session, registry, caseloads.lodi_supervisor, CaseloadFilters(),
                          case_manager_id=world.manager.id, now=NOW, zone=ROME, locale="en").total == 0


def test_someone_outside_the_team_who_holds_pacts_is_listed_to_hand_them_over(session, registry, world, caseloads):
    world.colleague.active = False  # Marco left
    session.commit()
    result = overview(session, registry, world.supervisor)
    assert [(row.name, row.in_team, row.active) for row in result.managers] == [
        ("Giulia", True, True), ("Sara Neri", True, True), ("Marco", False, False)]
    assert by_name(result)["Marco"].counts.open_pacts == 1
    choices = caseload_choices(session, registry, world.supervisor, locale="en")
    assert [option.label for option in choices.managers] == ["Giulia", "Sara Neri"]
    assert [option.label for option in choices.other_holders] == ["Marco"]


def test_a_supervisor_no_longer_active_sees_nothing(session, registry, world, caseloads):
    world.supervisor.active = False
    session.commit()
    result = overview(session, registry, world.supervisor)
    assert result.managers == () and result.totals.open_pacts == 0
    assert drill(session, registry, world).total == 0


def test_a_flag_needs_more_than_the_programmes_days_without_contact(session, registry, world):
    # TILDE allows 30 days. Contact on 9 February: 30 days before 11 March, not more.
    thirty = add_pact(session, registry, world.programme, world.manager, state="follow_up", opened=rome(2026, 1, 1),
                      contacts=(rome(2026, 2, 9, 23, 50),), comune=world.comune)
    # 8 February, late evening: 31 days.
    thirty_one = add_pact(session, registry, world.programme, world.manager, state="follow_up",
                          opened=rome(2026, 1, 1), contacts=(rome(2026, 2, 8, 23, 50),), comune=world.comune)
    # Opened 31 days ago and never contacted: counted from the opening.
    never = add_pact(session, registry, world.programme, world.manager, state="referral", opened=rome(2026, 2, 8, 9))
    session.commit()
    found = caseload_pacts(session, registry, world.supervisor, CaseloadFilters(), now=NOW, zone=ROME, locale="en")
    flags = {row.pact_id: (row.days_since_contact, row.flagged) for row in found.rows}
    assert flags == {thirty.id: (30, False), thirty_one.id: (31, True), never.id: (31, True)}
    assert by_name(overview(session, registry, world.supervisor))["Giulia"].counts.flagged == 2


def test_due_this_week_runs_to_sunday_night_in_rome(session, registry, world):
    times = {
        "sunday_late": rome(2026, 3, 15, 23, 59),
        "monday_early": rome(2026, 3, 16, 0, 0),
        "in_an_hour": rome(2026, 3, 11, 11),
        "an_hour_ago": rome(2026, 3, 11, 9),
    }
    for deadline in times.values():
        add_pact(session, registry, world.programme, world.manager, state="referral", opened=rome(2026, 3, 1),
                 deadline=deadline)
    session.commit()
    giulia = by_name(overview(session, registry, world.supervisor))["Giulia"].counts
    assert (giulia.overdue, giulia.due_this_week) == (1, 2)
    assert week_end(NOW, ROME) == datetime(2026, 3, 15, 23, 0, tzinfo=UTC)
    # On a Sunday the week ends that night.
    assert week_end(rome(2026, 3, 15, 12), ROME) == datetime(2026, 3, 15, 23, 0, tzinfo=UTC)


def test_weights_come_from_the_configuration(session, registry, world, caseloads):
    weights = CaseloadWeights(default_stage_weight=2.0, stage_weights=(("referral", 1.0),),
                              priority_multipliers=(("low", 1.0), ("medium", 1.0), ("high", 2.0), ("none", 1.0)))
    giulia = by_name(overview(session, registry, world.supervisor, weights=weights))["Giulia"].counts
    # referral 1.0 + follow-up (default 2.0) x 2.0 + co-design (default 2.0) + referral 1.0 x 1.0
    assert giulia.weight == 8.0


def test_the_overview_counts_without_loading_a_single_pact(session, registry, world, caseloads):
    loaded = []

    def on_load(target, context):
        loaded.append(target)

    session.expunge_all()
    event.listen(Pact, "load", on_load)
    try:
        overview(session, registry, world.supervisor)
        caseload_pacts(session, registry, world.supervisor, CaseloadFilters(), now=NOW, zone=ROME, locale="en")
    finally:
        event.remove(Pact, "load", on_load)
    assert loaded == []


# --- the drill-down ----------------------------------------------------------------------------


def drill(session, registry, world, filters=EVERYTHING, **kwargs):
    return caseload_pacts(session, registry, world.supervisor, filters, now=NOW, zone=ROME, locale="en", **kwargs)


def test_the_drill_down_lists_a_managers_pacts_most_urgent_first(session, registry, world, caseloads):
    pacts = caseloads.pacts
    found = drill(session, registry, world, case_manager_id=world.manager.id)
    assert found.total == 4
    assert [row.pact_id for row in found.rows] == [
        pacts["referral"].id, pacts["follow_up"].id, pacts["chance_referral"].id, pacts["co_design"].id]
    first, second = found.rows[0], found.rows[1]
    assert (first.beneficiary_name, first.programme_code, first.manager_name) == ("Bruno Anna", "TILDE", "Giulia")
    assert (first.stage_label, first.priority, first.overdue, first.due_this_week) == ("Referral", None, True, False)
    assert first.deadline_label == "Screening within 10 working days of the referral"
    assert (first.days_since_contact, first.flagged, first.last_contact_at) == (10, False, rome(2026, 3, 1))
    assert (second.stage_label, second.priority, second.overdue, second.due_this_week) == (
        "Follow-up", "high", False, True)
    assert (second.days_since_contact, second.no_contact_days, second.flagged) == (65, 30, True)
    assert first.version == pacts["referral"].version


@pytest.mark.parametrize("kwargs,expected", [
    ({"flagged_only": True}, ["follow_up", "chance_referral"]),
    ({"deadline": DeadlineFilter.OVERDUE}, ["referral"]),
    ({"deadline": DeadlineFilter.THIS_WEEK}, ["follow_up", "chance_referral"]),
    ({"flagged_only": True, "deadline": DeadlineFilter.THIS_WEEK}, ["follow_up", "chance_referral"]),
])
def test_the_drill_down_follows_the_figure_clicked(session, registry, world, caseloads, kwargs, expected):
    found = drill(session, registry, world, case_manager_id=world.manager.id, **kwargs)
    assert [row.pact_id for row in found.rows] == [caseloads.pacts[name].id for name in expected]


def test_the_drill_down_across_managers_with_filters(session, registry, world, caseloads):
    found = drill(session, registry, world, CaseloadFilters(priority="high"))
    assert [row.pact_id for row in found.rows] == [caseloads.pacts["follow_up"].id, caseloads.pacts["accompaniment"].id]
    assert found.rows[1].manager_name == "Marco" and found.rows[1].stage_label == "Accompaniment"
    assert drill(session, registry, world, flagged_only=True).total == 3


def test_the_drill_down_is_paginated_with_the_total(session, registry, world, caseloads):
    pacts = caseloads.pacts
    page = drill(session, registry, world, case_manager_id=world.manager.id, limit=2, offset=2)
    assert (page.total, page.limit, page.offset) == (4, 2, 2)
    assert [row.pact_id for row in page.rows] == [pacts["chance_referral"].id, pacts["co_design"].id]


def test_the_filter_choices_are_the_supervisors_own(session, registry, world, caseloads):
    choices = caseload_choices(session, registry, world.supervisor, locale="en")
    assert [option.label for option in choices.programmes] == ["CHANCE · CHANCE", "RDM · Ricomincio da me",
                                                               "TILDE · TILDE"]
    assert [option.label for option in choices.comuni] == ["Settimo Torinese", "Volpiano"]
    assert [stage.state for stage in choices.stages] == CHANCE_COLUMNS + PATTO_ONLY_COLUMNS
    assert [option.label for option in choices.managers] == ["Giulia", "Marco", "Sara Neri"]
    assert choices.other_holders == ()
    lodi = caseload_choices(session, registry, caseloads.lodi_supervisor, locale="en")
    assert [option.label for option in lodi.comuni] == ["Lodi"]
    assert [option.label for option in lodi.managers] == ["Luca Galli"]


# --- the [caseload] configuration ----------------------------------------------------------------


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "casework.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_default_configuration_weighs_stages_and_priorities():
    weights = load_settings(environ={}).caseload
    assert weights == CaseloadWeights()
    assert (weights.stage_weight("co_design"), weights.stage_weight("referral"), weights.stage_weight("unknown")) == (
        1.5, 0.5, 1.0)
    assert (weights.priority_multiplier("high"), weights.priority_multiplier(None)) == (1.5, 1.0)


def test_a_configuration_file_overrides_single_weights(tmp_path):
    path = _toml(tmp_path, "[caseload]\ndefault_stage_weight = 2\n[caseload.stage_weights]\nreferral = 0.25\n"
                           "[caseload.priority_multipliers]\nhigh = 3\n")
    weights = load_settings(environ={"CASEWORK_CONFIG": str(path)}).caseload
    assert (weights.default_stage_weight, weights.stage_weight("referral"), weights.stage_weight("co_design")) == (
        2.0, 0.25, 1.5)
    assert (weights.priority_multiplier("high"), weights.priority_multiplier("low")) == (3.0, 0.8)
    overridden = load_settings({"caseload": {"stage_weights": {"screening": 4}}}, environ={}).caseload
    assert overridden.stage_weight("screening") == 4.0


@pytest.mark.parametrize("text,words", [
    ("[caseload.stage_weights]\nreferral = -1\n", ["caseload.stage_weights.referral", "number >= 0"]),
    ("[caseload.stage_weights]\nreferral = \"heavy\"\n", ["caseload.stage_weights.referral", "'heavy'"]),
    ("[caseload.priority_multipliers]\nurgent = 2\n", ["unknown priority 'urgent'"]),
    ("[caseload]\nweights = 2\n", ["unknown key 'weights' in [caseload]"]),
    ("[caseload]\nstage_weights = 2\n", ["[caseload.stage_weights] must be a table"]),
])
def test_bad_caseload_settings_are_refused_naming_file_and_key(tmp_path, text, words):
    path = _toml(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_settings(environ={"CASEWORK_CONFIG": str(path)})
    assert str(path) in str(error.value)
    assert all(word in str(error.value) for word in words), str(error.value)


def test_the_caseload_table_cannot_come_from_a_variable():
    with pytest.raises(ConfigError, match="CASEWORK_CASELOAD"):
        load_settings(environ={"CASEWORK_CASELOAD": "x"})
