"""One scale pact's history, planned as steps along its workflow, for `casework demo --scale`.

A plan is a list of steps `(gap, kind, data)`: `gap` is the number of days after the step
before (0: the same sitting, minutes later), `kind` what happens (a move of the workflow or a
record the move's guards need: the referral before leaving `referral`, the screening before
co-design, a signed revision before activation, a supervisor's approval before a CHANCE
accompaniment, a contact before a verification, the outcome before closing). The plans walk
the workflow files' own events, so every history is a valid path from the initial state;
tests/demo/test_scale.py replays each one through the engine's definition to make sure.
"""

from __future__ import annotations

import random

Step = tuple[int, str, tuple]

# Where open pacts stand, by weight: most are in the long running states.
PATTO_OPEN = (("referral", 6), ("screening", 8), ("co_design", 14), ("activation", 10), ("follow_up", 52),
              ("suspended", 10))
CHANCE_OPEN = (("referral", 6), ("equipe_review", 8), ("engagement", 12), ("individual_project", 14),
               ("accompaniment", 50), ("verification", 10))
# How closed pacts ended.
PATTO_CLOSED = (("closed", 62), ("withdrawn", 28), ("not_eligible", 10))
CHANCE_CLOSED = (("closed", 60), ("withdrawn", 28), ("not_taken_in", 12))

_PATTO_LINE = ("referral", "screening", "co_design", "activation", "follow_up")
_PATTO_EVENTS = {"screening": "start_screening", "co_design": "start_co_design", "activation": "activate",
                 "follow_up": "start_follow_up"}
_SUSPENDABLE = ("screening", "co_design", "activation", "follow_up")
# Histories average about ten moves: pauses (suspend and resume), the équipe's requests for more
# information, extended accompaniments, a closed pact reopened now and then.
_CYCLES = (0, 1, 2, 2, 3, 3, 4, 4, 5)
_REQUESTS = (0, 0, 1, 1, 2)
_EXTENSIONS = (0, 1, 2, 2, 3, 3)
REOPENED = 0.25


