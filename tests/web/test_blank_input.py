"""A hidden or optional field sent with only spaces is a field left empty, never a value a view converts."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from casework.models import FollowUpContact, Pact
from tests.conftest import ZONE
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def test_a_one_time_key_of_only_spaces_is_no_key(app, db, people):
    """Two contacts sent with a key of spaces (an altered page) are two contacts: the blank is not a
    key the second would be taken for a repeat of the first by, nor one too long to store."""
    client = app.test_client()
    sign_in(client, "giulia")
    pact_id = people.pact.id
    for number, blank in enumerate((" " * 3, " " * 80)):
        db.expire_all()
        response = submit(client, f"/pacts/{pact_id}/contacts", {
            "contact-version": str(db.get(Pact, pact_id).version),
            "contact-contact_at": datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M"), "contact-channel": "phone",
            "contact-notes": f"contatto {number}", "contact-next_contact_on": "", "contact-submission_key": blank,
        }, form_page=f"/pacts/{pact_id}")
        assert response.status_code == 302
    notes = db.scalars(select(FollowUpContact.notes).where(FollowUpContact.pact_id == pact_id)).all()
    assert sorted(notes) == ["contatto 0", "contatto 1"]
    assert db.scalar(select(func.count()).select_from(FollowUpContact).where(
        FollowUpContact.submission_key.is_not(None))) == 0
