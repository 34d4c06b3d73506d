"""One way for a view to save: run one core operation, commit, or say why nothing was saved.

`save` runs the operation in the request's session and then:
- it succeeded: commits, and answers what the view says (usually a flash and a redirect:
  post/redirect/get);
- someone else saved first (a Conflict of the core, or a StaleDataError that escaped it):
  rolls back and answers 409 with the page the view renders, the person's input kept;
- the input breaks a rule (InvalidInput): rolls back and answers 422, the errors next to
  their fields;
- another refusal the view names (`refused`): rolls back and answers what the view says.

Views that only record a reading (the access log, a feed's last use) call `commit`; one
that discards what it started calls `roll_back`. A conflict that escapes a view anyway is
answered by casework.web.errors with the generic conflict page (409), never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import flash, make_response
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.versioning import conflict_from
from casework.web import context

Result = TypeVar("Result")

CONFLICT = 409
INVALID = 422


def save(
    write: Callable[[], Result],
    *,
    done: Callable[[Result], ResponseReturnValue],
    conflict: Callable[[Conflict], ResponseReturnValue] | None = None,
    invalid: Callable[[InvalidInput], ResponseReturnValue] | None = None,
    refused: Mapping[type[Exception], Callable[[Any], ResponseReturnValue]] | None = None,
) -> ResponseReturnValue:
    """Run `write()` (one core operation) and commit it, or answer with the view's page.

    `conflict` and `invalid` render the page again; their status is set here (409, 422).
    A view whose operation cannot conflict leaves `conflict` out: should one happen, the
    generic conflict page answers. Without `invalid`, InvalidInput is raised on. A `refused`
    handler answers its error (InvalidInput included) with the status it chooses, e.g. a
    redirect.
    """
    handlers = dict(refused or {})
    try:
        result = write()
        commit()
    except (Conflict, StaleDataError, InvalidInput, *handlers) as error:
        roll_back()
        handler = next((handler for kind, handler in handlers.items() if isinstance(error, kind)), None)
        if handler is not None:
            return handler(error)
        if isinstance(error, InvalidInput):
            if invalid is None:
                raise
            return _with_status(invalid(error), INVALID)
        found = error if isinstance(error, Conflict) else conflict_from(error)
        if conflict is None:
            raise found from None
        return _with_status(conflict(found), CONFLICT)
    return done(result)


def commit() -> None:
    """Commit what the request recorded; a write someone else overtook raises its Conflict."""
    try:
        context.db().commit()
    except StaleDataError as error:
        roll_back()
        raise conflict_from(error) from None


def roll_back() -> None:
    """Discard what the request started: nothing half-done may ride along with a later commit."""
    context.db().rollback()


def _with_status(answer: ResponseReturnValue, status: int) -> Response:
    response = make_response(answer)
    response.status_code = status
    return response


def show_errors(
    form: Any, error: InvalidInput, messages: Mapping[str, Any], *,
    field_for: Callable[[str], Any] | None = None,
) -> None:
    """Each of the core's error codes next to its field, in the words `messages` gives for it;
    an error about no field of the form is flashed above it."""
    for name, code in error.errors.items():
        message = messages.get(code, _l("This value is not accepted."))
        field = field_for(name) if field_for is not None else getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            flash(str(message), "error")
