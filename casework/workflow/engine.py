"""One `transitions` Machine per workflow version, built once, fired on whichever pact is loaded.

The machine is definition-only (model=None): pacts are never registered with it, so firing
costs no per-row machine and the pact's `state` column is the only state there is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transitions import Machine
from transitions.core import Event, EventData, Transition

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


class _GuardedTransition(Transition):
    """A transition that has conditions and nothing else.

    Workflow files cannot declare callbacks, so the base class's chain of empty callback
    lists and debug logging around each move is skipped: it was most of the cost of firing.
    """

    def execute(self, event_data: EventData) -> bool:
        if not self._eval_conditions(event_data):
            return False
        event_data.machine.set_state(self.dest, event_data.model)
        return True


class _DirectEvent(Event):
    """Fires at once: our machines are not queued, so the queue wrapper is pure overhead."""

    def trigger(self, model: Any, *args: Any, **kwargs: Any) -> bool:
        return self._trigger(EventData(None, self, self.machine, model, args=args, kwargs=kwargs))


class _WorkflowMachine(Machine):
    transition_cls = _GuardedTransition
    event_cls = _DirectEvent


def _guard_condition(guard: Guard) -> Any:
    def condition(event_data: Any) -> bool:
        return guard.check(event_data.kwargs["ctx"])

    condition.__name__ = f"guard_{guard.name}"
    return condition


def _came_from(state: str) -> Any:
    def condition(event_data: Any) -> bool:
        return event_data.kwargs["ctx"].previous_state == state

    condition.__name__ = f"came_from_{state}"
    return condition


class WorkflowEngine:
    def __init__(self, definition: WorkflowDefinition):
        self.definition = definition
        transitions = []
        for event in definition.events.values():
            conditions = [_guard_condition(GUARDS[name]) for name in event.guards]
            for target in sorted(resolved_targets(event, definition.events)):
                extra = [_came_from(target)] if event.returns_to_previous else []
                transitions.append(
                    {"trigger": event.name, "source": list(event.sources), "dest": target, "conditions": conditions + extra}
                )
        self.machine = _WorkflowMachine(
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

    def get(self, name: str, version: int) -> WorkflowEngine:
        try:
            return self._engines[(name, version)]
        except KeyError:
            raise UnknownWorkflow(name, version) from None
