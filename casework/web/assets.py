"""Front-end assets installed from the npm registry (`npm ci`), served from node_modules."""

from __future__ import annotations

from flask import Blueprint, abort, send_from_directory
from werkzeug.wrappers import Response

from casework import PROJECT_ROOT

BOOTSTRAP_ITALIA = PROJECT_ROOT / "node_modules" / "bootstrap-italia" / "dist"

blueprint = Blueprint("assets", __name__)


@blueprint.get("/assets/bootstrap-italia/<path:filename>")
def bootstrap_italia(filename: str) -> Response:
    if not BOOTSTRAP_ITALIA.is_dir():
        abort(404, description="front-end assets missing: run `npm ci`")
    response = send_from_directory(BOOTSTRAP_ITALIA, filename, max_age=7 * 24 * 3600)
    response.headers["Cache-Control"] = "public, max-age=604800"
    return response
