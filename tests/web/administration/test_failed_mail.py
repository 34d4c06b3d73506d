"""The administrator's failed-mail page: real e-mails refused by a real SMTP server, sent again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from casework.config import load_settings
from casework.models import EmailStatus, OutboundEmail
from casework.reminders.mail import MailPolicy, SmtpMailer, deliver_due_emails, queue_email
from tests.reminders.helpers import running_smtp_server
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/notifications")})
    return client


def deliver(app, port: int):
    mailer = SmtpMailer(load_settings({"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout_seconds": 5},
                                      environ={}))
    return deliver_due_emails(app.extensions["casework"]["session_factory"], mailer,
                              clock=lambda: datetime.now(UTC), policy=MailPolicy(max_attempts=3), holder="test")


@pytest.fixture
def refused(app, db, people, smtp_server) -> OutboundEmail:
    """A reminder e-mail to the case manager that the mail server refused for good (550)."""
    handler, port = smtp_server
    email = queue_email(db, dedupe_key="test:refused", kind="reminder", recipient=people.manager,
                        subject="[Casework] Promemoria: Screening", body="Patto n. 1\n", now=datetime.now(UTC))
    db.commit()
    handler.reject_with = "550 no such user here"
    assert deliver(app, port).failed == 1
    db.expire_all()
    return db.get(OutboundEmail, email.id)


def test_an_administrator_reaches_failed_mail_from_the_menu_sees_it_and_sends_it_again(
    app, db, people, smtp_server, refused
):
    client = app.test_client()
    response = sign_in(client, "admin")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/users"
    assert 'href="/admin/failed-mail"' in client.get("/admin/users").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/admin/failed-mail")})
    page = client.get("/admin/failed-mail").get_data(as_text=True)
    assert "giulia@example.org" in page and "[Casework] Promemoria: Screening" in page
    assert "550" in page and "no such user here" in page
    assert "1 e-mail not delivered." in page and 'href="/admin/failed-mail"' in page  # in the menu too

    response = submit(client, f"/admin/failed-mail/{refused.id}/retry", {}, form_page="/admin/failed-mail")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/failed-mail"
    page = client.get("/admin/failed-mail").get_data(as_text=True)
    assert "The e-mail is back in the outbox" in page and "No failed e-mail" in page
    db.expire_all()
    email = db.get(OutboundEmail, refused.id)
    assert (email.status, email.attempts) == (EmailStatus.PENDING, 0)

    # The mail server is fixed: the next delivery run sends it.
    handler, port = smtp_server
    handler.reject_with = None
    assert deliver(app, port).sent == 1
    assert [str(message["To"]) for message in handler.received()] == ["giulia@example.org"]


def test_sending_again_an_e_mail_that_is_no_longer_failed_only_says_so(app, db, people, refused):
    client = client_for(app, "admin")
    submit(client, f"/admin/failed-mail/{refused.id}/retry", {}, form_page="/admin/failed-mail")
    response = submit(client, f"/admin/failed-mail/{refused.id}/retry", {}, form_page="/admin/failed-mail")
    assert response.status_code == 302
    page = client.get("/admin/failed-mail").get_data(as_text=True)
    assert "This e-mail is no longer among the failed ones." in page
    assert submit(client, "/admin/failed-mail/999999/retry", {}, form_page="/admin/failed-mail").status_code == 302


@pytest.mark.parametrize("username", ["giulia", "elena"])
def test_case_managers_and_supervisors_may_not_open_it(app, db, people, refused, username):
    client = client_for(app, username)
    assert client.get("/admin/failed-mail").status_code == 403
    assert submit(client, f"/admin/failed-mail/{refused.id}/retry", {}, form_page="/").status_code == 403
    db.expire_all()
    assert db.get(OutboundEmail, refused.id).status == EmailStatus.FAILED
    assert 'href="/admin/failed-mail"' not in client.get("/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(app, people):
    response = app.test_client().get("/admin/failed-mail")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_other_roles_still_land_on_today(app, people):
    for username in ("giulia", "elena"):
        response = sign_in(app.test_client(), username)
        assert response.headers["Location"] == "/"
    admin = app.test_client()
    sign_in(admin, "admin")
    assert admin.get("/login").headers["Location"] == "/admin/users"
