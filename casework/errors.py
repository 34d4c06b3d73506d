"""Errors the core raises for a caller to show a person; none of them means a bug."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol


class CaseworkError(Exception):
    """Base of the errors a person can act on."""


class Conflict(CaseworkError):
    """Someone else changed the record since it was read; nothing was overwritten.

    Every conflict of the core is one of these (casework.versioning raises them), so a caller
    answers them all alike: the web layer with 409 and the person's input kept.
    """

    record = "record"

    def __init__(self, record_id: int | None, expected_version: int | None = None,
                 actual_version: int | None = None):
        self.record_id = record_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        read = "" if expected_version is None else f" (you read version {expected_version}" + (
            f", it is now {actual_version})" if actual_version is not None else ")")
        super().__init__(f"{self.record} {record_id} was changed by someone else meanwhile{read}; reload and try again")


class PactConflict(Conflict):
    record = "pact"

    @property
    def pact_id(self) -> int | None:
        return self.record_id


class BeneficiaryConflict(Conflict):
    record = "beneficiary"

    @property
    def beneficiary_id(self) -> int | None:
        return self.record_id


class ProgrammeConflict(Conflict):
    record = "programme"

    @property
    def programme_id(self) -> int | None:
        return self.record_id


class RecordRestricted(CaseworkError):
    """A write to a person's record, or to one of their pacts, while the processing of their data
    is restricted (GDPR art. 18): nothing was written. Not a Conflict: reloading will not help
    until a supervisor lifts the restriction."""

    def __init__(self, beneficiary_id: int, *, restricted_by: str, restricted_at: datetime, reason: str):
        self.beneficiary_id = beneficiary_id
        self.restricted_by = restricted_by
        self.restricted_at = restricted_at
        self.reason = reason
        super().__init__(f"the record of person {beneficiary_id} is restricted since {restricted_at.isoformat()} "
                         f"by {restricted_by}: nothing about them may be written")


class EventNotAvailable(CaseworkError):
    """The event does not exist in the workflow, or not from the pact's current state."""

    def __init__(self, event: str, state: str, workflow: str):
        self.event = event
        self.state = state
        self.workflow = workflow
        super().__init__(f"{event!r} is not possible from state {state!r} in workflow {workflow!r}")


class ExplainsItself(Protocol):
    """An unmet condition (a workflow guard) that can say, in a language, what is missing."""

    def message(self, locale: str) -> str: ...


class TransitionRefused(CaseworkError):
    """The event exists from this state but conditions are unmet; `unmet` says which."""

    def __init__(self, event: str, unmet: Sequence[ExplainsItself]):
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
