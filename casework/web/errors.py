"""Translated error pages; a database error rolls the request back before rendering."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from casework.web import context


def _page(status: int):
    def handler(error: Exception):
        context.close_db()
        return render_template(f"errors/{status}.html", error=error), status

    return handler


def _csrf(error: CSRFError):
    return render_template("errors/csrf.html", error=error), 400


def register(app: Flask) -> None:
    for status in (403, 404, 500):
        app.register_error_handler(status, _page(status))
    app.register_error_handler(413, _page(413))
    app.register_error_handler(CSRFError, _csrf)

    @app.errorhandler(HTTPException)
    def other_http_errors(error: HTTPException):
        return render_template("errors/generic.html", error=error), error.code or 500
