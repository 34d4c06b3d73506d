"""What running behind gunicorn and a reverse proxy needs of the WSGI application: a request id
and one access line a request, the client's address as the trusted proxies give it, and one
secret key shared by every worker process of a development install."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import inspect
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

from casework import logs
from casework.config import Settings

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy (nginx's $request_id is 32 hex digits) is kept so its log and ours join;
# anything else is replaced: the header is client input and ends up in every log line.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_PATH_KEY = "casework.log_path"
_USER_KEY = "casework.user_id"
# `<converter(args):name>` or `<name>` in a URL rule.
_RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
# Endpoints whose path arguments are file names of our assets, worth seeing in the log.
_ASSET_ENDPOINTS = {"static", "assets.bootstrap_italia"}
SECRET_KEY_FILE = "secret_key"

access_log = logging.getLogger("casework.access")


class RequestLog:
    """WSGI middleware: gives each request an id (a valid incoming X-Request-ID, or a new one),
    echoes it in the response, puts it on every log line written meanwhile, and writes one access
    line when the response body is finished (a streamed export counts its whole time)."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(request_id)
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [code]
            headers = [(k, v) for k, v in headers if k.lower() != REQUEST_ID_HEADER.lower()]
            return start_response(code, [*headers, (REQUEST_ID_HEADER, request_id)], exc_info)

        def finish() -> None:
            code = int(status[0].split(" ", 1)[0]) if status else 500
            path = environ.get(_PATH_KEY) or _unmatched_path(environ.get("PATH_INFO", ""))
            method, user_id = environ.get("REQUEST_METHOD", ""), environ.get(_USER_KEY)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            # The message says it all for the text format; JSON has each part as a field too.
            access_log.info("%s %s %s %.1f ms user %s", method, path, code, duration_ms, user_id or "-",
                            extra={"method": method, "path": path, "status": code, "duration_ms": duration_ms,
                                   "user_id": user_id})
            try:
                logs.request_id.reset(token)
            except ValueError:  # closed in another context than it began in
                logs.request_id.set(None)

        try:
            body = self.wsgi_app(environ, start)
        except BaseException:
            finish()
            raise
        return _Body(body, finish)


class _Body:
    """The response body, passed through; `finish` runs once, when the server closes it."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[], None]):
        self._body = body
        self._finish: Callable[[], None] | None = finish

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            finish, self._finish = self._finish, None
            if finish is not None:
                finish()


def _log_path() -> str:
    """The request's path for the log: ids stay (they say nothing about a person), any other
    argument of the route — a calendar feed's or a password link's token — is replaced by its name."""
    rule = request.url_rule
    if rule is None:
        return _unmatched_path(request.path)
    values = request.view_args or {}

    def argument(match: re.Match[str]) -> str:
        name = match["name"]
        if name in values and (match["converter"] == "int" or request.endpoint in _ASSET_ENDPOINTS):
            return str(values[name])
        return f"<{name}>"

    return _RULE_ARGUMENT.sub(argument, rule.rule)


def _unmatched_path(path: str) -> str:
    # No route matched: the rest of the path is whatever the client typed, maybe a name.
    first, _, rest = path.lstrip("/").partition("/")
    return "/" + first[:64] + ("/…" if rest else "")


def _note_request(response: Response) -> Response:
    request.environ[_PATH_KEY] = _log_path()
    # Only a user this request already loaded: asking flask-login here would load one for
    # every static file.
    signed_in = g.get("_login_user")
    user = getattr(signed_in, "user", None)
    if user is not None:
        # The row's identity, not `user.id`: after a failed write the row is expired and detached,
        # and reading an attribute would try to load it again.
        identity = inspect(user).identity
        request.environ[_USER_KEY] = identity[0] if identity else None
    return response


def install(app: Flask, settings: Settings) -> None:
    """The access log with request ids always; ProxyFix only for configured trusted proxies."""
    app.after_request(_note_request)
    app.wsgi_app = RequestLog(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        # X-Forwarded-For grows by one address a proxy; X-Forwarded-Proto and -Host are set (not
        # appended) by the proxy next to gunicorn (the nginx block in README), so one value is
        # read from them whatever the number of proxies. No x_prefix/x_port: Casework is served
        # at the root of its host, and a header the proxy does not set could come from the client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=1, x_host=1)  # type: ignore[method-assign]


def instance_secret_key(instance_dir: Path) -> str:
    """Development without CASEWORK_SECRET_KEY: one random key kept in the instance folder, so
    every worker process signs and checks sessions with the same key. The first process creates
    the file (O_EXCL: exactly one wins a race), the others read it."""
    path = instance_dir / SECRET_KEY_FILE
    instance_dir.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    # Written to a descriptor nobody else holds; a reader that comes before the write ends
    # waits for it in _read_key.
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(secrets.token_urlsafe(48))
    return _read_key(path)


def _read_key(path: Path) -> str:
    for _ in range(50):
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        time.sleep(0.02)  # another process created the file and is writing it
    raise RuntimeError(f"{path} holds no secret key: delete it and start again")


class BannerlessRequestHandler(WSGIRequestHandler):
    """The development server without its `Server: Werkzeug/<version> Python/<version>` header:
    what a server runs is the first thing an attacker looks up (gunicorn's is removed in
    config/gunicorn.conf.py)."""

    def send_response(self, code: int, message: str | None = None) -> None:
        # http.server's own send_response, less the Server line.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
