"""Translated error pages that render whatever broke, the database included.

A handler never touches the request's database session: after a failed flush the session
refuses to load anything, and once closed its rows are detached, so a page that read the
signed-in user from it would fail in turn and leave the person with the server's bare
"Internal Server Error". The handlers roll the session back and close it first; the header
shows the signed-in person from the plain copy taken when the request began
(context.header_user).
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from casework.errors import Conflict
from casework.web import context


def _page(status: int):
    def handler(error: Exception):
        if status == 500:
            context.start_error_page()
        else:
            context.close_db()  # a refusal, not a failure: the header may still read its unread count
        return render_template(f"errors/{status}.html", error=error), status

    return handler


def _conflict(error: Exception):
    """Someone else saved first and the view had no page of its own for it: nothing was saved."""
    context.start_error_page()
    return render_template("errors/409.html", error=error), 409


def _csrf(error: CSRFError):
    return render_template("errors/csrf.html", error=error), 400


def register(app: Flask) -> None:
    for status in (403, 404, 413, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(Conflict, _conflict)
    app.register_error_handler(StaleDataError, _conflict)
    app.register_error_handler(CSRFError, _csrf)

    @app.errorhandler(HTTPException)
    def other_http_errors(error: HTTPException):
        context.close_db()
        return render_template("errors/generic.html", error=error), error.code or 500
