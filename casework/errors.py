"""Errors the core raises for a caller to show a person; none of them means a bug."""

from __future__ import annotations

from casework.workflow.guards import Guard


class CaseworkError(Exception):
    """Base of the errors a person can act on."""


class PactConflict(CaseworkError):
    """Someone else changed the pact since it was read; nothing was overwritten."""

    def __init__(self, pact_id: int, expected_version: int | None = None, actual_version: int | None = None):
        self.pact_id = pact_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"pact {pact_id} was changed by someone else meanwhile "
            f"(you read version {expected_version}, it is now {actual_version}); reload and try again"
        )


class EventNotAvailable(CaseworkError):
    """The event does not exist in the workflow, or not from the pact's current state."""

    def __init__(self, event: str, state: str, workflow: str):
        self.event = event
        self.state = state
        self.workflow = workflow
        super().__init__(f"{event!r} is not possible from state {state!r} in workflow {workflow!r}")


class TransitionRefused(CaseworkError):
    """The event exists from this state but conditions are unmet; `unmet` says which."""

    def __init__(self, event: str, unmet: list[Guard]):
        self.event = event
        self.unmet = unmet
        super().__init__(f"{event!r} refused: " + "; ".join(g.message("en") for g in unmet))

    def messages(self, locale: str = "en") -> list[str]:
        return [guard.message(locale) for guard in self.unmet]


class UnknownWorkflow(CaseworkError):
    def __init__(self, name: str, version: int | None = None):
        super().__init__(f"no workflow {name!r}" + (f" version {version}" if version else ""))


class InvalidInput(CaseworkError):
    """Input that breaks a rule; `errors` maps field name -> error code for the form to translate."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(", ".join(f"{field}: {code}" for field, code in errors.items()))