def _pick(rng: random.Random, weights: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([item for item, _ in weights], weights=[w for _, w in weights])[0]


class Planner:
    """Plans histories; `rng` is the load's seeded generator, so a seed gives the same data."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def final_state(self, chance: bool, open_: bool) -> str:
        if open_:
            return _pick(self.rng, CHANCE_OPEN if chance else PATTO_OPEN)
        return _pick(self.rng, CHANCE_CLOSED if chance else PATTO_CLOSED)

    # ---- the personalised pact ------------------------------------------------------------

    def patto(self, target: str, *, suspensions: int | None = None, reopen: bool = False) -> list[Step]:
        """Steps to `target` (a state of patto_personalizzato); open targets stop with part of the
        state's work done. `suspensions` forces that many suspend/resume cycles (a long history)."""
        rng = self.rng
        steps: list[Step] = [(0, "open", ()), (0, "referral", ())]
        if target == "withdrawn":
            stop = rng.choice(_PATTO_LINE + ("suspended",))
        elif target == "not_eligible":
            stop = "screening"
        elif target in ("closed", "suspended"):
            stop = "follow_up" if target == "closed" else rng.choice(_SUSPENDABLE)
        else:
            stop = target
        cycles = suspensions if suspensions is not None else rng.choice(_CYCLES)
        cycle_at = {rng.choice(_SUSPENDABLE) for _ in range(cycles)} if suspensions is None else set(_SUSPENDABLE)
        per_state = {state: 0 for state in _SUSPENDABLE}
        for index in range(cycles):
            per_state[sorted(cycle_at)[index % len(cycle_at)]] += 1
        signed = 0
        if stop == "suspended":  # withdrawn while suspended: suspended from somewhere first
            stop = rng.choice(_SUSPENDABLE)
            target_after = "suspend_then_withdraw"
        else:
            target_after = target
        for state in _PATTO_LINE[1:_PATTO_LINE.index(stop) + 1]:
            steps.append((rng.randint(1, 9), "move", (_PATTO_EVENTS[state], state)))
            last = state == stop
            open_here = last and target_after == state
            signed = self._patto_work(steps, state, partial=open_here, closing=last and target == "closed",
                                      signed=signed)
            for _ in range(0 if open_here or (last and target == "not_eligible") else per_state.get(state, 0)):
                steps.append((rng.randint(1, 20), "move", ("suspend", "suspended", "suspend")))
                steps.append((rng.randint(10, 50), "move", ("resume", state)))
        if target == "not_eligible":
            steps.append((rng.randint(1, 6), "move", ("declare_not_eligible", "not_eligible", "not_eligible")))
        elif target == "withdrawn":
            if target_after == "suspend_then_withdraw":
                steps.append((rng.randint(1, 20), "move", ("suspend", "suspended", "suspend")))
            steps.append((rng.randint(2, 40), "move", ("withdraw", "withdrawn", "withdraw")))
        elif target == "suspended":
            steps.append((rng.randint(1, 20), "move", ("suspend", "suspended", "suspend")))
        elif target == "closed":
            steps.append((rng.randint(1, 10), "outcome", ()))
            steps.append((0, "move", ("close", "closed")))
            if reopen:
                steps.append((rng.randint(20, 60), "move", ("reopen", "co_design", "reopen")))
                signed = self._patto_work(steps, "co_design", partial=False, closing=False, signed=signed,
                                          revising=True)
                for state in ("activation", "follow_up"):
                    steps.append((rng.randint(1, 9), "move", (_PATTO_EVENTS[state], state)))
                    self._patto_work(steps, state, partial=False, closing=state == "follow_up", signed=signed)
                steps.append((rng.randint(1, 10), "move", ("close", "closed")))
        return steps

    def _patto_work(self, steps: list[Step], state: str, *, partial: bool, closing: bool, signed: int,
                    revising: bool = False) -> int:
        rng = self.rng
        if state == "screening":
            if not partial or rng.random() < 0.5:
                steps.append((rng.randint(1, 6), "screening", ()))
        elif state == "co_design":
            signed = self._design(steps, partial, signed, revising)
        elif state == "activation":
            if not partial or rng.random() < 0.4:
                steps.append((rng.randint(2, 12), "action_start", ()))
        elif state == "follow_up":
            count = rng.randint(0, 4) if partial else rng.randint(1, 7)
            for _ in range(count):
                steps.append((rng.randint(18, 34), "contact", ()))
        return signed

    def _design(self, steps: list[Step], partial: bool, signed: int, revising: bool = False) -> int:
        """Goals, actions and commitments, then a revision prepared and signed; an open pact
        may stop anywhere along the way."""
        rng = self.rng
        work: list[Step] = []
        if not revising:
            for _ in range(rng.choice((1, 2, 2, 3))):
                work.append((rng.randint(1, 5), "goal", ()))
                work.append((0, "action", ()))
            for _ in range(2):
                work.append((0, "commitment", ()))
        else:
            work.append((rng.randint(1, 8), "goal", ()))
            work.append((0, "action", ()))
        work.append((rng.randint(1, 6), "revision", ()))
        work.append((rng.randint(1, 8), "signature", ()))
        if partial:
            work = work[: rng.randint(0, len(work))]
        steps.extend(work)
        return signed + (1 if work and work[-1][1] == "signature" else 0)

    # ---- CHANCE ---------------------------------------------------------------------------

    def chance(self, target: str, *, extensions: int | None = None) -> list[Step]:
        rng = self.rng
        steps: list[Step] = [(0, "open", ()), (0, "referral", ())]
        if target == "withdrawn":
            stop = rng.choice(("referral", "equipe_review", "engagement", "individual_project", "accompaniment",
                               "verification"))
        elif target == "not_taken_in":
            stop = "equipe_review"
        elif target == "closed":
            stop = "verification"
        else:
            stop = target
        order = ("referral", "equipe_review", "engagement", "individual_project", "accompaniment", "verification")
        last_index = order.index(stop)
        open_ = target == stop
        # The équipe asks the referrer for more information now and then: back to referral.
        for _ in range(rng.choice(_REQUESTS) if last_index >= 1 else 0):
            steps.append((rng.randint(1, 5), "move", ("submit_to_equipe", "equipe_review")))
            steps.append((rng.randint(2, 8), "move", ("request_information", "referral", "request_information")))
        if last_index >= 1:
            steps.append((rng.randint(1, 5), "move", ("submit_to_equipe", "equipe_review")))
            members = rng.randint(0, 2) if open_ and stop == "equipe_review" else rng.randint(1, 3)
            for _ in range(members):
                steps.append((rng.randint(0, 3), "member", ()))
        if target == "not_taken_in":
            steps.append((rng.randint(2, 10), "move", ("decline_case", "not_taken_in", "decline_case")))
            return steps
        if last_index >= 2:
            steps.append((rng.randint(2, 10), "move", ("take_in", "engagement")))
            if not (open_ and stop == "engagement") or rng.random() < 0.5:
                steps.append((rng.randint(3, 15), "screening", ()))
        if last_index >= 3:
            steps.append((rng.randint(1, 10), "move", ("start_project", "individual_project")))
            partial = open_ and stop == "individual_project"
            signed = self._design(steps, partial, 0)
            if signed and (not partial or rng.random() < 0.4):
                steps.append((rng.randint(1, 7), "approval", ()))
        if last_index >= 4:
            extend = extensions if extensions is not None else rng.choice(_EXTENSIONS)
            rounds = extend + 1 if stop == "verification" else 1
            for round_ in range(rounds):
                if round_ == 0:
                    steps.append((rng.randint(1, 7), "move", ("start_accompaniment", "accompaniment")))
                    steps.append((rng.randint(1, 6), "action_start", ()))
                else:
                    steps.append((rng.randint(2, 10), "move", ("extend", "accompaniment", "extend")))
                at_end = round_ == rounds - 1 and stop == "accompaniment"
                count = rng.randint(0, 4) if at_end and open_ else rng.randint(2, 8)
                for _ in range(count):
                    steps.append((rng.randint(9, 16), "contact", ()))
                if stop == "verification":
                    steps.append((rng.randint(1, 10), "move", ("verify", "verification")))
        if target == "closed":
            steps.append((rng.randint(2, 14), "outcome", ()))
            steps.append((0, "move", ("close", "closed")))
        elif target == "withdrawn":
            steps.append((rng.randint(2, 30), "move", ("withdraw", "withdrawn", "withdraw")))
        return steps
