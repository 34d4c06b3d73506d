"""Everything the pact page shows, prepared from the pact and its workflow file (no Flask).

Workflow texts (stages, events, deadlines, questions, options, need areas, outcomes) come
out in the reader's language here; the application's own words (enum names, buttons) are
the web layer's, so codes are passed through for it to translate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from casework.clock import Clock
from casework.i18n import N_, gettext
from casework.models import (
    Action,
    ActionStatus,
    Beneficiary,
    Commitment,
    FollowUpContact,
    Goal,
    Pact,
    PactMember,
    PactOutcome,
    PactRevision,
    Referral,
    Role,
    Screening,
    TransitionRecord,
    User,
)
from casework.pacts.diagram import main_path
from casework.pacts.operations import changed_since_latest_revision, event_statuses
from casework.reminders import StatePosition, days_until, deadline_state, state_deadlines
from casework.supervision import approval_status
from casework.workflow import (
    APPROVAL_GUARD,
    REASON_GUARD,
    EventDef,
    EventStatus,
    Guard,
    Question,
    Questionnaire,
    WorkflowDefinition,
    WorkflowRegistry,
    label_in,
)

COMMENT_GUARD = "has_comment"
# What the person gives with the move itself, so it cannot be missing beforehand.
_GIVEN_WITH_THE_MOVE = (COMMENT_GUARD, REASON_GUARD)

# Which parts of the page record what each guard looks for: a panel whose guard holds an
# event back is marked as needed for that event.
GUARD_PANELS = {
    "has_referral": ("referral",),
    "screening_completed": ("screening",),
    "has_goal": ("co_design",),
    "has_action": ("co_design",),
    "action_started": ("co_design",),
    "pact_signed": ("signature",),
    # A signed goal or action needs one written in the co-design first, then the signature.
    "signed_goal": ("co_design", "signature"),
    "signed_action": ("co_design", "signature"),
    "has_contact": ("follow_up",),
    "has_outcome": ("outcome",),
}

# The pact's parts in their natural order, as the workspace navigation lists them; the
# parts where the current stage's work is done come first (PactPage.parts).
PARTS = ("referral", "screening", "co_design", "services", "signature", "follow_up", "outcome",
         "timeline", "journal", "equipe", "documents", "workflow")
# The part where a stage's work is done when no held-back move points at one.
_STAGE_PARTS = {"referral": "referral", "screening": "screening", "co_design": "co_design",
                "activation": "co_design", "follow_up": "follow_up"}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class DeadlineView:
    label: str
    due_on: date  # the local day by which it is due
    overdue: bool
    paused: bool  # stopped while the pact is paused; its day moves when it resumes
    from_last_contact: bool = False  # counted from the last follow-up contact


@dataclass(frozen=True)
class Header:
    pact_id: int
    version: int
    beneficiary_id: int
    beneficiary_name: str
    programme_name: str
    workflow_label: str
    programme_label: str  # the programme, with the workflow's name only when it says something more
    state: str
    stage_label: str
    is_open: bool
    priority: str | None  # low / medium / high, from the latest screening
    case_manager_name: str
    viewer_is_case_manager: bool
    opened_at: datetime
    closed_at: datetime | None
    deadline_label: str
    deadline_on: date | None  # the local day by which it is due
    overdue: bool
    deadline_state: str  # casework.reminders.deadline_state: "late", "today", "due_soon", "on_time" or ""
    deadline_days: int  # local calendar days left (negative: days late); 0 without a deadline
    deadlines: tuple[DeadlineView, ...]  # every deadline of the stage, earliest first
    stage_reason: str  # the reason picked with the move into this stage (e.g. why they withdrew), or ""


@dataclass(frozen=True)
class PossibleEvent:
    """An event possible from the current stage.

    `available`: the engine allows it now, given a comment when `needs_comment` and one of
    `reason_choices` when there are any (both are given with the move, so they cannot be
    missing beforehand). Otherwise `missing` says, in the reader's language, what is still
    missing.
    """

    name: str
    label: str
    target_label: str
    available: bool
    needs_comment: bool
    reason_choices: tuple[Choice, ...]  # the reasons to pick one from (e.g. why a beneficiary withdrew)
    missing: tuple[str, ...]
    # Leaves the workflow's main path (withdrawal, not eligible, suspension): shown apart from
    # the next step, and always confirmed in a dialog.
    destructive: bool = False

    @property
    def asks_something(self) -> bool:
        """The move is made from a dialog (or its own page): it asks a reason, a comment or a confirmation."""
        return self.needs_comment or bool(self.reason_choices) or self.destructive


@dataclass(frozen=True)
class QuestionView:
    id: str
    label: str
    type: str  # choice, boolean, scale, number, text
    required: bool
    need_area: str
    need_area_label: str
    options: tuple[Choice, ...]
    minimum: int
    maximum: int
    steps: tuple[Choice, ...] = ()  # for a scale: what each step means, lowest first


@dataclass(frozen=True)
class SectionView:
    id: str
    label: str
    questions: tuple[QuestionView, ...]


@dataclass(frozen=True)
class AnswerView:
    question_label: str
    type: str
    value: Any  # as recorded: option value, bool, int or text
    value_label: str  # the option's label for a choice, else ""


@dataclass(frozen=True)
class AnsweredSection:
    label: str
    answers: tuple[AnswerView, ...]


@dataclass(frozen=True)
class NeedRow:
    area: str
    label: str
    score: int


@dataclass(frozen=True)
class ReferralPanel:
    referral: Referral | None
    needed_for: tuple[str, ...]


@dataclass(frozen=True)
class ScreeningPanel:
    defined: bool  # the workflow file has a questionnaire
    sections: tuple[SectionView, ...]
    latest: Screening | None
    answered: tuple[AnsweredSection, ...]
    need_profile: tuple[NeedRow, ...]
    count: int
    needed_for: tuple[str, ...]


@dataclass(frozen=True)
class GoalView:
    goal: Goal
    need_area_label: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class CoDesignPanel:
    goals: tuple[GoalView, ...]
    actions_without_goal: tuple[Action, ...]
    commitments: tuple[Commitment, ...]
    need_areas: tuple[Choice, ...]
    needed_for: tuple[str, ...]

    @property
    def has_actions(self) -> bool:
        return bool(self.actions_without_goal) or any(view.actions for view in self.goals)


@dataclass(frozen=True)
class RevisionGoal:
    description: str
    need_area_label: str
    target_date: date | None


@dataclass(frozen=True)
class RevisionAction:
    description: str
    performer: str  # Performer code
    performer_detail: str
    due_on: date | None
    goal_description: str


@dataclass(frozen=True)
class RevisionCommitment:
    party: str  # Performer code
    text: str


@dataclass(frozen=True)
class RevisionView:
    number: int
    created_at: datetime
    signed_on: date | None
    signed_by: str
    is_signed: bool
    goals: tuple[RevisionGoal, ...]
    actions: tuple[RevisionAction, ...]
    commitments: tuple[RevisionCommitment, ...]


@dataclass(frozen=True)
class SignaturePanel:
    latest: RevisionView | None
    changed_since_latest: bool  # goals, actions or commitments differ from the latest revision
    ready_to_prepare: bool  # there is something new to freeze: at least one goal and one action, changed
    awaiting_signature: bool  # the latest revision is a draft printed for signature
    needed_for: tuple[str, ...]


@dataclass(frozen=True)
class FollowUpPanel:
    contacts: tuple[FollowUpContact, ...]  # newest first
    needed_for: tuple[str, ...]
    regular_contacts: bool  # the current stage counts a deadline from the last contact
    contact_due_on: date | None = None  # the local day the next contact is due by, at such a stage
    contact_days: int | None = None  # that deadline in calendar days from the last contact, when so counted
    # The latest contact plans the next one after that day: the deadline would be missed.
    planned_after_deadline: bool = False


@dataclass(frozen=True)
class OutcomePanel:
    options: tuple[Choice, ...]
    recorded: PactOutcome | None
    recorded_label: str
    needed_for: tuple[str, ...]


@dataclass(frozen=True)
class ApprovalView:
    """Where the latest revision stands with the supervisor, when the workflow asks for approval.

    status: "not_prepared", "waiting", "approved" or "sent_back".
    """

    status: str
    revision_number: int | None
    decided_by: str
    decided_at: datetime | None
    comment: str
    unlocks: tuple[str, ...]  # labels of the moves that wait for the approval
    viewer_may_decide: bool  # a supervisor looking at a waiting pact: the approvals queue is theirs


@dataclass(frozen=True)
class PrintPage:
    workflow_label: str
    programme_name: str
    beneficiary: Beneficiary
    case_manager: User
    revision: RevisionView
    changed_since: bool  # goals, actions or commitments were changed after this revision was frozen


@dataclass(frozen=True)
class PactPage:
    header: Header
    events: tuple[PossibleEvent, ...]
    referral: ReferralPanel
    screening: ScreeningPanel
    co_design: CoDesignPanel
    signature: SignaturePanel
    follow_up: FollowUpPanel
    outcome: OutcomePanel
    approval: ApprovalView | None
    parts: tuple[str, ...] = PARTS  # every part, the current stage's work first
    current_parts: tuple[str, ...] = ()  # the parts where something is to be done for the next moves

    @property
    def editable(self) -> bool:
        """Forms are offered while the pact is open; a closed pact changes only by reopening it."""
        return self.header.is_open

    @property
    def forward_moves(self) -> tuple[PossibleEvent, ...]:
        """Moves possible now along the workflow's usual path: the header's main buttons."""
        return tuple(event for event in self.events if event.available and not event.destructive)

    @property
    def moves_apart(self) -> tuple[PossibleEvent, ...]:
        """Moves possible now that leave the usual path (suspend, withdraw): set apart, in red."""
        return tuple(event for event in self.events if event.available and event.destructive)

    @property
    def waiting_moves(self) -> tuple[PossibleEvent, ...]:
        """Moves not possible yet, each with what is missing."""
        return tuple(event for event in self.events if not event.available)


# What the pact page reads of the pact, loaded with it: the single rows joined into the pact's
# own statement, each list in one statement, instead of one lazy load per attribute on first use.
PAGE_LOADS = (
    joinedload(Pact.programme), joinedload(Pact.beneficiary), joinedload(Pact.outcome), joinedload(Pact.referral),
    selectinload(Pact.screenings), selectinload(Pact.goals), selectinload(Pact.actions),
    selectinload(Pact.commitments), selectinload(Pact.revisions), selectinload(Pact.contacts),
    selectinload(Pact.members).joinedload(PactMember.user),
)


def pact_page(
    session: Session, registry: WorkflowRegistry, user: User, pact: Pact, *, now: datetime, locale: str,
    zone: ZoneInfo,
) -> PactPage:
    """The pact page for `user`, who may see the pact (the caller checked, via casework.security.access)."""
    definition = registry.engine_for(pact).definition
    statuses = event_statuses(registry, pact, Clock(now, zone))
    events = tuple(_possible_event(definition, pact, status.event, status.unmet, locale) for status in statuses)
    waiting = _waiting_panels(statuses, locale)
    questionnaire = definition.questionnaire
    header = _header(session, definition, pact, user, now=now, locale=locale, zone=zone)
    current = _current_parts(pact, waiting, regular_contacts=_counts_from_last_contact(definition, pact.state))
    # With nothing held back, the stage's own part still comes first, but nothing is "to do" in it.
    to_do = current if (set(current) & set(waiting)) or _counts_from_last_contact(definition, pact.state) else ()
    return PactPage(
        header=header,
        events=events,
        referral=ReferralPanel(referral=pact.referral, needed_for=waiting.get("referral", ())),
        screening=_screening_panel(questionnaire, pact, locale, waiting.get("screening", ())),
        co_design=_co_design_panel(questionnaire, pact, locale, waiting.get("co_design", ())),
        signature=_signature_panel(questionnaire, pact, locale, waiting.get("signature", ())),
        follow_up=_follow_up_panel(definition, pact, header, waiting.get("follow_up", ())),
        outcome=_outcome_panel(definition, pact, locale, waiting.get("outcome", ())),
        approval=_approval_view(session, registry, definition, pact, user, locale),
        parts=(*current, *(part for part in PARTS if part not in current)),
        current_parts=to_do,
    )


def _current_parts(pact: Pact, waiting: dict[str, tuple[str, ...]], *, regular_contacts: bool) -> tuple[str, ...]:
    """Where the current stage's work is done: the parts the held-back moves wait for, else the stage's own."""
    if not pact.is_open:
        return ("outcome",) if pact.outcome is not None else ("timeline",)
    parts = [part for part in PARTS if part in waiting]
    if "signature" in parts and "co_design" in parts and pact.goals and pact.actions:
        # Goals and actions are written: what the move waits for now is the signature.
        parts.remove("signature")
        parts.insert(parts.index("co_design"), "signature")
    if regular_contacts and "follow_up" not in parts:
        parts.insert(0, "follow_up")
    if not parts:
        parts = [_STAGE_PARTS.get(pact.state, "timeline")]
    return tuple(parts)


def _follow_up_panel(
    definition: WorkflowDefinition, pact: Pact, header: Header, needed_for: tuple[str, ...]
) -> FollowUpPanel:
    contacts = tuple(reversed(pact.contacts))
    regular = _counts_from_last_contact(definition, pact.state)
    due_on = next((deadline.due_on for deadline in header.deadlines if deadline.from_last_contact), None)
    rule = next((rule for rule in definition.states[pact.state].deadlines if rule.anchor == "last_contact"), None)
    planned = contacts[0].next_contact_on if contacts else None
    return FollowUpPanel(
        contacts=contacts, needed_for=needed_for, regular_contacts=regular, contact_due_on=due_on,
        contact_days=rule.amount if rule is not None and rule.unit == "days" else None,
        planned_after_deadline=due_on is not None and planned is not None and planned > due_on,
    )


def stage_label(registry: WorkflowRegistry, pact: Pact, locale: str) -> str:
    return registry.engine_for(pact).definition.label_of("state", pact.state, locale)


def reason_choices(event: EventDef, locale: str) -> tuple[Choice, ...]:
    return tuple(Choice(code, label_in(labels, locale)) for code, labels in event.reasons.items())


def _header(
    session: Session, definition: WorkflowDefinition, pact: Pact, user: User, *, now: datetime, locale: str,
    zone: ZoneInfo,
) -> Header:
    due_at = pact.next_deadline_at
    current = state_deadlines(session, definition, StatePosition.of(pact), zone) if pact.is_open else []
    deadlines = tuple(
        DeadlineView(label=label_in(deadline.rule.label, locale), due_on=deadline.due_on,
                     overdue=not deadline.paused and deadline.due_at < now, paused=deadline.paused,
                     from_last_contact=deadline.rule.anchor == "last_contact")
        for deadline in current
    )
    # The next deadline's words from the rule computed above: a referral's names its service.
    next_rule = next((d.rule for d in current if d.rule.id == pact.next_deadline_label), None)
    workflow_label = label_in(definition.label, locale)
    programme_name = pact.programme.name
    deadline_on = due_at.astimezone(zone).date() if due_at else None
    days = days_until(deadline_on, now, zone) if deadline_on else 0
    return Header(
        pact_id=pact.id, version=pact.version, beneficiary_id=pact.beneficiary_id,
        beneficiary_name=pact.beneficiary.full_name, programme_name=programme_name,
        workflow_label=workflow_label,
        programme_label=_programme_label(programme_name, workflow_label), state=pact.state,
        stage_label=definition.label_of("state", pact.state, locale), is_open=pact.is_open,
        priority=pact.priority.value if pact.priority else None, case_manager_name=pact.case_manager.full_name,
        viewer_is_case_manager=pact.case_manager_id == user.id, opened_at=pact.opened_at, closed_at=pact.closed_at,
        deadline_label=(label_in(next_rule.label, locale) if next_rule else
                        definition.label_of("deadline", pact.next_deadline_label, locale)) if due_at else "",
        deadline_on=deadline_on,
        overdue=due_at is not None and due_at < now,
        deadline_state=deadline_state(due_at, now, zone), deadline_days=days, deadlines=deadlines,
        stage_reason=_stage_reason(session, definition, pact, locale),
    )


def _programme_label(programme: str, workflow: str) -> str:
    """The programme once: "TILDE", not "TILDE — TILDE" when the workflow is named after it."""
    if not workflow or workflow.casefold() in programme.casefold():
        return programme
    if programme.casefold() in workflow.casefold():
        return workflow
    return f"{programme} · {workflow}"


def _stage_reason(session: Session, definition: WorkflowDefinition, pact: Pact, locale: str) -> str:
    entered = session.execute(
        select(TransitionRecord.event, TransitionRecord.reason)
        .where(TransitionRecord.pact_id == pact.id).order_by(TransitionRecord.id.desc()).limit(1)
    ).first()
    return definition.label_of("reason", entered.reason, locale, event=entered.event) if entered else ""


def _possible_event(
    definition: WorkflowDefinition, pact: Pact, event: EventDef, unmet: tuple[Guard, ...], locale: str
) -> PossibleEvent:
    missing = tuple(guard.message(locale) for guard in unmet if guard.name not in _GIVEN_WITH_THE_MOVE)
    if event.returns_to_previous:
        target = definition.states.get(pact.entered_from or "")
    else:
        target = definition.states[event.target]
    return PossibleEvent(
        name=event.name, label=label_in(event.label, locale),
        target_label=label_in(target.label, locale) if target else "",
        available=not missing, needs_comment=COMMENT_GUARD in event.guards,
        reason_choices=reason_choices(event, locale), missing=missing,
        destructive=not event.returns_to_previous and event.target not in main_path(definition),
    )


def _approval_view(
    session: Session, registry: WorkflowRegistry, definition: WorkflowDefinition, pact: Pact, user: User,
    locale: str,
) -> ApprovalView | None:
    status = approval_status(session, registry, pact)
    if status is None:
        return None
    unlocks = tuple(
        label_in(event.label, locale) for event in definition.events_from(pact.state) if APPROVAL_GUARD in event.guards
    )
    return ApprovalView(
        status=status.status, revision_number=status.revision_number, decided_by=status.decided_by,
        decided_at=status.decided_at, comment=status.comment, unlocks=unlocks,
        viewer_may_decide=status.waiting and user.role == Role.SUPERVISOR,
    )


def _waiting_panels(statuses: list[EventStatus], locale: str) -> dict[str, tuple[str, ...]]:
    """Panel -> labels of the events that wait for something recorded in it."""
    waiting: dict[str, list[str]] = {}
    for status in statuses:
        label = label_in(status.event.label, locale)
        for guard in status.unmet:
            for panel in GUARD_PANELS.get(guard.name, ()):
                if label not in waiting.setdefault(panel, []):
                    waiting[panel].append(label)
    return {panel: tuple(labels) for panel, labels in waiting.items()}


def _area_label(questionnaire: Questionnaire | None, area: str, locale: str) -> str:
    if questionnaire is None or area not in questionnaire.need_areas:
        return area
    return label_in(questionnaire.need_areas[area], locale)


def need_area_choices(questionnaire: Questionnaire | None, locale: str) -> tuple[Choice, ...]:
    if questionnaire is None:
        return ()
    return tuple(Choice(area, label_in(labels, locale)) for area, labels in questionnaire.need_areas.items())


# What a step of a scale means: scales score a need, from none (the lowest step) upwards.
_SCALE_WORDS = {
    4: (N_("no difficulty"), N_("slight difficulty"), N_("moderate difficulty"), N_("serious difficulty")),
    3: (N_("no difficulty"), N_("some difficulty"), N_("serious difficulty")),
    2: (N_("no difficulty"), N_("difficulty")),
}
_SCALE_ENDS = (N_("no difficulty"), N_("serious difficulty"))


def scale_steps(minimum: int, maximum: int, locale: str) -> tuple[Choice, ...]:
    """Each step of a scale with what it means ("0 = no difficulty" … "3 = serious difficulty")."""
    values = list(range(minimum, maximum + 1))
    words = _SCALE_WORDS.get(len(values))
    steps = []
    for index, value in enumerate(values):
        if words:
            meaning = gettext(locale, words[index])
        elif index in (0, len(values) - 1):
            meaning = gettext(locale, _SCALE_ENDS[0 if index == 0 else 1])
        else:
            meaning = ""
        steps.append(Choice(str(value), f"{value} = {meaning}" if meaning else str(value)))
    return tuple(steps)


def _question_view(questionnaire: Questionnaire, question: Question, locale: str) -> QuestionView:
    return QuestionView(
        id=question.id, label=label_in(question.label, locale), type=question.type, required=question.required,
        need_area=question.need_area, need_area_label=_area_label(questionnaire, question.need_area, locale),
        options=tuple(Choice(option.value, label_in(option.label, locale)) for option in question.options),
        minimum=question.minimum, maximum=question.maximum,
        steps=scale_steps(question.minimum, question.maximum, locale) if question.type == "scale" else (),
    )


def questionnaire_sections(questionnaire: Questionnaire, locale: str) -> tuple[SectionView, ...]:
    """The questionnaire as the reader sees it: what the screening form is built from."""
    return tuple(
        SectionView(id=section.id, label=label_in(section.label, locale),
                    questions=tuple(_question_view(questionnaire, q, locale) for q in section.questions))
        for section in questionnaire.sections
    )


def _answered(sections: tuple[SectionView, ...], answers: dict[str, Any]) -> tuple[AnsweredSection, ...]:
    result = []
    for section in sections:
        rows = []
        for question in section.questions:
            if question.id not in answers:
                continue
            value = answers[question.id]
            option = next((o.label for o in (*question.options, *question.steps) if o.value == str(value)
                           or o.value == value), "")
            rows.append(AnswerView(question_label=question.label, type=question.type, value=value, value_label=option))
        if rows:
            result.append(AnsweredSection(label=section.label, answers=tuple(rows)))
    return tuple(result)


def _screening_panel(
    questionnaire: Questionnaire | None, pact: Pact, locale: str, needed_for: tuple[str, ...]
) -> ScreeningPanel:
    latest = pact.latest_screening
    if questionnaire is None:
        return ScreeningPanel(defined=False, sections=(), latest=latest, answered=(), need_profile=(),
                              count=len(pact.screenings), needed_for=needed_for)
    sections = questionnaire_sections(questionnaire, locale)
    profile = tuple(
        NeedRow(area=area, label=_area_label(questionnaire, area, locale), score=score)
        for area, score in (latest.need_profile.items() if latest else ())
    )
    return ScreeningPanel(
        defined=True, sections=sections, latest=latest,
        answered=_answered(sections, latest.answers) if latest else (),
        need_profile=profile, count=len(pact.screenings), needed_for=needed_for,
    )


def _co_design_panel(
    questionnaire: Questionnaire | None, pact: Pact, locale: str, needed_for: tuple[str, ...]
) -> CoDesignPanel:
    goals = tuple(
        GoalView(goal=goal, need_area_label=_area_label(questionnaire, goal.need_area, locale) if goal.need_area else "",
                 actions=tuple(action for action in pact.actions if action.goal_id == goal.id))
        for goal in pact.goals
    )
    return CoDesignPanel(
        goals=goals, actions_without_goal=tuple(action for action in pact.actions if action.goal_id is None),
        commitments=tuple(pact.commitments), need_areas=need_area_choices(questionnaire, locale),
        needed_for=needed_for,
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def revision_view(questionnaire: Questionnaire | None, revision: PactRevision, locale: str) -> RevisionView:
    """A revision as frozen at the time, with today's labels for its codes."""
    content = revision.content
    goals_by_id = {goal["id"]: goal["description"] for goal in content.get("goals", [])}
    return RevisionView(
        number=revision.number, created_at=revision.created_at, signed_on=revision.signed_on,
        signed_by=revision.signed_by, is_signed=revision.is_signed,
        goals=tuple(
            RevisionGoal(description=goal["description"],
                         need_area_label=_area_label(questionnaire, goal["need_area"], locale) if goal["need_area"] else "",
                         target_date=_day(goal["target_date"]))
            for goal in content.get("goals", [])
        ),
        actions=tuple(
            RevisionAction(description=action["description"], performer=action["performer"],
                           performer_detail=action["performer_detail"], due_on=_day(action["due_on"]),
                           goal_description=goals_by_id.get(action["goal_id"], ""))
            for action in content.get("actions", [])
        ),
        commitments=tuple(RevisionCommitment(party=c["party"], text=c["text"]) for c in content.get("commitments", [])),
    )


