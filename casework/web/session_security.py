"""Security headers on every response and the signed-in user as flask-login sees it."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request, session
from flask_login import UserMixin

from casework.models import User, UserSession
from casework.models.data_version import data_version_columns, note_data_version
from casework.reminders import notifications
from casework.security import auth
from casework.web import context, saving
from casework.web.extensions import login_manager
from casework.web.reminders.notifications import remember_unread_count

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SignedIn(UserMixin):
    """flask-login's user: its id is the server-side session token, not the user id, so
    ending the session row ends the login everywhere the cookie is."""

    def __init__(self, record: UserSession, token: str):
        self.record = record
        self.user: User = record.user
        self._token = token

    def get_id(self) -> str:
        return self._token


# What every page that only reads needs besides the session, in the same statement: the header's
# unread count and the data version the kept parts are taken under. Under load each round trip
# to the database cost a page about as much as drawing its header.
_LOOKUP_FOR_PAGES = auth.session_lookup(
    notifications.unread_count_column(UserSession.user_id, "unread_now"), *data_version_columns())


@login_manager.user_loader
def load_signed_in(token: str) -> SignedIn | None:
    config = context.settings()
    db = context.db()
    now = context.now()
    expiry = {"idle_timeout": timedelta(minutes=config.session_idle_minutes),
              "max_age": timedelta(hours=config.session_max_hours)}
    # A form that changes things reads them after its change: only pages that only read take
    # the count and the version from here.
    reading = request.method in ("GET", "HEAD")
    if reading:
        record, also = auth.resume_session_reading(db, token, _LOOKUP_FOR_PAGES, {"unread_now": now}, now=now,
                                                   **expiry)
    else:
        record, also = auth.resume_session(db, token, now=now, **expiry), ()
    if record is not None and also:
        unread, version_token, version = also
        remember_unread_count(unread)
        note_data_version(db, version_token, version)
    if db.dirty or db.new:
        # Persists last_seen_at (moved at most every few minutes), or the end of an expired
        # session. Nothing changed, nothing to commit: the request reads on in the same
        # transaction, and what was loaded stays loaded (the commit forgets the noted version).
        saving.commit()
    context.remember_header_user(record.user if record is not None else None)
    return SignedIn(record, token) if record is not None else None


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if "_user_id" in session or response.mimetype == "text/html":
        # Pages about people must not linger in shared browser caches.
        response.headers.setdefault("Cache-Control", "no-store")
    if context.settings().is_production:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def init_security(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = None  # sessions are server-side and revocable already
    app.after_request(add_security_headers)
