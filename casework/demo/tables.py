"""The demo's content, read from the TOML tables in casework/demo/data/.

The tables hold what a reader may want to change (territories, accounts, programmes, names,
the texts case managers write, the scenarios); this module turns them into the shapes the
loader draws from, enum values into enums, and checks nothing while the loader runs: a typo in
a table fails here, on import. Order matters: the loader draws with a seeded random
generator, so the same tables in the same order give the same demo.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from casework.models import (
    ContactChannel,
    OrganisationKind,
    Performer,
    ReferralSource,
    Role,
    ServiceAccess,
    ServiceCost,
    TerritoryKind,
)
from casework.services import load_taxonomy

# A goal and its possible actions: (goal, ((performer, detail, action), ...)).
GoalOption = tuple[str, tuple[tuple[Performer, str, str], ...]]
# Where a pact ends up: (final state, variant or None).
Scenario = tuple[str, str | None]


@cache
def _table(name: str) -> dict[str, Any]:
    return tomllib.loads(files("casework.demo").joinpath("data", f"{name}.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ProgrammeSpec:
    code: str
    name: str
    funder: str
    territory: str
    workflow: str
    description: str
    restricted: bool = False
    no_contact_days: int = 30
    targets: tuple[tuple[str, str, str], ...] = ()  # indicator, value, description
    size: int = 0  # demo beneficiaries
    managers: tuple[str, ...] = ()  # case managers who hold its pacts
    comuni: tuple[str, ...] = ()  # where its beneficiaries live (default: the whole territory)


@dataclass(frozen=True)
class Origin:
    country: str  # also the citizenship shown
    cf_place: str  # how the codicefiscale library names the country
    women: tuple[str, ...]
    men: tuple[str, ...]
    surnames: tuple[str, ...]
    boys: tuple[str, ...]
    girls: tuple[str, ...]

    @property
    def children(self) -> tuple[str, ...]:
        return self.boys + self.girls


def _strings(values: list[str]) -> tuple[str, ...]:
    return tuple(values)


def _weights(table: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(table.items())


# ---- territories, organisations, staff, programmes ----------------------------------------

# name, kind, comuni (name, ISTAT code, weight ~ population)
TERRITORIES: tuple[tuple[str, TerritoryKind, tuple[tuple[str, str, int], ...]], ...] = tuple(
    (row["name"], TerritoryKind(row["kind"]), tuple((c["name"], c["istat"], c["weight"]) for c in row["comuni"]))
    for row in _table("territories")["territory"]
)

# name, kind, territory (a group's name, a comune's name, or None for regional/national)
ORGANISATIONS: tuple[tuple[str, OrganisationKind, str | None], ...] = tuple(
    (row["name"], OrganisationKind(row["kind"]), row.get("territory"))
    for row in _table("organisations")["organisations"]
)

# username, full name, role, territory, organisation
STAFF: tuple[tuple[str, str, Role, str, str | None], ...] = tuple(
    (row["username"], row["full_name"], Role(row["role"]), row["territory"], row.get("organisation"))
    for row in _table("staff")["staff"]
)

PROGRAMMES: tuple[ProgrammeSpec, ...] = tuple(
    ProgrammeSpec(
        **{key: value for key, value in row.items() if key not in ("targets", "managers", "comuni")},
        targets=tuple((t["indicator"], t["value"], t["description"]) for t in row.get("targets", ())),
        managers=_strings(row["managers"]),
        comuni=_strings(row.get("comuni", [])),
    )
    for row in _table("programmes")["programme"]
)

# ---- names and places ---------------------------------------------------------------------

_names = _table("names")
ITALIAN_F = _strings(_names["italian_women"])
ITALIAN_M = _strings(_names["italian_men"])
YOUNG_F = _strings(_names["teenage_girls"])
YOUNG_M = _strings(_names["teenage_boys"])
CHILD_NAMES = _strings(_names["children"])
STREETS = _strings(_names["streets"])
SURNAMES = {territory: _strings(names) for territory, names in _names["surnames"].items()}
ITALIAN_BIRTHPLACES = {territory: _strings(places) for territory, places in _names["birthplaces"].items()}
ITALIAN_BIRTHPLACES_YOUNG = {territory: _strings(places) for territory, places in _names["birthplaces_young"].items()}
ORIGINS: dict[str, Origin] = {
    country: Origin(country, row.get("cf_place", country), *(_strings(row[key]) for key in (
        "women", "men", "surnames", "boys", "girls")))
    for country, row in _names["origins"].items()
}
# Femminili Plurali: countries of origin of the migrant women of the CIdiS territory
FP_ORIGINS = _weights(_names["origin_weights"]["femminili_plurali"])
OTHER_ORIGINS = _weights(_names["origin_weights"]["others"])

# ---- what case managers write ---------------------------------------------------------------

# (needs, source, referrer, reason); needs: genders ("F", "M", "FM") then tags (see Steps._fits)
REFERRALS: dict[str, tuple[tuple[str, ReferralSource, str, str], ...]] = {
    code: tuple((row["needs"], ReferralSource(row["source"]), row["referrer"], row["reason"]) for row in rows)
    for code, rows in _table("referrals").items()
}


def _goals(rows: list[dict[str, Any]]) -> tuple[GoalOption, ...]:
    return tuple(
        (row["goal"], tuple((Performer(a["by"]), a["detail"], a["action"]) for a in row["actions"])) for row in rows
    )


_goal_table = _table("goals")
# need area -> goals; details may use {lavoro}, {lingua}, {comunita}, {educativo}, {trasporti}
PACT_GOALS: dict[str, tuple[GoalOption, ...]] = {area: _goals(rows) for area, rows in _goal_table["generic"].items()}
# Goals specific to a programme, preferred over the generic ones for their need area.
PROGRAMME_GOALS: dict[str, dict[str, tuple[GoalOption, ...]]] = {
    code: {area: _goals(rows) for area, rows in areas.items()} for code, areas in _goal_table["programme"].items()
}
CHANCE_GOALS: dict[str, tuple[GoalOption, ...]] = {area: _goals(rows) for area, rows in _goal_table["chance"].items()}
# Goals that suit only some people (tags as in Steps._fits).
GOAL_NEEDS: dict[str, str] = {
    row["goal"]: row["needs"]
    for bank in (_goal_table["generic"], *_goal_table["programme"].values(), _goal_table["chance"])
    for rows in bank.values() for row in rows if "needs" in row
}

_texts = _table("pact_texts")
SERVICE_DETAILS: dict[str, dict[str, str]] = _texts["services"]
PACT_COMMITMENTS = {Performer(party): _strings(texts) for party, texts in _texts["commitments"].items()}
CHANCE_COMMITMENTS = {Performer(party): _strings(texts) for party, texts in _texts["chance_commitments"].items()}
PACT_CONTACTS = tuple((row["needs"], ContactChannel(row["channel"]), row["notes"]) for row in _texts["contacts"])
CHANCE_CONTACTS = tuple((row["needs"], ContactChannel(row["channel"]), row["notes"]) for row in _texts["chance_contacts"])
SUSPEND_REASONS = tuple((row["needs"], row["reason"]) for row in _texts["suspend_reasons"])  # (needs, reason)
RESUME_REASONS = _strings(_texts["resume_reasons"])
# (reason code of the workflow's `withdraw` event, note)
WITHDRAW_REASONS = tuple((row["code"], row["note"]) for row in _texts["withdraw_reasons"])
CHANCE_WITHDRAW_REASONS = tuple((row["code"], row["note"]) for row in _texts["chance_withdraw_reasons"])
SEND_BACK_COMMENTS = _strings(_texts["send_back_comments"])  # the coordinator's, on a CHANCE project
NOT_ELIGIBLE_REASONS = _strings(_texts["not_eligible_reasons"])
DECLINE_REASONS = _strings(_texts["decline_reasons"])
REQUEST_INFO_REASONS = _strings(_texts["request_info_reasons"])
EXTEND_REASONS = _strings(_texts["extend_reasons"])
REOPEN_REASONS = _strings(_texts["reopen_reasons"])
OUTCOME_NOTES: dict[str, str] = _texts["outcome_notes"]
PACT_OUTCOME_WEIGHTS = {code: _weights(weights) for code, weights in _texts["outcome_weights"].items()}
SCREENING_NOTES = tuple((row["needs"], row["note"]) for row in _texts["screening_notes"])  # (needs, note)
# programme -> (role for a man or None, role for a woman, organisation) of outside team members
EXTERNAL_MEMBERS: dict[str, tuple[tuple[str | None, str, str], ...]] = {
    code: tuple((row.get("man"), row["woman"], row["organisation"]) for row in rows)
    for code, rows in _texts["external_members"].items()
}

# ---- scenarios ------------------------------------------------------------------------------


def _scenario(row: dict[str, Any]) -> Scenario:
    return row["state"], row.get("variant")


_scenarios = _table("scenarios")
# The coverage list of each workflow covers every state and is used for each programme; the
# weighted pool fills the rest.
PATTO_COVERAGE = tuple(_scenario(row) for row in _scenarios["patto_personalizzato"]["coverage"])
PATTO_POOL = tuple((_scenario(row), row["weight"]) for row in _scenarios["patto_personalizzato"]["pool"])
CHANCE_COVERAGE = tuple(_scenario(row) for row in _scenarios["chance_dispersione"]["coverage"])
CHANCE_POOL = tuple((_scenario(row), row["weight"]) for row in _scenarios["chance_dispersione"]["pool"])
DEADLINE_BUCKETS = _weights(_scenarios["deadline_buckets"])

# ---- the directory of services and the referrals to them --------------------------------------

_DAYS = {"lun": 0, "mar": 1, "mer": 2, "gio": 3, "ven": 4, "sab": 5, "dom": 6}


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        start, end = _DAYS[first], _DAYS[last or first]
        if end < start:
            raise ValueError(f"services.toml: day range {part!r} runs backwards")
        days.extend(range(start, end + 1))
    return days


def _hours(lines: list[str]) -> tuple[dict[str, object], ...]:
    """"lun-ven 09:00-12:30" -> one {"day", "opens", "closes"} per day, as Service.opening_hours keeps them."""
    slots: list[dict[str, object]] = []
    for line in lines:
        days, times = line.split()
        opens, closes = times.split("-")
        if not (len(opens) == len(closes) == 5 and opens < closes):
            raise ValueError(f"services.toml: bad hours {line!r}")
        slots.extend({"day": day, "opens": opens, "closes": closes} for day in _days(days))
    return tuple(sorted(slots, key=lambda slot: (slot["day"], slot["opens"])))  # type: ignore[arg-type, return-value]


@dataclass(frozen=True)
class ServiceSpec:
    type: str
    name: str
    description: str
    target: str
    eligibility: str
    comuni: tuple[str, ...]  # comuni or groups of comuni
    access: ServiceAccess
    hours: tuple[dict[str, object], ...]
    notes: str
    address: str
    contact: str
    mailbox: str
    cost: ServiceCost
    cost_notes: str
    welfare_plan: bool
    capacity: int | None
    places: int | None
    waiting: int
    languages: tuple[str, ...]
    checked: int  # months since last checked
    active: bool
    who: str  # which demo pacts may be referred to it (see services.toml)
    referred: bool


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    kind: OrganisationKind | None  # None: one of ORGANISATIONS
    territory: str | None
    domain: str
    services: tuple[ServiceSpec, ...]


def _service(row: dict[str, Any]) -> ServiceSpec:
    return ServiceSpec(
        type=row["type"], name=row["name"], description=row["description"], target=row.get("target", ""),
        eligibility=row.get("eligibility", ""), comuni=_strings(row["comuni"]), access=ServiceAccess(row["access"]),
        hours=_hours(row["hours"]), notes=row.get("notes", ""), address=row.get("address", ""),
        contact=row["contact"], mailbox=row["mailbox"], cost=ServiceCost(row["cost"]),
        cost_notes=row.get("cost_notes", ""), welfare_plan=row.get("welfare_plan", False),
        capacity=row.get("capacity"), places=row.get("places"), waiting=row.get("waiting", 0),
        languages=_strings(row["languages"]), checked=row["checked"], active=row.get("active", True),
        who=row.get("who", ""), referred=row.get("referred", True),
    )


_services = _table("services")
SERVICE_PROVIDERS: tuple[ProviderSpec, ...] = tuple(
    ProviderSpec(
        name=row["name"], kind=OrganisationKind(row["kind"]) if "kind" in row else None,
        territory=row.get("territory"), domain=row["domain"], services=tuple(_service(s) for s in row["service"]),
    )
    for row in _services["provider"]
)
_known = {name for name, _, _ in ORGANISATIONS}
# The tags casework.demo.steps.Steps._fits knows, and the services' own (casework.demo.services).
_WHO_TAGS = {"F", "M", "FM", "kids", "baby", "schoolkid", "single", "migrant", "l2", "permit", "adult", "young"}
_type_codes = {kind.code for area in load_taxonomy() for kind in area.types}
for _provider in SERVICE_PROVIDERS:
    for _spec in _provider.services:
        if _spec.type not in _type_codes:
            raise ValueError(f"services.toml: {_spec.name!r} has type {_spec.type!r}, not in the taxonomy")
        for _token in _spec.who.replace("|", " ").split():
            if _token not in _WHO_TAGS and _token not in {f"={p.code}" for p in PROGRAMMES}:
                raise ValueError(f"services.toml: {_spec.name!r} has an unknown tag {_token!r} in who")
    if (_provider.kind is None) != (_provider.name in _known):
        raise ValueError(f"services.toml: {_provider.name!r} needs a kind unless organisations.toml has it, and only then")


@dataclass(frozen=True)
class ReferralTexts:
    consent_purposes: tuple[str, ...]  # {servizio}, {ente}
    consent_note: str  # {ente}, {giorno}, {finalita}
    proposed: tuple[str, ...]  # {area}
    requested: tuple[str, ...]
    accepted: tuple[str, ...]
    started: tuple[str, ...]
    completed: tuple[str, ...]
    refused: dict[str, str]  # reason code -> note
    dropped: dict[str, str]


_referral_texts = _services["referrals"]
SERVICE_REFERRAL_TEXTS = ReferralTexts(
    consent_purposes=_strings(_referral_texts["consent_purposes"]), consent_note=_referral_texts["consent_note"],
    proposed=_strings(_referral_texts["proposed_notes"]), requested=_strings(_referral_texts["requested_notes"]),
    accepted=_strings(_referral_texts["accepted_notes"]), started=_strings(_referral_texts["started_notes"]),
    completed=_strings(_referral_texts["completed_notes"]), refused=dict(_referral_texts["refused"]),
    dropped=dict(_referral_texts["dropped"]),
)
