"""What a request works with: the database session, the registry, the clock, the actor."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from casework.security.access import get_visible_pact
from casework.config import Settings
from casework.models import Pact, User
from casework.clock import Clock
from casework.workflow.engine import WorkflowRegistry


def settings() -> Settings:
    return current_app.extensions["casework"]["settings"]


def registry() -> WorkflowRegistry:
    return current_app.extensions["casework"]["registry"]


def db() -> Session:
    """The request's session; closed (and rolled back if uncommitted) when the request ends."""
    if "db" not in g:
        g.db = current_app.extensions["casework"]["session_factory"]()
    return g.db


def close_db(_: BaseException | None = None) -> None:
    session = g.pop("db", None)
    if session is not None:
        session.close()


def now() -> datetime:
    return datetime.now(timezone.utc)


def clock() -> Clock:
    return Clock(now(), settings().zone)


def actor() -> User:
    """The signed-in user, as a row of the request's session."""
    return current_user.user


def client_ip() -> str:
    return request.remote_addr or ""


def visible_pact(pact_id: int) -> Pact:
    """The pact if the signed-in user may see it; otherwise 404, the same for "not yours" as
    for "does not exist", so ids leak nothing."""
    pact = get_visible_pact(db(), actor(), pact_id)
    if pact is None:
        abort(404)
    return pact
