"""gunicorn's configuration for Casework:

    gunicorn -c config/gunicorn.conf.py 'casework.web:create_app()'

The address and the log format come from Casework's own settings (CASEWORK_HOST, CASEWORK_PORT,
CASEWORK_LOG_FORMAT, or the TOML file in CASEWORK_CONFIG), so there is one place to configure.
The number of workers comes from WEB_CONCURRENCY (gunicorn's own variable) or `-w`; options on
the command line win over this file.
"""

from __future__ import annotations

import gc
import os

from gunicorn.http import wsgi

from casework.config import load_settings

_settings = load_settings()

bind = f"{_settings.host}:{_settings.port}"
# Sync workers: each request runs in its own process, one at a time; the pages are short and
# the database does the waiting. Two a core, plus one.
worker_class = "sync"
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1) + 1))
# An export or PDF may take seconds at the scale of a region; a worker stuck far longer is
# killed and replaced. graceful_timeout: a restart lets requests in flight finish.
timeout = 60
graceful_timeout = 30
# nginx keeps connections to the upstream open only if told to; a short keep-alive is enough.
keepalive = 5
# A worker is replaced after this many requests (with jitter, not all at once), so a slow leak
# in a library cannot grow for weeks.
max_requests = 2000
max_requests_jitter = 200
# Each worker imports and builds the application itself (create_app: settings, workflows, one
# database engine). Preloading would share the engine's connection pool across the fork, which
# SQLAlchemy and psycopg do not allow without extra care, for a start-up saving of under a second.
preload_app = False
# gunicorn's control socket (gunicornc) is not used: systemd signals the master (HUP reloads the
# workers, TERM stops them), and two servers on one host would share its default path.
control_socket_disable = True

# The client's address and scheme come from Casework's `trusted_proxies` (Werkzeug's ProxyFix,
# which counts hops). gunicorn trusts no forwarding header itself, so the two cannot disagree.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# The access line is written by Casework itself (logger "casework.access": method, path, status,
# duration, user id, request id); gunicorn's own lines go through the same formatter.
accesslog = None
errorlog = "-"
loglevel = "info"
logconfig_dict = {
    "root": {"level": "INFO", "handlers": ["casework"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        # With a logging configuration gunicorn writes access lines of its own: not wanted, ours
        # have the user and the request id.
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
    "handlers": {"casework": {"class": "casework.logs.CaseworkHandler", "formatter": "casework"}},
    "formatters": {"casework": {"()": "casework.logs.formatter", "as_json": _settings.logs_as_json}},
}


# No `Server: gunicorn` banner: what a server runs is the first thing an attacker looks up.
# gunicorn has no setting for it (benoitc/gunicorn#825) and writes the line even when
# `gunicorn.SERVER` is emptied, so its status-and-defaults block is filtered instead; this file
# runs in the master before the workers fork, so every worker answers without it.
_default_headers = wsgi.Response.default_headers


def _headers_without_server(self) -> list[str]:
    return [line for line in _default_headers(self) if not line.lower().startswith("server:")]


wsgi.Response.default_headers = _headers_without_server  # type: ignore[method-assign]


def post_worker_init(worker) -> None:
    """The objects loaded with the application (the schema, the workflows, the catalogues: some
    two hundred thousand) live as long as the worker: moved out of the garbage collector's
    sight, a full collection no longer walks them all in the middle of a request (the
    collector's own advice for long-lived servers, `gc.freeze`)."""
    gc.freeze()
