"""The office identity in the core: logos checked by content, changes logged, conflicts refused."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from casework.administration import OfficeInput, office_identity, update_office_identity
from casework.administration.office import logo_type
from casework.errors import Conflict, InvalidInput
from casework.models import AdministrativeLogEntry, Role, User

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("data", "expected"), [
    (b"\x89PNG\r\n\x1a\n....", "image/png"),
    (b"\xff\xd8\xff\xe0....", "image/jpeg"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0h1"/></svg>', "image/svg+xml"),
    (b'\xef\xbb\xbf<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><use href="#a"/></svg>',
     "image/svg+xml"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://tracker.example/p.png"/></svg>', None),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p>x</p></foreignObject></svg>', None),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://x.example/a)"/></svg>', None),
    (b"<svg", None),  # not well-formed
    (b"<html><body>logo</body></html>", None),
    (b"GIF89a....", None),
])
def test_a_logo_is_recognised_by_its_content(data, expected):
    assert logo_type(data) == expected


def test_changes_are_logged_and_a_stale_form_is_a_conflict(session, world):
    admin = User(username="admin", full_name="Admin", email="admin@example.org", password_hash="!",
                 role=Role.ADMIN, territory=world.comune)
    session.add(admin)
    session.commit()
    assert office_identity(session).name == "Casework" and not office_identity(session).has_logo

    saved = update_office_identity(session, OfficeInput("Comune di Settimo Torinese", "Piazza della Libertà 4"),
                                   expected_version=None, actor=admin, now=NOW, ip_address="10.0.0.1")
    session.commit()
    assert (saved.name, saved.letterhead_lines) == ("Comune di Settimo Torinese", ["Piazza della Libertà 4"])
    assert saved.version is not None

    # Saving the same values again changes nothing and logs nothing.
    update_office_identity(session, OfficeInput("Comune di Settimo Torinese", "Piazza della Libertà 4"),
                           expected_version=saved.version, actor=admin, now=NOW, ip_address="10.0.0.1")
    session.commit()
    with pytest.raises(Conflict):
        update_office_identity(session, OfficeInput("Altro", ""), expected_version=saved.version - 1, actor=admin,
                               now=NOW)
    session.rollback()
    with pytest.raises(InvalidInput) as refused:
        update_office_identity(session, OfficeInput("x" * 201, "", logo=b"not an image"),
                               expected_version=saved.version, actor=admin, now=NOW)
    assert refused.value.errors == {"ente_name": "too_long", "logo": "bad_type"}
    session.rollback()

    [entry] = session.query(AdministrativeLogEntry).all()
    assert (entry.actor_id, entry.action, entry.subject_type, entry.ip_address) == (
        admin.id, "create", "setting", "10.0.0.1")
    assert entry.changes == {"ente_name": ["", "Comune di Settimo Torinese"],
                             "letterhead": ["", "Piazza della Libertà 4"]}
    assert office_identity(session).name == "Comune di Settimo Torinese"
