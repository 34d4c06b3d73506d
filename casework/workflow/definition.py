"""What a workflow file means once loaded and validated: plain frozen data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from casework.i18n import N_, gettext

Labels = dict[str, str]  # locale -> text, always with "it" and "en"

PREVIOUS_STATE = "@previous"
DEADLINE_UNITS = ("working_days", "days", "months")
FIXED_ANCHORS = ("entered", "opened", "last_contact")
# What a service referral's deadline counts from: the request sent to the service (while it
# waits for an answer), or the start date agreed with it (while accepted and not started).
REFERRAL_ANCHORS = ("requested", "agreed_start")
# A referral deadline's id on a pact: the rule's id and the referral's, e.g. "referral_answer@17",
# so each referral has its own deadline row, reminders and escalations.
REFERRAL_RULE_SEPARATOR = "@"
QUESTION_TYPES = ("choice", "boolean", "scale", "number", "text")
PRIORITIES = ("low", "medium", "high")
# Milestones a workflow may name (indicators measure days from referral to each).
MILESTONES = ("activation",)
# The move every pact's history starts with: recorded under this event name, though no
# workflow file declares it (a declared event of the same name keeps its own label).
OPEN_EVENT = "open"
OPEN_EVENT_LABEL = N_("Pact opened")
# A pact brought in from an existing caseload enters its stage under this event name (no workflow
# file declares it either): its history starts there, dated the day the file gives.
IMPORT_EVENT = "import"
IMPORT_EVENT_LABEL = N_("Imported")
# What `WorkflowDefinition.label_of` names: the codes a workflow file gives words to.
LABEL_KINDS = ("workflow", "state", "event", "deadline", "reason", "outcome", "need_area")


def label_in(labels: Labels, locale: str) -> str:
    return labels.get(locale) or labels["it"]


def referral_rule_id(rule_id: str, referral_id: int) -> str:
    return f"{rule_id}{REFERRAL_RULE_SEPARATOR}{referral_id}"


def split_referral_rule_id(rule_id: str) -> tuple[str, int | None]:
    """(the workflow's rule id, the referral's id) of a referral deadline; (rule_id, None) otherwise."""
    base, separator, referral = rule_id.partition(REFERRAL_RULE_SEPARATOR)
    if separator and referral.isdigit():
        return base, int(referral)
    return rule_id, None


@dataclass(frozen=True)
class DeadlineRule:
    """Something due `amount` units after an anchor while the pact is in the state.

    anchor: "entered" (the state), "opened" (the pact), "last_contact" (latest follow-up
    contact, else entering the state) or "entered:<state>" (first time the pact entered it);
    for a service referral's deadline, one of REFERRAL_ANCHORS.
    Reminders, escalations and repetitions are sent by the scheduler (casework.reminders.deadline_rows).
    """

    id: str
    label: Labels
    amount: int
    unit: str
    anchor: str = "entered"
    remind_before_days: int = 0
    escalate_after_days: int | None = None
    # Overdue by this many days, escalate again: to the territorial manager (the supervisors
    # of the territory above the one first escalated to). Needs escalate_after_days, and is larger.
    escalate_again_after_days: int | None = None
    # A recurring deadline: while the rule stays active and its anchor does not move, it falls
    # due again every `every` units after the first due day (each with its own reminder and
    # escalations). With `from: last_contact` a contact restarts the series.
    every: int | None = None
    # A guard (casework.workflow.guards) that, once it holds, means the work is done: the
    # deadline stops running (e.g. the project signed, while it waits for approval in the same state).
    met_when: str | None = None


@dataclass(frozen=True)
class StateDef:
    name: str
    label: Labels
    final: bool = False
    deadlines: tuple[DeadlineRule, ...] = ()


@dataclass(frozen=True)
class EventDef:
    name: str
    label: Labels
    sources: tuple[str, ...]
    target: str  # a state name, or PREVIOUS_STATE to return where the pact came from
    guards: tuple[str, ...] = ()
    # Reason codes the actor picks from (e.g. why a beneficiary withdrew), counted by indicators.
    reasons: dict[str, Labels] = field(default_factory=dict)

    @property
    def returns_to_previous(self) -> bool:
        return self.target == PREVIOUS_STATE


@dataclass(frozen=True)
class Option:
    value: str
    label: Labels
    score: int = 0


@dataclass(frozen=True)
class Question:
    id: str
    label: Labels
    type: str
    need_area: str
    required: bool = True
    options: tuple[Option, ...] = ()
    score_if_true: int = 0
    minimum: int = 0
    maximum: int = 0


@dataclass(frozen=True)
class Section:
    id: str
    label: Labels
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class PriorityBand:
    min_score: int
    priority: str


@dataclass(frozen=True)
class Questionnaire:
    need_areas: dict[str, Labels]
    sections: tuple[Section, ...]
    priority_bands: tuple[PriorityBand, ...]  # highest min_score first

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)


@dataclass(frozen=True)
class WorkflowDefinition:
    name: str
    version: int
    label: Labels
    initial: str
    states: dict[str, StateDef]
    events: dict[str, EventDef]
    questionnaire: Questionnaire | None
    outcomes: dict[str, Labels]
    # Milestone name -> state: where indicators find e.g. the pact's activation in this workflow.
    milestones: dict[str, str] = field(default_factory=dict)
    # Deadlines of each of a pact's service referrals, whatever the pact's state (until it closes).
    referral_deadlines: tuple[DeadlineRule, ...] = ()
    source: Path = field(default=Path("<memory>"), compare=False)

    @cached_property
    def final_states(self) -> frozenset[str]:
        return frozenset(name for name, state in self.states.items() if state.final)

    def referral_rule(self, rule_id: str) -> DeadlineRule | None:
        """The service-referral rule a pact's deadline id ("referral_answer@17") comes from, else None."""
        base, referral_id = split_referral_rule_id(rule_id)
        if referral_id is None:
            return None
        return next((rule for rule in self.referral_deadlines if rule.id == base), None)

    def label_of(self, kind: str, code: str | None, locale: str, *, event: str | None = None,
                 default: str | None = None) -> str:
        """The words for one of this workflow's codes in `locale`: the one place state, event,
        deadline, reason, outcome and need-area labels are looked up.

        `kind` is one of LABEL_KINDS ("workflow" ignores `code`); a reason is looked up under
        its `event`. A code the workflow does not define (a state only an older version had, a
        rule since renamed) reads as `default`, or as the code itself.
        """
        labels: Labels | None = None
        if kind == "workflow":
            labels = self.label
        elif kind == "state":
            state = self.states.get(code) if code else None
            labels = state.label if state else None
        elif kind == "event":
            found = self.events.get(code) if code else None
            if found is None and code == OPEN_EVENT:
                return gettext(locale, OPEN_EVENT_LABEL)
            if found is None and code == IMPORT_EVENT:
                return gettext(locale, IMPORT_EVENT_LABEL)
            labels = found.label if found else None
        elif kind == "deadline":
            # A referral's deadline reads as its rule; the service's name is the caller's to add
            # (casework.reminders.rule_label), as it is in the database, not the file.
            referral_rule = self.referral_rule(code) if code else None
            labels = referral_rule.label if referral_rule else next(
                (rule.label for state in self.states.values() for rule in state.deadlines if rule.id == code), None)
        elif kind == "reason":
            found = self.events.get(event) if event else None
            labels = found.reasons.get(code) if found and code else None
        elif kind == "outcome":
            labels = self.outcomes.get(code) if code else None
        elif kind == "need_area":
            labels = self.questionnaire.need_areas.get(code) if self.questionnaire and code else None
        else:
            raise ValueError(f"unknown kind of label {kind!r}: expected one of {', '.join(LABEL_KINDS)}")
        if labels:
            return label_in(labels, locale)
        return default if default is not None else (code or "")

    def events_from(self, state: str) -> list[EventDef]:
        return [event for event in self.events.values() if state in event.sources]
