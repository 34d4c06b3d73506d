"""The steps of a demo pact's history: each one a real operation of casework.pacts, run later.

A step is made now (drawing its texts when they do not depend on the moment) and run when
the loader replays the history in order, with a clock set to the step's moment
(`Op`). `Steps` is one part of the loader (casework.demo.loader), which gives it the
session, the workflows, the random generator, today's date, the time zone and the accounts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.demo.drawing import ascii_letters, weighted
from casework.demo.people import Person
from casework.demo.tables import (
    CHANCE_COMMITMENTS,
    CHANCE_CONTACTS,
    CHANCE_GOALS,
    EXTERNAL_MEMBERS,
    GOAL_NEEDS,
    ITALIAN_F,
    ITALIAN_M,
    ORIGINS,
    OUTCOME_NOTES,
    PACT_COMMITMENTS,
    PACT_CONTACTS,
    PACT_GOALS,
    PACT_OUTCOME_WEIGHTS,
    PROGRAMME_GOALS,
    REFERRALS,
    SCREENING_NOTES,
    SEND_BACK_COMMENTS,
    SERVICE_DETAILS,
    SURNAMES,
    ProgrammeSpec,
)
from casework.models import (
    Action,
    ActionStatus,
    ApprovalDecision,
    Beneficiary,
    ContactChannel,
    Gender,
    Goal,
    GoalsAchieved,
    ItemStatus,
    Pact,
    Performer,
    Programme,
    ReferralSource,
    Relation,
    User,
)
from casework.pacts import (
    add_action,
    add_commitment,
    add_goal,
    add_member,
    log_contact,
    open_pact,
    record_outcome,
    record_referral,
    record_screening,
    set_action_status,
    set_goal_status,
    sign_pact,
    transition_pact,
)
from casework.supervision import decide
from casework.workflow import Question, Questionnaire, WorkflowEngine, WorkflowRegistry

# A step: an operation run later, with a clock set to its moment.
Op = Callable[[Clock], None]


@dataclass
class Case:
    spec: ProgrammeSpec
    programme: Programme
    engine: WorkflowEngine
    manager: User
    person: Person
    final: str
    variant: str | None
    severity: float
    beneficiary: Beneficiary | None = None
    pact: Pact | None = None
    goals: list[Goal] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def is_chance(self) -> bool:
        return self.spec.workflow == "chance_dispersione"


class Steps:
    """The steps, as methods of the loader: `_op_...` make a step; the others draw its content."""

    session: Session
    registry: WorkflowRegistry
    rng: random.Random
    today: date
    zone: ZoneInfo
    users: dict[str, User]

    def _local_day(self, clock: Clock) -> date:
        return clock.now.astimezone(self.zone).date()

    def _op_open(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            pact = open_pact(
                self.session, self.registry, beneficiary=case.beneficiary, programme=case.programme,  # type: ignore[arg-type]
                case_manager=case.manager, actor=case.manager, clock=clock,
            )
            case.pact = pact
        return run

    def _op_referral(self, case: Case, update: bool = False) -> Op:
        def run(clock: Clock) -> None:
            female = case.person.gender == Gender.FEMALE
            options = [r for r in REFERRALS[case.spec.code] if self._fits(case, r[0])] or [
                r for r in REFERRALS[case.spec.code] if ("F" if female else "M") in r[0].split()[0]
            ]
            _, source, referrer, reason = self.rng.choice(options)
            if update and case.pact is not None and case.pact.referral is not None:
                source, referrer = case.pact.referral.source, case.pact.referral.referrer_name
                reason = case.pact.referral.reason + " Integrazione del segnalante: inviate le informazioni richieste dall'équipe."
            contact = "" if source == ReferralSource.SELF else f"segnalazioni.{ascii_letters(referrer)[:20] or 'servizio'}@example.org"
            record_referral(
                self.session, case.pact, source=source, reason=reason,  # type: ignore[arg-type]
                referred_on=self._local_day(clock) - timedelta(days=0 if update else self.rng.randint(0, 6)),
                referrer_name=referrer, referrer_contact=contact, actor=case.manager, clock=clock,
            )
        return run

    def _fits(self, case: Case, needs: str) -> bool:
        """Whether a text suits the person: genders first ("F", "M", "FM"), then tags."""
        person = case.person
        children = [m[3] for m in person.household if m[2] == Relation.CHILD and m[3] is not None]
        ages = [(self.today - born).days / 365.25 for born in children]
        checks = {
            "F": person.gender == Gender.FEMALE, "M": person.gender != Gender.FEMALE,
            "kids": bool(ages), "baby": any(age < 3 for age in ages), "schoolkid": any(6 <= age < 14 for age in ages),
            "single": not any(m[2] == Relation.PARTNER for m in person.household),
            "migrant": person.migrant, "l2": person.migrant and person.birth_place == person.citizenship,
            "permit": person.migrant and person.citizenship != "Italia",
        }
        tokens = needs.split()
        if tokens and set(tokens[0]) <= {"F", "M"}:
            if not any(checks[g] for g in tokens[0]):
                return False
            tokens = tokens[1:]
        return all(checks[token] for token in tokens)

    def _reason(self, case: Case, options: Sequence[tuple[str, str]]) -> str:
        return self.rng.choice([text for needs, text in options if self._fits(case, needs)])

    def _op_transition(self, case: Case, event: str, comment: str = "", reason: str | None = None) -> Op:
        def run(clock: Clock) -> None:
            transition_pact(self.session, self.registry, case.pact, event, actor=case.manager, clock=clock,  # type: ignore[arg-type]
                                comment=comment, reason=reason)
        return run

    def _op_withdraw(self, case: Case, reasons: Sequence[tuple[str, str]]) -> Op:
        code, note = self.rng.choice(reasons)
        return self._op_transition(case, "withdraw", note, reason=code)

    def _op_decide(self, case: Case, decision: ApprovalDecision) -> Op:
        """The Lodi coordinator's decision on the project's latest revision."""
        comment = self.rng.choice(SEND_BACK_COMMENTS) if decision == ApprovalDecision.SENT_BACK else ""

        def run(clock: Clock) -> None:
            decide(self.session, self.registry, self.users["s.cremonesi"], case.pact, expected_version=None,  # type: ignore[arg-type]
                   decision=decision, comment=comment, now=clock.now)
        return run

    def _answer(self, question: Question, level: float, case: Case) -> object:
        rng = self.rng
        if question.type == "choice":
            options = sorted(question.options, key=lambda o: o.score)
            return options[min(len(options) - 1, max(0, round(level * (len(options) - 1))))].value
        if question.type == "boolean":
            return rng.random() < level * 0.8
        if question.type == "scale":
            return question.minimum + round(level * (question.maximum - question.minimum))
        if question.type == "number":
            return round(level * 2.4)
        return rng.choice([note for needs, note in SCREENING_NOTES if self._fits(case, needs)])

    def _answers(self, questionnaire: Questionnaire, case: Case) -> dict[str, object]:
        rng = self.rng
        person = case.person
        children = [m for m in person.household if m[2] == Relation.CHILD and m[3] and (self.today - m[3]).days < 14 * 365]
        hints: dict[str, object] = {}
        if person.migrant and person.birth_place == person.citizenship:
            hints["conoscenza_italiano"] = rng.choice((1, 1, 2, 2, 3)) if case.severity > 0.2 else 1
            hints["documenti_in_regola"] = rng.choice(("si", "si", "in_rinnovo", "in_rinnovo", "no"))
            hints["titolo_studio"] = rng.choice(("nessuno", "nessuno", "licenza_media", "diploma"))
        elif not person.migrant or person.citizenship == "Italia":
            hints["conoscenza_italiano"] = 0
            hints["documenti_in_regola"] = "si"
        if case.spec.code != "CHANCE":
            hints["carichi_cura"] = min(3, len(children)) if case.severity > 0.2 else min(1, len(children))
        answers: dict[str, object] = {}
        for question in questionnaire.questions:
            if question.type == "text" and not question.required and rng.random() < 0.6:
                continue
            hint = hints.get(question.id)
            if hint is not None and self._valid(question, hint):
                answers[question.id] = hint
                continue
            level = min(1.0, max(0.0, case.severity + rng.uniform(-0.3, 0.3)))
            answers[question.id] = self._answer(question, level, case)
        return answers

    @staticmethod
    def _valid(question: Question, value: object) -> bool:
        if question.type == "choice":
            return any(o.value == value for o in question.options)
        if question.type == "scale":
            return isinstance(value, int) and question.minimum <= value <= question.maximum
        return True

    def _op_screening(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            questionnaire = case.engine.definition.questionnaire
            if questionnaire is None:
                return
            record_screening(
                self.session, self.registry, case.pact, self._answers(questionnaire, case),  # type: ignore[arg-type]
                actor=case.manager, clock=clock,
            )
        return run

    def _goal_options(self, case: Case, area: str, used: set[str]) -> list[tuple[str, tuple[tuple[Performer, str, str], ...]]]:
        """Goals of the area that suit the person and are not in the pact yet, programme's own first."""
        if case.is_chance:
            banks = [CHANCE_GOALS.get(area, ())]
        else:
            banks = [PROGRAMME_GOALS.get(case.spec.code, {}).get(area, ()), PACT_GOALS.get(area, ())]
        for bank in banks:
            options = [e for e in bank if e[0] not in used and self._fits(case, GOAL_NEEDS.get(e[0], ""))]
            if options:
                return options
        return []

    def _areas(self, case: Case) -> list[str]:
        """Need areas for goals: the screening's highest scores first, then the programme's usual ones."""
        screening = case.pact.latest_screening if case.pact is not None else None
        profile = dict(screening.need_profile) if screening is not None else {}
        ranked = [area for area, score in sorted(profile.items(), key=lambda item: -item[1]) if score > 0]
        defaults = {
            "CHANCE": ["istruzione", "relazioni"], "RICOMINCIO": ["casa", "lavoro", "salute"],
            "SISACT": ["lavoro", "casa"],
        }.get(case.spec.code, ["lavoro", "relazioni", "istruzione"])
        areas: list[str] = []
        for area in ranked + defaults:
            if area not in areas and self._goal_options(case, area, set()):
                areas.append(area)
        return areas

    def _detail(self, case: Case, text: str) -> str:
        return text.format(**SERVICE_DETAILS.get(case.spec.code, SERVICE_DETAILS["TILDE"])) if "{" in text else text

    def _add_goal(self, case: Case, clock: Clock, area: str, used: set[str], with_actions: bool) -> None:
        rng = self.rng
        options = self._goal_options(case, area, used)
        if not options:
            return
        text, actions = rng.choice(options)
        used.add(text)
        day = self._local_day(clock)
        goal = add_goal(
            self.session, case.pact, description=text, need_area=area,  # type: ignore[arg-type]
            target_date=day + timedelta(days=rng.randint(60, 180)), clock=clock,
        )
        case.goals.append(goal)
        if not with_actions:
            return
        for performer, detail, description in actions[: rng.randint(1, min(2, len(actions)))]:
            case.actions.append(add_action(
                self.session, case.pact, description=description, performer=performer,  # type: ignore[arg-type]
                performer_detail=self._detail(case, detail), due_on=day + timedelta(days=rng.randint(10, 75)),
                goal=goal, clock=clock,
            ))

    def _op_design(self, case: Case, partial: bool = False, with_action: bool = False) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            areas = self._areas(case)
            used = {goal.description for goal in case.goals}
            if partial:
                fresh = [a for a in areas if self._goal_options(case, a, used)] or areas
                self._add_goal(case, clock, fresh[0] if not case.goals else rng.choice(fresh), used, with_actions=with_action or rng.random() < 0.5)
                return
            for area in areas[: rng.choice((1, 1, 2, 2, 2, 3))]:
                self._add_goal(case, clock, area, used, with_actions=True)
            commitments = CHANCE_COMMITMENTS if case.is_chance else PACT_COMMITMENTS
            parties = [Performer.BENEFICIARY, Performer.CASE_MANAGER]
            has_family = any(m[2] in (Relation.PARTNER, Relation.PARENT) for m in case.person.household)
            if case.is_chance or (has_family and rng.random() < 0.6):
                parties.append(Performer.FAMILY)
            if rng.random() < 0.4:
                parties.append(Performer.SERVICE)
            for party in parties:
                add_commitment(self.session, case.pact, party=party, text=rng.choice(commitments[party]), clock=clock)  # type: ignore[arg-type]
        return run

    def _ensure_action(self, case: Case, clock: Clock) -> None:
        """A pact is signed with at least one live action: complete a partial design if needed."""
        if any(a.status != ActionStatus.CANCELLED for a in case.actions):
            return
        used = {g.description for g in case.goals}
        for area in self._areas(case):
            self._add_goal(case, clock, area, used, with_actions=True)
            if any(a.status != ActionStatus.CANCELLED for a in case.actions):
                return
        goal = case.goals[-1] if case.goals else None
        case.actions.append(add_action(
            self.session, case.pact, description="Colloquio di verifica degli impegni del patto rivisto",  # type: ignore[arg-type]
            performer=Performer.CASE_MANAGER, due_on=self._local_day(clock) + timedelta(days=14), goal=goal, clock=clock,
        ))

    def _op_sign(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            pact = case.pact
            assert pact is not None
            self._ensure_action(case, clock)
            person = case.person
            if case.is_chance:
                parent = next((m for m in person.household if m[2] == Relation.PARENT), None)
                parent_text = f"; {parent[0]} {parent[1]} (genitore)" if parent else ""
                signed_by = f"{person.first} {person.last}{parent_text}; {case.manager.full_name} (tutor CHANCE)"
            else:
                signed_by = f"{person.first} {person.last}; {case.manager.full_name} (welfare manager di caso)"
            sign_pact(
                self.session, pact, signed_on=self._local_day(clock), signed_by=signed_by, consent_given=True,
                actor=case.manager, clock=clock, registry=self.registry,  # type: ignore[arg-type]
            )
        return run

    def _op_start_action(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            planned = [a for a in case.actions if a.status == ActionStatus.PLANNED]
            if planned and not any(a.status == ActionStatus.IN_PROGRESS for a in case.actions):
                set_action_status(self.session, planned[0], ActionStatus.IN_PROGRESS, clock=clock)
        return run

    def _op_contact(self, case: Case, progress: bool = False, closing: bool = False) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            pact = case.pact
            assert pact is not None
            said = {c.notes for c in pact.contacts[-2:]}
            options = [c for c in (CHANCE_CONTACTS if case.is_chance else PACT_CONTACTS) if self._fits(case, c[0]) and c[2] not in said]
            _, channel, notes = rng.choice(options)
            if closing:
                channel, notes = ContactChannel.IN_PERSON, "Colloquio di verifica finale: ripercorsi obiettivi e azioni del patto, condiviso l'esito."
            contact_at = max(clock.now - timedelta(minutes=rng.randint(0, 90)), pact.state_entered_at)
            every = case.programme.no_contact_days
            log_contact(
                self.session, self.registry, pact, contact_at=contact_at, channel=channel, notes=notes,
                next_contact_on=None if closing else contact_at.astimezone(self.zone).date() + timedelta(days=every),
                actor=case.manager, clock=clock,
            )
            if progress:
                running = [a for a in case.actions if a.status == ActionStatus.IN_PROGRESS]
                planned = [a for a in case.actions if a.status == ActionStatus.PLANNED]
                if running:
                    set_action_status(self.session, running[0], ActionStatus.DONE, clock=clock)
                if planned:
                    set_action_status(self.session, planned[0], ActionStatus.IN_PROGRESS, clock=clock)
        return run

    def _op_outcome(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            pact = case.pact
            assert pact is not None
            outcomes = case.engine.definition.outcomes
            weights = [(code, w) for code, w in PACT_OUTCOME_WEIGHTS.get(case.spec.code, ()) if code in outcomes]
            outcome = str(weighted(rng, weights)) if weights else next(iter(outcomes))
            if outcome in ("no_change", "dropped_out"):
                achieved = GoalsAchieved.NOT if rng.random() < 0.7 else GoalsAchieved.PARTLY
            elif outcome == "moved_away":
                achieved = GoalsAchieved.PARTLY if rng.random() < 0.5 else GoalsAchieved.NOT
            else:
                achieved = GoalsAchieved.FULLY if rng.random() < 0.6 else GoalsAchieved.PARTLY
            record_outcome(
                self.session, self.registry, pact, outcome=outcome, goals_achieved=achieved,
                notes=OUTCOME_NOTES.get(outcome, ""), actor=case.manager, clock=clock,
            )
            # Close the loose ends: actions done or cancelled, goals assessed.
            for index, action in enumerate(case.actions):
                if action.status in (ActionStatus.DONE, ActionStatus.CANCELLED):
                    continue
                done = achieved == GoalsAchieved.FULLY or (achieved == GoalsAchieved.PARTLY and index % 2 == 0)
                set_action_status(self.session, action, ActionStatus.DONE if done else ActionStatus.CANCELLED, clock=clock)
            for index, goal in enumerate(case.goals):
                if goal.status != ItemStatus.OPEN:
                    continue
                if achieved == GoalsAchieved.FULLY:
                    status = ItemStatus.ACHIEVED
                elif achieved == GoalsAchieved.PARTLY:
                    status = ItemStatus.ACHIEVED if index == 0 else ItemStatus.PARTLY_ACHIEVED
                else:
                    status = ItemStatus.NOT_ACHIEVED
                set_goal_status(self.session, goal, status, clock=clock)
        return run

    def _op_equipe_user(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            colleagues = [self.users[u] for u in case.spec.managers if self.users[u] is not case.manager]
            if colleagues and self.rng.random() < 0.6:
                user = colleagues[0]
                role = "educatrice dell'équipe CHANCE" if user.username == "a.boffelli" else "educatore dell'équipe CHANCE"
            else:
                user, role = self.users["s.cremonesi"], "coordinatrice dell'équipe"
            add_member(self.session, case.pact, role=role, user=user, clock=clock)  # type: ignore[arg-type]
        return run

    def _op_external_member(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            rng = self.rng
            code = case.spec.code
            male_role, female_role, organisation = rng.choice(EXTERNAL_MEMBERS[code])
            female = male_role is None or rng.random() < 0.7
            first = rng.choice(ITALIAN_F if female else ITALIAN_M)
            last = rng.choice(SURNAMES[case.spec.territory])
            add_member(
                self.session, case.pact, role=female_role if female else str(male_role),  # type: ignore[arg-type]
                external_name=f"{first} {last}", organisation=organisation,
                contact=f"{ascii_letters(first)}.{ascii_letters(last)}@example.org", clock=clock,
            )
        return run

    def _op_mediator(self, case: Case) -> Op:
        def run(clock: Clock) -> None:
            origin = ORIGINS.get(case.person.origin or "")
            name = f"{self.rng.choice(origin.women)} {self.rng.choice(origin.surnames)}" if origin else "Mediatrice del progetto"
            add_member(
                self.session, case.pact, role="mediatrice linguistico-culturale", external_name=name,  # type: ignore[arg-type]
                organisation="Renken Onlus", contact="mediazione@example.org", clock=clock,
            )
        return run
