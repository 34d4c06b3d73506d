"""Front-end assets: Bootstrap Italia installed from the npm registry (`npm ci`), served from
node_modules, and our own files in casework/web/static.

`url_for('static', filename='casework.css')` gives `/static/casework.<digest>.css`, the digest
being the start of the file's SHA-256: such an address is served for a year as immutable, and a
new release's file has another address. The digest is computed once per file and process (again
only if the file changes on disk). The plain address keeps working with a short cache, and so
does an address whose digest is no longer the file's (a page of the previous release during an
upgrade): it gets the current file, never marked immutable.

No library does this without a build step: Flask-Static-Digest and WhiteNoise's manifest both
write hashed copies at deploy time, and would not cover node_modules; here nothing is copied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, request, send_from_directory
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

from casework import PROJECT_ROOT

BOOTSTRAP_ITALIA = PROJECT_ROOT / "node_modules" / "bootstrap-italia" / "dist"
STATIC = PROJECT_ROOT / "casework" / "web" / "static"
# The URL prefix of each folder, to fingerprint the addresses a stylesheet of ours refers to.
FOLDERS = {"/static/": STATIC, "/assets/bootstrap-italia/": BOOTSTRAP_ITALIA}
ENDPOINTS = {"static": STATIC, "assets.bootstrap_italia": BOOTSTRAP_ITALIA}

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=300"
DIGEST_LENGTH = 12
_FINGERPRINTED = re.compile(rf"(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<suffix>\.[A-Za-z0-9]+)")
# An absolute address of one of our folders in a stylesheet: url("/static/...") or url(/assets/...).
_CSS_URL = re.compile(r"""url\((["']?)(/(?:static|assets/bootstrap-italia)/[^"')?#]+)([^"')]*)\1\)""")

blueprint = Blueprint("assets", __name__)

# (folder, filename) -> ((mtime_ns, size), digest, the CSS as served or None)
_cache: dict[tuple[Path, str], tuple[tuple[int, int], str, bytes | None]] = {}


def _file(folder: Path, filename: str) -> Path | None:
    joined = safe_join(str(folder), filename)
    path = Path(joined) if joined is not None else None
    return path if path is not None and path.is_file() else None


def _entry(folder: Path, filename: str) -> tuple[str, bytes | None] | None:
    """The file's digest and, for a stylesheet, its content as served; None if there is no file."""
    path = _file(folder, filename)
    if path is None:
        return None
    status = path.stat()
    version = (status.st_mtime_ns, status.st_size)
    cached = _cache.get((folder, filename))
    if cached is not None and cached[0] == version:
        return cached[1], cached[2]
    content = path.read_bytes()
    served = _rewrite_css(content) if path.suffix == ".css" else None
    digest = hashlib.sha256(served if served is not None else content).hexdigest()[:DIGEST_LENGTH]
    _cache[(folder, filename)] = (version, digest, served)
    return digest, served


def _rewrite_css(content: bytes) -> bytes:
    """Our stylesheets name the fonts by their plain address: give them their fingerprinted one,
    so the fonts are cached as long as the stylesheet (whose digest covers the new addresses)."""
    def fingerprinted(match: re.Match[str]) -> str:
        quote, path, rest = match.groups()
        for prefix, folder in FOLDERS.items():
            if path.startswith(prefix):
                return f"url({quote}{prefix}{fingerprinted_name(folder, path.removeprefix(prefix))}{rest}{quote})"
        return match.group(0)

    return _CSS_URL.sub(fingerprinted, content.decode("utf-8")).encode("utf-8")


def fingerprinted_name(folder: Path, filename: str) -> str:
    """`css/x.min.css` -> `css/x.min.<digest>.css`; the name unchanged if there is no such file."""
    entry = _entry(folder, filename)
    stem, dot, suffix = filename.rpartition(".")
    if entry is None or not dot or "/" in suffix:
        return filename
    return f"{stem}.{entry[0]}.{suffix}"


def plain_name(folder: Path, filename: str) -> str:
    """The file a possibly fingerprinted name stands for (a real file of that name wins)."""
    match = _FINGERPRINTED.fullmatch(filename)
    if match is None or _file(folder, filename) is not None:
        return filename
    return match["stem"] + match["suffix"]


def send_asset(folder: Path, filename: str) -> Response:
    plain = plain_name(folder, filename)
    entry = _entry(folder, plain)
    if entry is None:
        abort(404)
    digest, served_css = entry
    if served_css is not None:
        response = Response(served_css, mimetype="text/css")
        response.set_etag(digest)
        response.make_conditional(request)
    else:
        response = send_from_directory(folder, plain)
    fingerprinted = plain != filename and filename == fingerprinted_name(folder, plain)
    response.headers["Cache-Control"] = IMMUTABLE if fingerprinted else SHORT_CACHE
    response.shared_asset = True  # type: ignore[attr-defined]
    return response


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that an asset's response is left without the session:
    flask-login reads it on every response, which adds "Vary: Cookie", and a browser would then keep
    a cached file only until the session cookie changes (at every sign-in)."""

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if not getattr(response, "shared_asset", False):
            super().save_session(app, session, response)


def _fingerprint_url(endpoint: str, values: dict[str, Any]) -> None:
    folder = ENDPOINTS.get(endpoint)
    if folder is not None and isinstance(values.get("filename"), str):
        values["filename"] = fingerprinted_name(folder, values["filename"])


def _fingerprint_url_once(names: dict[tuple[Path, str], str]) -> Callable[[str, dict[str, Any]], None]:
    """`_fingerprint_url` remembering each address: a page names some twenty assets, and asking
    the disk about each at every request is a tenth of a short page's time."""
    def fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        folder = ENDPOINTS.get(endpoint)
        filename = values.get("filename")
        if folder is not None and isinstance(filename, str):
            known = names.get((folder, filename))
            if known is None:
                known = names[(folder, filename)] = fingerprinted_name(folder, filename)
            values["filename"] = known
    return fingerprint


def init_assets(app: Flask) -> None:
    """Fingerprinted addresses from url_for, and Flask's own /static route served like ours.

    Outside debug mode the files do not change while the server runs (installing a new version
    restarts it), so each address is worked out once; a debug server looks at the disk every
    time, so that an edited stylesheet gets its new address at once."""
    app.url_defaults(_fingerprint_url if app.debug else _fingerprint_url_once({}))
    app.session_interface = _SessionInterface()
    app.view_functions["static"] = lambda filename: send_asset(STATIC, filename)


@blueprint.get("/assets/bootstrap-italia/<path:filename>")
def bootstrap_italia(filename: str) -> Response:
    if not BOOTSTRAP_ITALIA.is_dir():
        abort(404, description="front-end assets missing: run `npm ci`")
    return send_asset(BOOTSTRAP_ITALIA, filename)
