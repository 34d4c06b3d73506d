"""Translated error pages that render whatever broke, the database included.

A handler never touches the request's database session: after a failed flush the session
refuses to load anything, and once closed its rows are detached, so a page that read the
signed-in user from it would fail in turn and leave the person with the server's bare
"Internal Server Error". The handlers roll the session back and close it first; the header
shows the signed-in person from the plain copy taken when the request began
(context.header_user).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from casework.db import is_busy
from casework.errors import Conflict, RecordRestricted
from casework.web import context

log = logging.getLogger(__name__)


def _page(status: int):
    def handler(error: Exception):
        if status == 500:
            context.start_error_page()
        else:
            context.close_db()  # a refusal, not a failure: the header may still read its unread count
        return render_template(f"errors/{status}.html", error=error), status

    return handler


def _too_large(error: Exception):
    """An upload over the limit: say the limit, and lead back to the page the file was chosen on."""
    context.close_db()
    limit_mb = context.settings().max_upload_mb
    back = _local_referrer()
    return render_template("errors/413.html", error=error, limit_mb=limit_mb, back_url=back or url_for("home.today"),
                           back_to_form=back is not None), 413


def _local_referrer() -> str | None:
    """The page the request came from, when it is one of ours: a link never leads off the site."""
    referrer = urlsplit(request.referrer or "")
    if referrer.scheme not in ("http", "https") or referrer.netloc != request.host or not referrer.path.startswith("/"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def _conflict(error: Exception):
    """Someone else saved first and the view had no page of its own for it: nothing was saved."""
    context.start_error_page()
    return render_template("errors/409.html", error=error), 409


def _restricted(error: RecordRestricted):
    """A write on a record whose processing is restricted (GDPR art. 18): nothing was saved, and
    the page says who restricted it; whatever form it came from."""
    context.start_error_page()
    return render_template("errors/restricted.html", error=error), 409


def _busy(error: OperationalError):
    """The database stayed locked past its timeout (another process holding a transaction):
    nothing was saved, and trying again in a moment will work. Any other database failure is a 500."""
    if not is_busy(error):
        raise error
    log.warning("database busy, answered 503: %s", getattr(error.orig, "sqlstate", None) or error.orig)
    context.start_error_page()
    return render_template("errors/busy.html", error=error), 503, {"Retry-After": "10"}


def _csrf(error: CSRFError):
    return render_template("errors/csrf.html", error=error), 400


def register(app: Flask) -> None:
    for status in (403, 404, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(413, _too_large)
    app.register_error_handler(Conflict, _conflict)
    app.register_error_handler(StaleDataError, _conflict)
    app.register_error_handler(RecordRestricted, _restricted)
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(OperationalError, _busy)

    @app.errorhandler(HTTPException)
    def other_http_errors(error: HTTPException):
        context.close_db()
        return render_template("errors/generic.html", error=error), error.code or 500
