"""The office's identity: the ente's name, its logo and its letterhead text.

Printed on pacts and funder reports and signed under e-mails. Administrators change it; each
change goes to the administrative log. Until one does, Casework shows its own name and no logo.

A logo is checked by its content, never by its file name: PNG and JPEG by their signature, SVG
by parsing it as XML and refusing anything that could run or fetch (scripts, event handlers,
embedded documents, external links, a DOCTYPE with entities).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree import ElementTree

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.errors import Conflict, InvalidInput
from casework.models import OFFICE_SETTINGS_ID, OfficeSettings, User
from casework.security import changed_fields, record_admin_change
from casework.versioning import check_version, flush_checked

PRODUCT_NAME = "Casework"
MAX_ENTE_NAME = 200
MAX_LETTERHEAD = 1000
MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = ("image/png", "image/jpeg", "image/svg+xml")

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_SVG_FORBIDDEN_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object", "audio", "video"}
_SAFE_HREF = re.compile(r"^(#|data:image/(png|jpeg);base64,)", re.IGNORECASE)


@dataclass(frozen=True)
class OfficeIdentity:
    """What pages and e-mails show: `name` is the ente's name, or the product's when unset."""

    ente_name: str
    letterhead: str
    logo_type: str
    version: int | None

    @property
    def name(self) -> str:
        return self.ente_name or PRODUCT_NAME

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_type)

    @property
    def letterhead_lines(self) -> list[str]:
        return [line for line in self.letterhead.splitlines() if line.strip()]


def office_identity(session: Session) -> OfficeIdentity:
    row = session.get(OfficeSettings, OFFICE_SETTINGS_ID)
    if row is None:
        return OfficeIdentity("", "", "", None)
    return OfficeIdentity(row.ente_name, row.letterhead, row.logo_type if row.logo else "", row.version)


def office_logo(session: Session) -> tuple[bytes, str] | None:
    """The logo's bytes and content type, or None without a logo."""
    row = session.get(OfficeSettings, OFFICE_SETTINGS_ID)
    if row is None or not row.logo:
        return None
    return row.logo, row.logo_type


def _local_name(tag: str) -> str:
    return tag.rpartition("}")[2].lower()


def _svg_is_safe(data: bytes) -> bool:
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        return False
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return False
    if _local_name(root.tag) != "svg":
        return False
    for element in root.iter():
        if _local_name(element.tag) in _SVG_FORBIDDEN_ELEMENTS:
            return False
        for name, value in element.attrib.items():
            local = _local_name(name)
            if local.startswith("on"):
                return False
            if local == "href" and not _SAFE_HREF.match(value.strip()):
                return False
            if "url(" in value.lower() and not re.search(r"url\(\s*['\"]?#", value, re.IGNORECASE):
                return False
        style = (element.text or "") if _local_name(element.tag) == "style" else ""
        if "@import" in style or "url(" in style:
            return False
    return True


def logo_type(data: bytes) -> str | None:
    """The content type of an acceptable logo (PNG, JPEG, safe SVG), or None."""
    if data.startswith(_PNG):
        return "image/png"
    if data.startswith(_JPEG):
        return "image/jpeg"
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith((b"<?xml", b"<svg")) and _svg_is_safe(stripped):
        return "image/svg+xml"
    return None


@dataclass(frozen=True)
class OfficeInput:
    ente_name: str
    letterhead: str
    logo: bytes | None = None  # a new logo; None keeps the current one
    remove_logo: bool = False


def update_office_identity(
    session: Session, data: OfficeInput, *, expected_version: int | None, actor: User | None, now: datetime,
    ip_address: str = "",
) -> OfficeIdentity:
    """Save the office's identity; InvalidInput({field: code}) on bad input, Conflict if changed since read.

    Codes: ente_name too_long; letterhead too_long; logo too_big, bad_type.
    """
    ente_name = " ".join((data.ente_name or "").split())
    letterhead = "\n".join(line.rstrip() for line in (data.letterhead or "").strip().splitlines())
    errors: dict[str, str] = {}
    if len(ente_name) > MAX_ENTE_NAME:
        errors["ente_name"] = "too_long"
    if len(letterhead) > MAX_LETTERHEAD:
        errors["letterhead"] = "too_long"
    new_type = None
    if data.logo is not None and not data.remove_logo:
        if len(data.logo) > MAX_LOGO_BYTES:
            errors["logo"] = "too_big"
        else:
            new_type = logo_type(data.logo)
            if new_type is None:
                errors["logo"] = "bad_type"
    if errors:
        raise InvalidInput(errors)

    row = session.get(OfficeSettings, OFFICE_SETTINGS_ID)
    created = row is None
    if created:
        if expected_version is not None:  # the form showed settings that are gone: cannot happen but by hand
            raise Conflict(OFFICE_SETTINGS_ID, expected_version, None)
        row = OfficeSettings(id=OFFICE_SETTINGS_ID, ente_name="", letterhead="", logo=None, logo_type="")
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another administrator saved the first settings at the same moment
            raise Conflict(OFFICE_SETTINGS_ID, None, 1) from None
    else:
        check_version(row, expected_version)
    before = {"ente_name": row.ente_name, "letterhead": row.letterhead, "logo": _logo_label(row.logo_type, row.logo)}
    row.ente_name = ente_name
    row.letterhead = letterhead
    if data.remove_logo:
        row.logo, row.logo_type = None, ""
    elif new_type is not None:
        row.logo, row.logo_type = data.logo, new_type
    after = {"ente_name": row.ente_name, "letterhead": row.letterhead, "logo": _logo_label(row.logo_type, row.logo)}
    changes = changed_fields(before, after)
    if new_type is not None and "logo" not in changes:
        changes["logo"] = [before["logo"], f"{after['logo']} (new)"]
    if not changes and not created:
        return office_identity(session)
    row.updated_at = now
    row.updated_by_id = actor.id if actor else None
    flush_checked(session, row, row.version)
    record_admin_change(session, actor=actor, action="create" if created else "update", subject_type="setting",
                        subject_id=OFFICE_SETTINGS_ID, subject_label="office identity", changes=changes, now=now,
                        ip_address=ip_address)
    return office_identity(session)


def _logo_label(content_type: str, logo: bytes | None) -> str | None:
    return f"{content_type}, {len(logo)} bytes" if logo else None
