"""One scale pact's rows, written from its plan (casework.demo.scale_history) at absolute times.

Each step that the real operations would save with a version bump (casework.pacts.operations
touches the pact for a referral, a screening, a goal, a contact, a move...) adds one to the
pact's version, and a move's transition record carries the version it reached: the pact's
`version` equals its count of versioned changes, as after real use. Rows are plain dicts for
SQLAlchemy Core's executemany; ids are given here, so rows can point at each other.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from casework.demo.drawing import weighted
from casework.demo.scale_history import Step
from casework.demo.tables import (
    CHANCE_COMMITMENTS,
    CHANCE_CONTACTS,
    CHANCE_GOALS,
    CHANCE_WITHDRAW_REASONS,
    DECLINE_REASONS,
    EXTEND_REASONS,
    EXTERNAL_MEMBERS,
    NOT_ELIGIBLE_REASONS,
    OUTCOME_NOTES,
    PACT_COMMITMENTS,
    PACT_CONTACTS,
    PACT_GOALS,
    PACT_OUTCOME_WEIGHTS,
    PROGRAMME_GOALS,
    REFERRALS,
    REOPEN_REASONS,
    REQUEST_INFO_REASONS,
    SERVICE_DETAILS,
    SUSPEND_REASONS,
    WITHDRAW_REASONS,
)
from casework.models import (
    ActionStatus,
    ApprovalDecision,
    GoalsAchieved,
    ItemStatus,
    JournalKind,
    Performer,
    Priority,
)

# The tables' rows hold the values of these enums; Core inserts take the members.
TABLES = ("beneficiary", "household_member", "pact", "transition_record", "referral", "screening", "goal",
          "pact_action", "commitment", "pact_revision", "pact_approval", "pact_member", "follow_up_contact",
          "pact_outcome", "journal_entry")


class FastRandom(random.Random):
    """The seeded generator with quicker integers and choices (uniform enough for demo data): a
    100,000-pact load draws millions of them, and `randint` costs three calls each."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):  # type: ignore[no-untyped-def, override]
        return seq[int(self.random() * len(seq))]


@dataclass
class Ids:
    """The next id of each table (the database is empty of them when a scale load starts)."""

    next: dict[str, int] = field(default_factory=lambda: {name: 1 for name in TABLES})

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class PactFacts:
    """What the rows of one pact need to know besides its plan."""

    pact_id: int
    beneficiary_id: int
    programme_id: int
    programme_code: str
    workflow: str
    manager_id: int
    manager_name: str
    supervisor_id: int
    person_name: str
    tags: frozenset[str]  # for texts that suit only some people (casework.demo.steps.Steps._fits)
    screenings: list[tuple[dict, dict, int, str]]  # answers, need profile, total score, priority


def fits(tags: frozenset[str], needs: str) -> bool:
    tokens = needs.split()
    if tokens and set(tokens[0]) <= {"F", "M"}:
        if not any(g in tags for g in tokens[0]):
            return False
        tokens = tokens[1:]
    return all(token in tags for token in tokens)


_SUITABLE: dict[tuple[int, frozenset[str]], list[tuple]] = {}


def _choose(rng: random.Random, tags: frozenset[str], options: tuple, needs_at: int = 0) -> tuple:
    # Per table and kind of person, computed once: a load draws hundreds of thousands of texts.
    key = (id(options), tags)
    suitable = _SUITABLE.get(key)
    if suitable is None:
        suitable = _SUITABLE[key] = [o for o in options if fits(tags, o[needs_at])] or list(options)
    return rng.choice(suitable)


def place_times(rng: random.Random, steps: list[Step], start: date) -> list[datetime]:
    """Moments for the steps from `start`: office hours on weekdays, minutes apart in one sitting."""
    times: list[datetime] = []
    moment = datetime(start.year, start.month, start.day, rng.randint(7, 14), rng.randint(0, 59), tzinfo=UTC)
    for gap, _, _ in steps:
        if gap and times:
            day = moment.date() + timedelta(days=gap)
            if day.weekday() >= 5:
                day += timedelta(days=7 - day.weekday())
            moment = datetime(day.year, day.month, day.day, rng.randint(7, 15), rng.randint(0, 59), tzinfo=UTC)
        elif times:
            moment = moment + timedelta(minutes=rng.randint(2, 25))
        times.append(moment)
    return times


