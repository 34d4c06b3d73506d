"""Template filters: dates as people in Italy read them (dd/mm/yyyy, in the `timezone` setting), and
the core's texts (casework.i18n messages) in the request's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import LazyString, format_date, format_datetime, get_locale

from casework.i18n import Message, gettext


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy")
    return format_date(value, "dd/MM/yyyy")


def local_datetime(value: datetime | None) -> str:
    return format_datetime(value, "dd/MM/yyyy HH:mm") if value is not None else ""


def request_locale() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "it"


def translated(message: Message | str, **params: object) -> str:
    """A core text in the request's language (templates: `{{ message|translated }}`)."""
    return gettext(request_locale(), message, **params)


def in_sentence(message: Message | str) -> str:
    """A code's words (casework.models.labels) inside a sentence or a list: in lower case."""
    return translated(message).lower()


def lazy(message: Message, *, lower: bool = False) -> LazyString:
    """A core text translated when shown, for form labels and choices defined at import time."""
    return LazyString(in_sentence if lower else translated, message)


def lazy_labels(labels: dict[Any, Message]) -> dict[Any, LazyString]:
    """A core table of code -> words (e.g. casework.models.labels.PRIORITIES), for forms and templates."""
    return {code: lazy(message) for code, message in labels.items()}


def register(app: Flask) -> None:
    app.add_template_filter(translated, "translated")
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(local_datetime, "local_datetime")
