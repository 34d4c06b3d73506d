"""Files attached to a beneficiary or a pact.

A file is accepted only when its name's extension and its first bytes agree on one of the
allowed types (PDF, JPEG, PNG): an executable or a web page renamed to .pdf is refused.
The bytes are stored under `<instance>/documents/<random name>`; the name the person gave
is kept, cleaned, only in the database, so it never reaches the file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.db import column_length
from casework.errors import CaseworkError, InvalidInput
from casework.models import Beneficiary, Document, DocumentKind, Pact, User
from casework.security import can_see_beneficiary, can_see_pact

CHUNK_BYTES = 64 * 1024
MAX_NAME_LENGTH = column_length(Document.original_name)
_STORED_NAME = re.compile(r"^[0-9a-f]{64}$")
# Characters that mean something to a shell, a header or another file system.
_UNSAFE_IN_NAME = re.compile(r'[<>:"/\\|?*;]')


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    signatures: tuple[bytes, ...]

    def matches(self, head: bytes) -> bool:
        return any(head.startswith(signature) for signature in self.signatures)


PDF = FileType("application/pdf", (".pdf",), (b"%PDF-",))
JPEG = FileType("image/jpeg", (".jpg", ".jpeg"), (b"\xff\xd8\xff",))
PNG = FileType("image/png", (".png",), (b"\x89PNG\r\n\x1a\n",))
ALLOWED_TYPES = (PDF, JPEG, PNG)
_SIGNATURE_BYTES = max(len(s) for t in ALLOWED_TYPES for s in t.signatures)


class DocumentMissing(CaseworkError):
    """The database knows the document but its file is gone from the instance folder."""


def documents_dir(instance_dir: Path) -> Path:
    return instance_dir / "documents"


def type_for_name(file_name: str) -> FileType | None:
    suffix = Path(file_name).suffix.lower()
    return next((t for t in ALLOWED_TYPES if suffix in t.extensions), None)


def clean_file_name(name: str, fallback: str = "document") -> str:
    """The last path component, without control or invisible characters (which can fake an
    extension), header or path separators, and at most 255 characters with its extension."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = " ".join(_UNSAFE_IN_NAME.sub("_", name).split()).rstrip(" .")
    base, dot, extension = name.rpartition(".")
    if not dot:
        base, extension = name, ""
    base = base.strip(" .") or fallback  # no hidden files, no name made of an extension alone
    extension = extension.strip()[:20]
    room = MAX_NAME_LENGTH - (len(extension) + 1 if extension else 0)
    base = base[:room].rstrip(" .") or fallback
    return f"{base}.{extension}" if extension else base


def store_document(
    session: Session,
    storage_dir: Path,
    stream: BinaryIO,
    *,
    file_name: str,
    kind: DocumentKind,
    max_bytes: int,
    actor: User | None,
    now: datetime,
    pact: Pact | None = None,
    beneficiary: Beneficiary | None = None,
) -> Document:
    """Check and store an uploaded file for a pact or a person; raises InvalidInput on "file".

    Codes: type_not_allowed (name), content_mismatch (bytes), empty, too_large.
    """
    if (pact is None) == (beneficiary is None):
        raise ValueError("a document belongs to a pact or to a beneficiary")
    original_name = clean_file_name(file_name)
    file_type = type_for_name(original_name)
    if file_type is None:
        raise InvalidInput({"file": "type_not_allowed"})

    storage_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(32)
    final_path = storage_dir / stored_name
    partial_path = storage_dir / f".{stored_name}.part"
    try:
        size, digest, head = _copy_limited(stream, partial_path, max_bytes)
        if size == 0:
            raise InvalidInput({"file": "empty"})
        if not file_type.matches(head):
            raise InvalidInput({"file": "content_mismatch"})
        os.replace(partial_path, final_path)
    finally:
        partial_path.unlink(missing_ok=True)

    document = Document(
        pact_id=pact.id if pact is not None else None,
        beneficiary_id=beneficiary.id if beneficiary is not None else None,
        kind=kind, original_name=original_name, stored_name=stored_name, content_type=file_type.content_type,
        size_bytes=size, sha256=digest, uploaded_at=now, uploaded_by_id=actor.id if actor else None,
    )
    session.add(document)
    try:
        session.flush()
    except Exception:
        final_path.unlink(missing_ok=True)
        raise
    return document


def _copy_limited(stream: BinaryIO, target: Path, max_bytes: int) -> tuple[int, str, bytes]:
    """Copy at most `max_bytes` to `target`: (size, sha256 hex, first bytes); too_large past it."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := stream.read(CHUNK_BYTES):
            size += len(chunk)
            if size > max_bytes:
                raise InvalidInput({"file": "too_large"})
            if len(head) < _SIGNATURE_BYTES:
                head += chunk[: _SIGNATURE_BYTES - len(head)]
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest(), head


def get_visible_document(session: Session, user: User, document_id: int) -> Document | None:
    """The document if `user` may see the pact or person it belongs to, else None (answer 404)."""
    document = session.get(Document, document_id)
    if document is None:
        return None
    if document.pact_id is not None:
        allowed = can_see_pact(session, user, document.pact_id)
    else:
        allowed = document.beneficiary_id is not None and can_see_beneficiary(session, user, document.beneficiary_id)
    return document if allowed else None


def open_document(storage_dir: Path, document: Document) -> BinaryIO:
    """The stored bytes, for download; the caller closes the file."""
    if not _STORED_NAME.match(document.stored_name):
        raise DocumentMissing(f"document {document.id} has no valid stored name")
    try:
        return (storage_dir / document.stored_name).open("rb")
    except FileNotFoundError:
        raise DocumentMissing(f"document {document.id}: file {document.stored_name} is missing") from None


def download_name(document: Document) -> str:
    """A safe file name that ends with the extension of the stored type."""
    name = clean_file_name(document.original_name)
    file_type = next((t for t in ALLOWED_TYPES if t.content_type == document.content_type), None)
    if file_type is not None and Path(name).suffix.lower() not in file_type.extensions:
        name = clean_file_name(name + file_type.extensions[0])
    return name


def pact_documents(session: Session, pact: Pact) -> list[Document]:
    return list(session.scalars(
        select(Document).where(Document.pact_id == pact.id).order_by(Document.uploaded_at.desc(), Document.id.desc())
    ))


def beneficiary_documents(session: Session, beneficiary: Beneficiary) -> list[Document]:
    return list(session.scalars(
        select(Document).where(Document.beneficiary_id == beneficiary.id, Document.pact_id.is_(None))
        .order_by(Document.uploaded_at.desc(), Document.id.desc())
    ))
