"""Logging for every Casework process (web workers, scheduler, commands): one format, chosen by
the `log_format` setting. JSON is one object a line, for a log collector; each line written while
a web request is served carries that request's id.

Nothing here knows about people: callers log ids and codes, never names or codici fiscali.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

# Set by the web layer for the duration of one request; read by the formatter.
request_id: ContextVar[str | None] = ContextVar("casework_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The attributes every LogRecord has; anything else was passed with `extra=` and goes in the object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time (UTC, ISO 8601), level, logger, message, process id, the request id
    if any, the fields given with `extra=`, and the traceback as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,  # which worker process, behind one gunicorn
        }
        current = request_id.get()
        if current is not None:
            entry["request_id"] = current
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The plain format, with the request id in brackets when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        current = request_id.get()
        return f"{line} [{current}]" if current is not None else line


def formatter(as_json: bool) -> logging.Formatter:
    return JsonFormatter() if as_json else TextFormatter()


class CaseworkHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner may swap it); marks
    the handler this module installed, so configuring twice replaces it."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr


def configure_logging(as_json: bool, level: int = logging.INFO) -> None:
    """One handler on the root logger, to stderr, in the chosen format; idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, CaseworkHandler)]:
        root.removeHandler(handler)
    handler = CaseworkHandler()
    handler.setFormatter(formatter(as_json))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per job run
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plug-in at import