class RowWriter:
    """Turns plans into rows, appended to `rows[table]`."""

    def __init__(self, rng: random.Random, ids: Ids, initial: dict[str, str]):
        self.rng = rng
        self.ids = ids
        self.initial = initial  # workflow -> its initial state
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}

    def pact(self, facts: PactFacts, steps: list[Step], times: list[datetime], journal: int = 0) -> dict[str, Any]:
        """Rows for one pact's history; returns the pact's own row (also appended)."""
        rng = self.rng
        rows = self.rows
        chance = facts.workflow == "chance_dispersione"
        state = self.initial[facts.workflow]
        entered_from: str | None = None
        entered_at = times[0]
        version = 0
        priority: Priority | None = None
        goals: list[dict[str, Any]] = []
        actions: list[dict[str, Any]] = []
        commitments: list[dict[str, Any]] = []
        revision: dict[str, Any] | None = None
        revisions = 0
        outcome_done = False
        closed_at: datetime | None = None
        pact_id = facts.pact_id
        manager = facts.manager_id
        for (_, kind, data), at in zip(steps, times, strict=True):
            version += 1
            if kind == "open":
                rows["transition_record"].append({
                    "pact_id": pact_id, "event": "open", "from_state": None, "to_state": state, "actor_id": manager, "at": at,
                    "comment": "", "reason": None, "pact_version": version})
            elif kind == "move":
                event, target = data[0], data[1]
                comment, reason = self._why(facts, data[2] if len(data) > 2 else None)
                rows["transition_record"].append({
                    "pact_id": pact_id, "event": event, "from_state": state, "to_state": target, "actor_id": manager, "at": at,
                    "comment": comment, "reason": reason, "pact_version": version})
                entered_from, state, entered_at = state, target, at
                closed_at = at if target in ("closed", "withdrawn", "not_eligible", "not_taken_in") else None
            elif kind == "referral":
                _, source, referrer, reason_text = _choose(rng, facts.tags, REFERRALS[facts.programme_code])
                rows["referral"].append({
                    "pact_id": pact_id, "source": source, "referrer_name": referrer, "referrer_contact": "", "reason": reason_text,
                    "referred_on": (at - timedelta(days=rng.randint(0, 6))).date(), "recorded_at": at,
                    "recorded_by_id": manager})
            elif kind == "screening":
                answers, profile, total, level = rng.choice(facts.screenings)
                priority = Priority(level)
                rows["screening"].append({
                    "pact_id": pact_id, "answers": answers, "need_profile": profile, "total_score": total, "priority": priority,
                    "completed_at": at, "completed_by_id": manager})
            elif kind == "goal":
                text, options = self._goal(facts)
                goal = {"id": self.ids.take("goal"), "pact_id": pact_id, "description": text,
                            "need_area": options[0], "target_date": (at + timedelta(days=rng.randint(60, 200))).date(),
                            "status": ItemStatus.OPEN}
                goals.append(goal)
                performer, detail, action_text = _choose_action(rng, options[1])
                actions.append({
                    "id": self.ids.take("pact_action"), "pact_id": pact_id, "goal_id": goal["id"], "description": action_text,
                    "performer": performer, "performer_detail": detail.format(**self._details(facts)),
                    "due_on": (at + timedelta(days=rng.randint(20, 120))).date(), "status": ActionStatus.PLANNED})
            elif kind == "action":
                pass  # drawn with its goal; still one version, as the real add_action
            elif kind == "commitment":
                bank = CHANCE_COMMITMENTS if chance else PACT_COMMITMENTS
                party = rng.choice(list(bank))
                commitments.append({"pact_id": pact_id, "party": party, "text": rng.choice(bank[party])})
            elif kind == "revision":
                revisions += 1
                revision = {
                    "id": self.ids.take("pact_revision"), "pact_id": pact_id, "number": revisions,
                    "content": _snapshot(goals, actions, commitments), "created_at": at, "created_by_id": manager,
                    "signed_on": None, "signed_by": "", "consent_given": False}
                rows["pact_revision"].append(revision)
            elif kind == "signature":
                assert revision is not None
                revision["signed_on"] = at.date()
                revision["signed_by"] = f"{facts.person_name}; {facts.manager_name}"
                revision["consent_given"] = True
            elif kind == "approval":
                assert revision is not None
                rows["pact_approval"].append({
                    "pact_id": pact_id, "revision_id": revision["id"], "decision": ApprovalDecision.APPROVED, "comment": "",
                    "decided_by_id": facts.supervisor_id, "decided_at": at, "pact_version": version})
            elif kind == "action_start":
                planned = [a for a in actions if a["status"] == ActionStatus.PLANNED]
                if planned:
                    planned[0]["status"] = ActionStatus.IN_PROGRESS
                else:
                    version -= 1  # nothing to start: no change
            elif kind == "member":
                role_man, role_woman, organisation = rng.choice(EXTERNAL_MEMBERS.get(facts.programme_code, (
                    (None, "assistente sociale", "Servizio sociale"),)))
                woman = role_man is None or rng.random() < 0.6
                rows["pact_member"].append({
                    "pact_id": pact_id, "user_id": None, "external_name": _external_name(rng, woman),
                    "role": role_woman if woman else role_man, "organisation": organisation, "contact": "", "added_at": at})
            elif kind == "contact":
                _, channel, notes = _choose(rng, facts.tags, CHANCE_CONTACTS if chance else PACT_CONTACTS)
                rows["follow_up_contact"].append({
                    "pact_id": pact_id, "contact_at": at, "channel": channel, "notes": notes,
                    "next_contact_on": (at + timedelta(days=14 if chance else 30)).date(), "recorded_by_id": manager,
                    "submission_key": None})
            elif kind == "outcome":
                if outcome_done:
                    version -= 1
                    continue
                outcome = str(weighted(rng, PACT_OUTCOME_WEIGHTS[facts.programme_code]))
                achieved = GoalsAchieved.NOT if outcome in ("no_change", "dropped_out", "moved_away") else (
                    GoalsAchieved.FULLY if rng.random() < 0.5 else GoalsAchieved.PARTLY)
                rows["pact_outcome"].append({
                    "pact_id": pact_id, "outcome": outcome, "goals_achieved": achieved, "notes": OUTCOME_NOTES.get(outcome, ""),
                    "recorded_at": at, "recorded_by_id": manager})
                outcome_done = True
                for goal in goals:
                    goal["status"] = {GoalsAchieved.FULLY: ItemStatus.ACHIEVED, GoalsAchieved.PARTLY:
                                      ItemStatus.PARTLY_ACHIEVED, GoalsAchieved.NOT: ItemStatus.NOT_ACHIEVED}[achieved]
            else:
                raise ValueError(f"unknown step {kind!r}")
        rows["goal"].extend(goals)
        rows["pact_action"].extend(actions)
        rows["commitment"].extend(commitments)
        for index in range(journal):
            at = times[0] + (times[-1] - times[0]) * (index + 1) / (journal + 1)
            rows["journal_entry"].append({
                "pact_id": pact_id, "kind": rng.choice(list(JournalKind)), "at": at, "author_id": manager, "recorded_at": at,
                "text": rng.choice(PACT_CONTACTS)[2], "submission_key": None})
        pact = {
            "id": pact_id, "beneficiary_id": facts.beneficiary_id, "programme_id": facts.programme_id,
            "case_manager_id": manager, "workflow_name": facts.workflow, "workflow_version": 1, "state": state,
            "version": version, "priority": priority, "opened_at": times[0], "state_entered_at": entered_at,
            "entered_from": entered_from, "closed_at": closed_at, "next_deadline_at": None, "next_deadline_label": "",
            "updated_at": times[-1]}
        rows["pact"].append(pact)
        return pact

    def _why(self, facts: PactFacts, why: str | None) -> tuple[str, str | None]:
        rng = self.rng
        chance = facts.workflow == "chance_dispersione"
        if why is None:
            return "", None
        if why == "withdraw":
            code, note = rng.choice(CHANCE_WITHDRAW_REASONS if chance else WITHDRAW_REASONS)
            return note, code
        text = {
            "suspend": lambda: _choose(rng, facts.tags, SUSPEND_REASONS)[1],
            "not_eligible": lambda: rng.choice(NOT_ELIGIBLE_REASONS),
            "decline_case": lambda: rng.choice(DECLINE_REASONS),
            "request_information": lambda: rng.choice(REQUEST_INFO_REASONS),
            "extend": lambda: rng.choice(EXTEND_REASONS),
            "reopen": lambda: rng.choice(REOPEN_REASONS),
        }[why]()
        return text, None

    def _details(self, facts: PactFacts) -> dict[str, str]:
        return SERVICE_DETAILS.get(facts.programme_code, SERVICE_DETAILS["TILDE"])

    def _goal(self, facts: PactFacts) -> tuple[str, tuple[str, tuple]]:
        rng = self.rng
        if facts.workflow == "chance_dispersione":
            bank = CHANCE_GOALS
        else:
            bank = {**PACT_GOALS, **PROGRAMME_GOALS.get(facts.programme_code, {})}
        area = rng.choice(list(bank))
        text, actions = rng.choice(bank[area])
        return text.format(**self._details(facts)), (area, actions)


