"""What a request works with: the database session, the registry, the clock, the actor."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from flask import abort, current_app, g, request, stream_with_context
from flask_login import current_user
from sqlalchemy.orm import Session

from casework.clock import Clock
from casework.config import Settings
from casework.models import Pact, Role, User
from casework.security.access import get_visible_pact
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


def read_db() -> Session:
    """A session for the read-only queries of the indicators and the exports: on the read replica
    (`read_database_url`), which may lag the main database by a moment; without one, `db()` itself.
    Never write through it (the replica's connections refuse writes): access-log entries and
    every other write go to `db()`. Closed when the request ends."""
    factory = current_app.extensions["casework"]["read_session_factory"]
    if factory is None:
        return db()
    if "read_db" not in g:
        g.read_db = factory()
    return g.read_db


def close_db(_: BaseException | None = None) -> None:
    for name in ("db", "read_db"):
        session = g.pop(name, None)
        if session is not None:
            session.close()


def streamed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A response body sent after the view returns that still reads the request's sessions.

    `stream_with_context` keeps `g` and the request for the chunks, but Flask runs the teardown
    (`close_db`) once when the view returns, before the first chunk (the sessions then open a
    new transaction for the chunks), and again after the last one, when `g` no longer holds the
    sessions: so they are closed here, after the last chunk or when the client goes away."""
    sessions = [g.get(name) for name in ("db", "read_db")]

    def send() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            for session in sessions:
                if session is not None:
                    session.close()

    return stream_with_context(send())


def now() -> datetime:
    return datetime.now(timezone.utc)


def clock() -> Clock:
    return Clock(now(), settings().zone)


def actor() -> User:
    """The signed-in user, as a row of the request's session."""
    return current_user.user


def client_ip() -> str:
    return request.remote_addr or ""


def visible_pact(pact_id: int, *, options: tuple[Any, ...] = ()) -> Pact:
    """The pact if the signed-in user may see it; otherwise 404, the same for "not yours" as
    for "does not exist", so ids leak nothing. `options`: loader options for what the page shows."""
    pact = get_visible_pact(db(), actor(), pact_id, options=options)
    if pact is None:
        abort(404)
    return pact


@dataclass(frozen=True)
class HeaderUser:
    """Who is signed in, as the page header shows them: plain values, not a row of the session.

    Copied when the request signs the user in, so a page rendered after the request's session
    failed and was closed (an error page) still shows them without loading anything.
    """

    full_name: str
    role: Role

    @classmethod
    def of(cls, user: User) -> HeaderUser:
        return cls(user.full_name, user.role)


def remember_header_user(user: User | None) -> None:
    g.header_user = HeaderUser.of(user) if user is not None else None


def header_user() -> HeaderUser | None:
    """The signed-in person for the header; None for a visitor, or on an error page of a request
    that failed before it signed anyone in (an error page loads nothing)."""
    if "header_user" not in g and not rendering_error_page():
        remember_header_user(actor() if current_user.is_authenticated else None)
    return g.get("header_user")


def start_error_page() -> None:
    """From here the request only renders its error page: its session is rolled back and closed,
    and nothing touches the database again (it may be what failed)."""
    g.error_page = True
    close_db()


def rendering_error_page() -> bool:
    return bool(g.get("error_page"))