def _signature_panel(
    questionnaire: Questionnaire | None, pact: Pact, locale: str, needed_for: tuple[str, ...]
) -> SignaturePanel:
    latest = pact.latest_revision
    changed = changed_since_latest_revision(pact)
    has_content = bool(pact.goals) and any(action.status != ActionStatus.CANCELLED for action in pact.actions)
    return SignaturePanel(
        latest=revision_view(questionnaire, latest, locale) if latest else None,
        changed_since_latest=changed, ready_to_prepare=changed and has_content,
        awaiting_signature=latest is not None and not latest.is_signed, needed_for=needed_for,
    )


def _counts_from_last_contact(definition: WorkflowDefinition, state: str) -> bool:
    return any(rule.anchor == "last_contact" for rule in definition.states[state].deadlines)


def outcome_choices(definition: WorkflowDefinition, locale: str) -> tuple[Choice, ...]:
    return tuple(Choice(code, label_in(labels, locale)) for code, labels in definition.outcomes.items())


def _outcome_panel(definition: WorkflowDefinition, pact: Pact, locale: str, needed_for: tuple[str, ...]) -> OutcomePanel:
    recorded = pact.outcome
    labels = definition.outcomes.get(recorded.outcome) if recorded else None
    return OutcomePanel(
        options=outcome_choices(definition, locale), recorded=recorded,
        recorded_label=label_in(labels, locale) if labels else (recorded.outcome if recorded else ""),
        needed_for=needed_for,
    )


def print_page(registry: WorkflowRegistry, pact: Pact, *, locale: str) -> PrintPage | None:
    """The latest revision laid out for signature, or None when none was prepared yet."""
    revision = pact.latest_revision
    if revision is None:
        return None
    definition = registry.engine_for(pact).definition
    return PrintPage(
        workflow_label=label_in(definition.label, locale), programme_name=pact.programme.name,
        beneficiary=pact.beneficiary, case_manager=pact.case_manager,
        revision=revision_view(definition.questionnaire, revision, locale),
        changed_since=changed_since_latest_revision(pact),
    )