def _choose_action(rng: random.Random, options: tuple) -> tuple[Performer, str, str]:
    return rng.choice(options)


_EXTERNAL_WOMEN = ("Laura", "Francesca", "Giulia", "Sara", "Marta", "Elisa", "Paola", "Claudia")
_EXTERNAL_MEN = ("Andrea", "Matteo", "Stefano", "Paolo", "Luca", "Davide", "Fabio", "Simone")
_EXTERNAL_SURNAMES = ("Bianchi", "Ferrari", "Colombo", "Galli", "Fontana", "Moretti", "Barbieri", "Lombardi")


def _external_name(rng: random.Random, woman: bool) -> str:
    return f"{rng.choice(_EXTERNAL_WOMEN if woman else _EXTERNAL_MEN)} {rng.choice(_EXTERNAL_SURNAMES)}"


def _snapshot(goals: list[dict], actions: list[dict], commitments: list[dict]) -> dict[str, object]:
    """As casework.pacts.operations._snapshot freezes a pact's content in a revision."""
    return {
        "goals": [{"id": g["id"], "description": g["description"], "need_area": g["need_area"],
                   "target_date": g["target_date"].isoformat()} for g in goals],
        "actions": [{"id": a["id"], "goal_id": a["goal_id"], "description": a["description"],
                     "performer": a["performer"].value, "performer_detail": a["performer_detail"],
                     "due_on": a["due_on"].isoformat()} for a in actions],
        "commitments": [{"party": c["party"].value, "text": c["text"]} for c in commitments],
    }
