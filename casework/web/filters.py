"""Template filters: dates as people in Italy read them (dd/mm/yyyy), in the `timezone` setting."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "dd/MM/yyyy")
    return format_date(value, "dd/MM/yyyy")


def local_datetime(value: datetime | None) -> str:
    return format_datetime(value, "dd/MM/yyyy HH:mm") if value is not None else ""


def register(app: Flask) -> None:
    app.add_template_filter(local_date, "local_date")
    app.add_template_filter(local_datetime, "local_datetime")
