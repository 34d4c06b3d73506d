"""One `transitions` Machine per workflow version, built once, fired on whichever pact is loaded.

The machine is definition-only (model=None): pacts are never registered with it, so firing
costs no per-row machine and the pact's `state` column is the only state there is. Only the
library's public API is used (the Machine's documented arguments, conditions as callables
receiving the EventData, `machine.events[name].trigger(model, ...)`), so a minor release of
`transitions` cannot change what firing means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from transitions import EventData, Machine

from casework.errors import EventNotAvailable, TransitionRefused, UnknownWorkflow
from casework.workflow.definition import EventDef, WorkflowDefinition
from casework.workflow.guards import GUARDS, Guard, GuardContext
from casework.workflow.loader import WorkflowFileError, check_directory, resolved_targets


@dataclass(frozen=True)
class EventStatus:
    """An event possible from the pact's state, with the conditions it still lacks."""

    event: EventDef
    unmet: tuple[Guard, ...]

    @property
    def ready(self) -> bool:
        return not self.unmet


def _condition(guards: tuple[Guard, ...], came_from: str | None) -> Callable[[EventData], bool]:
    """A transition's one condition, given to the machine as a callable (send_event=True).

    All its guards, and for a return to the previous state whether the pact came from the
    transition's target. One callable rather than one per guard: the machine's bookkeeping
    around each condition costs more than the checks themselves.
    """

    def condition(event_data: EventData) -> bool:
        ctx: GuardContext = event_data.kwargs["ctx"]
        if came_from is not None and ctx.previous_state != came_from:
            return False
        for guard in guards:  # a loop, not all(): this runs at every event fired
            if not guard.check(ctx):
                return False
        return True

    names = [f"guard_{guard.name}" for guard in guards] + ([f"came_from_{came_from}"] if came_from else [])
    condition.__name__ = "_and_".join(names) or "always"
    return condition


class WorkflowEngine:
    def __init__(self, definition: WorkflowDefinition):
        self.definition = definition
        transitions = []
        for event in definition.events.values():
            guards = tuple(GUARDS[name] for name in event.guards)
            targets = resolved_targets(event, definition.events)
            # In the file's order of states, so the machine tries candidates in a stable order.
            for target in [state for state in definition.states if state in targets]:
                came_from = target if event.returns_to_previous else None
                transitions.append({
                    "trigger": event.name, "source": list(event.sources), "dest": target,
                    "conditions": [_condition(guards, came_from)],
                })
        # Built once per workflow version; pacts are never added to it (model=None).
        self.machine = Machine(
            model=None,
            states=list(definition.states),
            transitions=transitions,
            initial=None,
            auto_transitions=False,
            send_event=True,
            model_attribute="state",
            queued=False,
        )

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def version(self) -> int:
        return self.definition.version

    def _event(self, event: str, state: str) -> EventDef:
        definition = self.event_definition(event)
        if definition is None or state not in definition.sources:
            raise EventNotAvailable(event, state, self.definition.name)
        return definition

    def event_definition(self, event: str) -> EventDef | None:
        return self.definition.events.get(event)

    def unmet_guards(self, event: EventDef, ctx: GuardContext) -> tuple[Guard, ...]:
        return tuple(GUARDS[name] for name in event.guards if not GUARDS[name].check(ctx))

    def event_statuses(self, ctx: GuardContext) -> list[EventStatus]:
        """Every event possible from the pact's current state, in file order, with what it lacks."""
        return [
            EventStatus(event=event, unmet=self.unmet_guards(event, ctx))
            for event in self.definition.events_from(ctx.pact.state)
        ]

    def allowed_events(self, ctx: GuardContext) -> list[str]:
        """Names of the events that would succeed now: what the UI may offer."""
        return [status.event.name for status in self.event_statuses(ctx) if status.ready]

    def fire(self, event: str, ctx: GuardContext) -> tuple[str, str]:
        """Decide where `event` takes the pact; returns (from, to) without touching the pact.

        The machine checks the guards; only when it refuses are they evaluated again, to
        say which ones failed. The caller persists the move.
        """
        source = ctx.pact.state
        definition = self._event(event, source)
        cursor = _StateCursor(source)
        if self.machine.events[event].trigger(cursor, ctx=ctx):
            return source, cursor.state
        unmet = self.unmet_guards(definition, ctx)
        if unmet:
            raise TransitionRefused(event, list(unmet))
        # Only a return to a previous state gets here: the history names no candidate.
        raise EventNotAvailable(event, source, self.definition.name)


class _StateCursor:
    """What the machine moves: the state alone, so the ORM row changes only when persisted."""

    __slots__ = ("state",)

    def __init__(self, state: str):
        self.state = state


class RunsAWorkflow(Protocol):
    """What the registry needs of a pact: the workflow and version it runs under."""

    workflow_name: str
    workflow_version: int


class WorkflowRegistry:
    """Every loaded workflow version, each with its engine."""

    def __init__(self, definitions: Iterable[WorkflowDefinition]):
        self._engines: dict[tuple[str, int], WorkflowEngine] = {}
        for definition in definitions:
            self._engines[(definition.name, definition.version)] = WorkflowEngine(definition)

    @classmethod
    def from_directory(cls, directory: Path) -> WorkflowRegistry:
        """Load and validate every file; refuse (WorkflowFileError) if any is invalid."""
        definitions, problems = check_directory(directory)
        if problems:
            raise WorkflowFileError(problems)
        return cls(definitions)

    def names(self) -> list[str]:
        return sorted({name for name, _ in self._engines})

    def engines(self) -> list[WorkflowEngine]:
        return [self._engines[key] for key in sorted(self._engines)]

    def latest(self, name: str) -> WorkflowEngine:
        versions = [version for (n, version) in self._engines if n == name]
        if not versions:
            raise UnknownWorkflow(name)
        return self._engines[(name, max(versions))]

    def engine_for(self, pact: RunsAWorkflow) -> WorkflowEngine:
        """The engine of the workflow version the pact was opened under."""
        return self.get(pact.workflow_name, pact.workflow_version)

    def get(self, name: str, version: int) -> WorkflowEngine:
        try:
            return self._engines[(name, version)]
        except KeyError:
            raise UnknownWorkflow(name, version) from None
