"""Plans of the demo pacts' histories: sessions of steps separated by working days.

Each pact gets a plan that walks its workflow to the final state its scenario names, by the
way its variant says (reopened, resumed, sent back...). The loader then dates the sessions
back from today so that the current deadline falls where the scenario wants it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from casework.demo.steps import Case, Op, Steps
from casework.demo.tables import (
    CHANCE_WITHDRAW_REASONS,
    DECLINE_REASONS,
    EXTEND_REASONS,
    NOT_ELIGIBLE_REASONS,
    REOPEN_REASONS,
    REQUEST_INFO_REASONS,
    RESUME_REASONS,
    SUSPEND_REASONS,
    WITHDRAW_REASONS,
)
from casework.models import ApprovalDecision


@dataclass
class PlanSession:
    gap: int  # working days after the previous session (0: same day)
    ops: list[Op]


@dataclass
class Plan:
    sessions: list[PlanSession] = field(default_factory=list)
    anchor: int | None = None  # session whose age sets the current deadline

    def add(self, gap: int, *steps: Op) -> None:
        self.sessions.append(PlanSession(gap if self.sessions else 0, list(steps)))

    def mark(self) -> None:
        self.anchor = len(self.sessions) - 1


class Plans(Steps):
    """The plan of each pact's history, as methods of the loader."""

    # ---- patto personalizzato -------------------------------------------------------------

    def _patto_plan(self, case: Case) -> Plan:
        rng = self.rng
        p = Plan()
        final, variant = case.final, case.variant
        g = rng.randint
        order = ["referral", "screening", "co_design", "activation", "follow_up", "closed"]
        side_from: str | None = None
        if final in ("suspended", "withdrawn"):
            options = ["screening", "co_design", "activation", "follow_up"]
            if final == "withdrawn":
                options += ["referral", "suspended"]
            side_from = variant if variant not in (None, "any") else rng.choice(options)
        if final == "withdrawn" and side_from == "suspended":
            suspended_from = rng.choice(["screening", "co_design", "activation", "follow_up"])
            stop = suspended_from
        else:
            suspended_from = None
            stop = side_from or final
        if final == "not_eligible":
            stop = "screening"
        if variant == "reopened":
            stop = "closed"
        stop_index = order.index(stop)

        opening: list[Op] = [self._op_open(case)]
        if not (final == "referral" and rng.random() < 0.25):
            opening.append(self._op_referral(case))
        if case.spec.code in ("SISACT", "RICOMINCIO") and rng.random() < 0.7:
            opening.append(self._op_external_member(case))
        p.add(0, *opening)
        if final in ("referral", "screening"):
            p.mark()  # their deadline counts from the opening
        if stop_index >= 1:
            p.add(g(1, 4), self._op_transition(case, "start_screening"))
            if stop == "screening" and (final == "not_eligible" or rng.random() < 0.5):
                p.add(g(0, 3), self._op_screening(case))
        if stop_index >= 2:
            p.add(g(1, 5), self._op_screening(case), self._op_transition(case, "start_co_design"))
            if final == "co_design" and variant is None:
                p.mark()
            if stop == "co_design":
                if rng.random() < 0.7:
                    p.add(g(2, 8), self._op_design(case, partial=True))
            else:
                design: list[Op] = [self._op_design(case)]
                if case.spec.code == "FEMMINILI_PLURALI" and case.person.migrant and rng.random() < 0.4:
                    design.append(self._op_mediator(case))
                p.add(g(3, 10), *design)
        if stop_index >= 3:
            p.add(g(2, 8), self._op_sign(case), self._op_transition(case, "activate"))
            if final == "activation" and variant is None:
                p.mark()
            if stop == "activation" and rng.random() < 0.4:
                p.add(g(1, 6), self._op_start_action(case))
        if stop_index >= 4:
            p.add(g(2, 10), self._op_start_action(case), self._op_transition(case, "start_follow_up"))
            contacts = g(2, 5) if stop == "closed" else g(0, 4)
            pause_at = g(0, max(0, contacts - 1)) if variant == "resumed" else -1
            for number in range(contacts):
                p.add(g(14, 22), self._op_contact(case, progress=rng.random() < 0.4))
                if number == pause_at:
                    p.add(g(2, 10), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
                    p.add(g(10, 35), self._op_transition(case, "resume", rng.choice(RESUME_REASONS)), self._op_contact(case))
            if stop == "follow_up" and variant == "resumed" and contacts == 0:
                p.add(g(2, 10), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
                p.add(g(10, 35), self._op_transition(case, "resume", rng.choice(RESUME_REASONS)))
        if stop_index >= 5:
            p.add(g(3, 15), self._op_contact(case, closing=True), self._op_outcome(case), self._op_transition(case, "close"))
        # side exits and returns
        if final == "not_eligible":
            p.add(g(0, 4), self._op_transition(case, "declare_not_eligible", rng.choice(NOT_ELIGIBLE_REASONS)))
        elif final == "suspended":
            p.add(g(2, 12), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
            p.mark()
        elif final == "withdrawn":
            if suspended_from is not None:
                p.add(g(2, 12), self._op_transition(case, "suspend", self._reason(case, SUSPEND_REASONS)))
            p.add(g(3, 25), self._op_withdraw(case, WITHDRAW_REASONS))
        elif variant == "reopened":
            p.add(g(10, 40), self._op_transition(case, "reopen", rng.choice(REOPEN_REASONS)))
            if final == "co_design":
                p.mark()
                if rng.random() < 0.5:
                    p.add(g(2, 8), self._op_design(case, partial=True))
            else:  # a revised pact, signed as revision 2 and activated again
                p.add(g(3, 10), self._op_design(case, partial=True, with_action=True))
                p.add(g(2, 6), self._op_sign(case), self._op_transition(case, "activate"))
                p.mark()
        if final == "follow_up":
            p.mark()  # the next contact counts from the last one
        return p

    # ---- CHANCE ---------------------------------------------------------------------------

    def _chance_plan(self, case: Case) -> Plan:
        rng = self.rng
        p = Plan()
        final, variant = case.final, case.variant
        g = rng.randint
        withdraw_from = None
        if final == "withdrawn":
            options = ["referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification"]
            withdraw_from = variant if variant not in (None, "any") else rng.choice(options)
        stop = withdraw_from or final
        order = ["referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification", "closed"]
        if stop == "not_taken_in" or variant == "info_requested":
            stop_index = 1
        else:
            stop_index = order.index(stop)

        opening: list[Op] = [self._op_open(case)]
        if not (final == "referral" and variant is None and rng.random() < 0.3):
            opening.append(self._op_referral(case))
        p.add(0, *opening)
        if final == "referral" and variant is None:
            p.mark()
        if stop_index >= 1:
            p.add(g(1, 4), self._op_transition(case, "submit_to_equipe"))
            if final == "equipe_review":
                p.mark()
            members = [self._op_equipe_user(case)] + [self._op_external_member(case) for _ in range(g(1, 2))]
            if final == "equipe_review" and rng.random() < 0.4:
                members = []
            if members:
                p.add(g(1, 4), *members)
            if variant == "info_requested":
                p.add(g(1, 5), self._op_transition(case, "request_information", rng.choice(REQUEST_INFO_REASONS)))
                if final == "referral":
                    p.mark()
                else:
                    p.add(g(2, 8), self._op_referral(case, update=True), self._op_transition(case, "submit_to_equipe"))
            if final == "not_taken_in":
                p.add(g(1, 6), self._op_transition(case, "decline_case", rng.choice(DECLINE_REASONS)))
        if stop_index >= 2:
            p.add(g(0, 3), self._op_transition(case, "take_in"))
            if final == "engagement":
                p.mark()
                if rng.random() < 0.6:
                    p.add(g(3, 10), self._op_screening(case))
            else:
                p.add(g(3, 10), self._op_screening(case))
        if stop_index >= 3:
            p.add(g(1, 5), self._op_transition(case, "start_project"))
            if final == "individual_project":
                p.mark()
                if variant in ("awaiting_approval", "sent_back"):
                    p.add(g(3, 10), self._op_design(case))
                    p.add(g(2, 6), self._op_sign(case))
                if variant == "sent_back":
                    p.add(g(1, 4), self._op_decide(case, ApprovalDecision.SENT_BACK))
                    p.add(g(2, 6), self._op_design(case, partial=True, with_action=True), self._op_sign(case))
                elif variant is None and rng.random() < 0.7:
                    p.add(g(3, 10), self._op_design(case, partial=rng.random() < 0.5))
            else:
                p.add(g(3, 10), self._op_design(case))
        if stop_index >= 4:
            # The coordinator approves the signed project before the accompaniment starts.
            p.add(g(3, 10), self._op_sign(case), self._op_start_action(case))
            p.add(g(1, 3), self._op_decide(case, ApprovalDecision.APPROVED), self._op_transition(case, "start_accompaniment"))
            rounds = 2 if variant == "extended" else 1
            for round_ in range(rounds):
                contacts = g(1, 4) if (stop == "accompaniment" and round_ == rounds - 1) else g(3, 6)
                for _ in range(contacts):
                    p.add(g(7, 11), self._op_contact(case, progress=rng.random() < 0.3))
                if round_ < rounds - 1 or stop_index >= 5:
                    p.add(g(1, 5), self._op_transition(case, "verify"))
                if round_ < rounds - 1:
                    p.add(g(2, 10), self._op_transition(case, "extend", rng.choice(EXTEND_REASONS)))
            if final == "verification":
                p.mark()
        if stop_index >= 6:
            p.add(g(2, 12), self._op_outcome(case), self._op_transition(case, "close"))
        if final == "withdrawn":
            p.add(g(3, 20), self._op_withdraw(case, CHANCE_WITHDRAW_REASONS))
        if final == "accompaniment":
            p.mark()
        return p
