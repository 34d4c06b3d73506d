"""The second factor in the browser's flow: enrolment with a QR code and the current password,
recovery codes shown once, the code asked after the password, recovery codes spent once, failed
codes throttled and logged, and the roles that must enrol (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, RecoveryCode, SecondFactor, UserSession
from casework.security import throttle
from casework.web import context
from tests.web.conftest import PASSWORD, csrf_token, sign_in, submit

SECRET = re.compile(r'<span class="font-monospace">([A-Z2-7 ]{39})</span>')
RECOVERY = re.compile(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>")


@pytest.fixture
def app(engine_app):
    return engine_app


def enrol(client) -> tuple[str, list[str]]:
    """Enable the second factor from the own-account page: the secret read from the page, as a
    person types it into the app; the recovery codes shown."""
    page = client.get("/account/second-factor")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text and "<path" in text  # the QR code, drawn by the server
    secret = SECRET.search(text).group(1).replace(" ", "")
    response = submit(client, "/account/second-factor",
                      {"password": PASSWORD, "code": pyotp.TOTP(secret).now()}, form_page="/account/second-factor")
    assert response.status_code == 200
    codes = RECOVERY.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def sign_out(client) -> None:
    assert submit(client, "/logout", {}, form_page="/account").status_code == 302


def code_step(client, code: str):
    return submit(client, "/login/code", {"code": code}, form_page="/login/code")


def test_enrolment_refuses_a_wrong_password_or_code_next_to_the_field(app, people, db):
    client = app.test_client()
    sign_in(client, "elena")
    page = client.get("/account/second-factor").get_data(as_text=True)
    secret = SECRET.search(page).group(1).replace(" ", "")
    response = submit(client, "/account/second-factor", {"password": "sbagliata", "code": "123456"},
                      form_page="/account/second-factor")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Questa non è la tua password attuale." in text and "Questo codice non è corretto" in text
    # The same secret is offered again: the app the person already scanned keeps working.
    assert secret == SECRET.search(text).group(1).replace(" ", "")
    assert db.scalars(select(SecondFactor)).all() == []


def test_sign_in_with_a_code_after_enrolment(app, people, db, monkeypatch):
    client = app.test_client()
    sign_in(client, "elena")
    secret, codes = enrol(client)
    assert len(db.scalars(select(RecoveryCode)).all()) == 10
    assert all(code not in row.code_hash for row in db.scalars(select(RecoveryCode)) for code in codes)
    sign_out(client)

    response = sign_in(client, "elena")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/").status_code == 302  # not signed in yet
    assert code_step(client, "000000").status_code == 422
    # A code computed as the phone would, a step later (the previous one was spent at enrolment).
    later = datetime.now(UTC) + timedelta(seconds=31)
    monkeypatch.setattr(context, "now", lambda: later)
    response = code_step(client, pyotp.TOTP(secret).at(later))
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    db.expire_all()
    actions = [e.action for e in db.scalars(select(AdministrativeLogEntry).where(
        AdministrativeLogEntry.subject_type == "sign_in").order_by(AdministrativeLogEntry.id))]
    assert actions[-3:] == ["sign_in_password_accepted", "second_factor_failed", "sign_in"]


def test_a_recovery_code_works_once(app, people, db):
    client = app.test_client()
    sign_in(client, "elena")
    _, codes = enrol(client)
    sign_out(client)
    sign_in(client, "elena")
    response = code_step(client, codes[0].upper())
    assert response.status_code == 302
    assert "ne restano 9" in client.get(response.headers["Location"]).get_data(as_text=True)
    sign_out(client)
    sign_in(client, "elena")
    assert code_step(client, codes[0]).status_code == 422


def test_failed_codes_are_throttled_like_passwords(app, people, db):
    client = app.test_client()
    sign_in(client, "elena")
    enrol(client)
    sign_out(client)
    sign_in(client, "elena")
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        assert code_step(client, "000000").status_code == 422
    response = code_step(client, "000000")
    assert "Troppi tentativi non riusciti: attendi" in response.get_data(as_text=True)
    # The right password again does not clear the failures: the next code must still wait.
    sign_in(client, "elena")
    assert "Troppi tentativi non riusciti" in code_step(client, "000000").get_data(as_text=True)


def test_the_code_step_without_a_password_first_goes_back_to_sign_in(app, people):
    client = app.test_client()
    response = client.get("/login/code")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_turning_it_off_takes_the_password(app, people, db):
    client = app.test_client()
    sign_in(client, "giulia")
    enrol(client)
    response = submit(client, "/account/second-factor/disable", {"password": "sbagliata"},
                      form_page="/account/second-factor")
    assert response.status_code == 422 and "Questa non è la tua password attuale." in response.get_data(as_text=True)
    response = submit(client, "/account/second-factor/disable", {"password": PASSWORD},
                      form_page="/account/second-factor")
    assert response.status_code == 302
    sign_out(client)
    assert sign_in(client, "giulia").status_code == 302 and client.get("/").status_code == 200


def test_required_roles_are_sent_to_enrolment_until_they_have_enrolled(app, people, db):
    settings = app.extensions["casework"]["settings"]
    app.extensions["casework"]["settings"] = dataclasses.replace(settings, require_second_factor_for=("supervisor",))
    supervisor = app.test_client()
    sign_in(supervisor, "elena")
    for url in ("/", "/caseload", "/account"):
        response = supervisor.get(url)
        assert response.status_code == 302 and response.headers["Location"] == "/account/second-factor", url
    page = supervisor.get("/account/second-factor").get_data(as_text=True)
    assert "Il tuo ruolo deve accedere con un secondo fattore" in page
    enrol(supervisor)
    assert supervisor.get("/").status_code == 200
    # Once enrolled, the role cannot turn it off.
    response = submit(supervisor, "/account/second-factor/disable", {"password": PASSWORD},
                      form_page="/account/second-factor")
    assert response.status_code == 302 and db.scalars(select(SecondFactor)).one()
    # Other roles are not asked.
    manager = app.test_client()
    sign_in(manager, "giulia")
    assert manager.get("/").status_code == 200
    assert csrf_token(manager, "/account")


def test_enrolment_ends_no_session_and_needs_a_signed_in_user(app, people, db):
    client = app.test_client()
    assert client.get("/account/second-factor").status_code == 302
    sign_in(client, "giulia")
    enrol(client)
    assert db.scalars(select(UserSession).where(UserSession.ended_at.is_(None))).one()
