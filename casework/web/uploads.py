"""Files uploaded for an import, kept between the check and the confirmation.

The file is kept in the instance folder under a random id, with its SHA-256 and who uploaded
it; the confirmation names the id and the checksum, and the file is read again from there: a
file that changed (or another user's) is not given back. A file nobody confirmed within a day is
deleted at the next upload: it holds people's names and contacts, and no one will come back for it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from pathlib import Path

from flask import current_app

from casework.web import context

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,64}$"
CHECKSUM_PATTERN = r"^[0-9a-f]{64}$"
KEPT_FOR_SECONDS = 24 * 3600


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def keep(name: str, data: bytes) -> tuple[str, str]:
    """Keep the signed-in user's file: its id and checksum, for the confirmation form."""
    token = secrets.token_urlsafe(24)
    checksum = hashlib.sha256(data).hexdigest()
    folder = _folder()
    _forget_abandoned(folder)
    (folder / f"{token}.data").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps(
        {"name": name, "checksum": checksum, "user_id": context.actor().id}))
    return token, checksum


def _forget_abandoned(folder: Path) -> None:
    oldest = time.time() - KEPT_FOR_SECONDS
    for path in folder.glob("*.*"):
        try:
            if path.suffix in (".data", ".json") and path.stat().st_mtime < oldest:
                path.unlink(missing_ok=True)
        except OSError:
            continue  # another worker removed it meanwhile


def kept(token: str, checksum: str) -> tuple[str, bytes] | None:
    """The file uploaded under `token` by this user, if it is still there and unchanged."""
    folder = _folder()
    try:
        meta = json.loads((folder / f"{token}.json").read_text())
        data = (folder / f"{token}.data").read_bytes()
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != context.actor().id or meta.get("checksum") != checksum:
        return None
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), checksum):
        return None
    return meta["name"], data


def forget(token: str) -> None:
    for suffix in (".data", ".json"):
        (_folder() / f"{token}{suffix}").unlink(missing_ok=True)
