"""Own account in the browser: every role has one; password, language and e-mail preferences,
and the list of signed-in devices with "sign out everywhere else". On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, User, UserSession
from casework.security import verify_password
from tests.web.conftest import PASSWORD, sign_in, submit

NEW = "una-nuova-password-2026"


@pytest.fixture
def app(engine_app):
    return engine_app


def _user(db, username: str) -> User:
    db.expire_all()
    return db.scalars(select(User).where(User.username == username)).one()


@pytest.mark.parametrize("username", ["giulia", "elena", "admin"])
def test_every_role_has_its_own_account_page(app, people, username):
    client = app.test_client()
    assert client.get("/account").status_code == 302  # anonymous: to the sign-in page
    sign_in(client, username)
    page = client.get("/account")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Il mio account" in text and "Cambia password" in text and "questa sessione" in text


@pytest.mark.parametrize(("current", "new", "repeated", "message"), [
    ("sbagliata", NEW, NEW, "Questa non è la tua password attuale."),
    (PASSWORD, "corta", "corta", "Usa almeno 12 caratteri."),
    (PASSWORD, NEW, NEW + "!", "Le due password non coincidono."),
    (PASSWORD, PASSWORD, PASSWORD, "Scegli una password diversa da quella attuale."),
])
def test_a_bad_password_change_is_refused_next_to_the_field(app, people, db, current, new, repeated, message):
    client = app.test_client()
    sign_in(client, "giulia")
    response = submit(client, "/account/password", {"current": current, "new": new, "repeated": repeated},
                      form_page="/account")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert verify_password(_user(db, "giulia").password_hash, PASSWORD)
    assert db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all() == []


def test_changing_the_password_signs_out_the_other_sessions(app, people, db):
    elsewhere = app.test_client()
    sign_in(elsewhere, "giulia")
    client = app.test_client()
    sign_in(client, "giulia")
    response = submit(client, "/account/password", {"current": PASSWORD, "new": NEW, "repeated": NEW},
                      form_page="/account")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "La tua password è stata cambiata." in page and "1 altra sessione è stata chiusa." in page
    assert elsewhere.get("/").status_code == 302  # the other browser is signed out
    assert client.get("/").status_code == 200  # this one is not
    fresh = app.test_client()
    assert sign_in(fresh, "giulia", NEW).status_code == 302 and fresh.get("/").status_code == 200
    [entry] = db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all()
    assert (entry.action, entry.subject_type, entry.changes["password"]) == ("update_own_account", "user",
                                                                             [None, "changed"])


def test_the_language_preference_applies_to_the_next_page(app, people, db):
    client = app.test_client()
    sign_in(client, "giulia")
    assert "<h1 class=\"h2 mb-0\">Oggi</h1>" in client.get("/").get_data(as_text=True)
    response = submit(client, "/account/preferences", {"locale": "en", "email_reminders": "y"},
                      form_page="/account")
    assert response.status_code == 302
    assert "<h1 class=\"h2 mb-0\">Today</h1>" in client.get("/").get_data(as_text=True)
    giulia = _user(db, "giulia")
    assert (giulia.locale, giulia.email_digest, giulia.email_reminders) == ("en", False, True)
    # Chosen on another device, the account's language follows the person to this browser too.
    giulia.locale = "it"
    db.commit()
    assert "<h1 class=\"h2 mb-0\">Oggi</h1>" in client.get("/").get_data(as_text=True)
    [entry] = db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all()
    assert entry.changes == {"locale": ["it", "en"], "email_digest": ["True", "False"]}


def test_an_unknown_language_is_refused(app, people, db):
    client = app.test_client()
    sign_in(client, "giulia")
    response = submit(client, "/account/preferences", {"locale": "fr", "email_digest": "y", "email_reminders": "y"},
                      form_page="/account")
    assert response.status_code == 422
    assert "Scegli una delle lingue dell'elenco." in response.get_data(as_text=True)
    assert _user(db, "giulia").locale == "it"


def test_the_signed_in_devices_and_signing_out_everywhere_else(app, people, db):
    phone = app.test_client()
    sign_in(phone, "giulia")
    client = app.test_client()
    sign_in(client, "giulia")
    page = client.get("/account").get_data(as_text=True)
    assert page.count("<tr") == 3 and page.count("questa sessione") == 1  # header row + two sessions
    assert "Esci da tutti gli altri dispositivi" in page
    response = submit(client, "/account/sessions/end-others", {}, form_page="/account")
    assert response.status_code == 302
    assert phone.get("/").status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert "1 altra sessione è stata chiusa." in page and page.count("<tr") == 2
    db.expire_all()
    assert len(db.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).all()) == 1
    [entry] = db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).all()
    assert entry.changes == {"other_sessions_ended": [None, "1"]}
