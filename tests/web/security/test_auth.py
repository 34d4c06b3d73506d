"""Sign-in, sessions that really end, throttling, CSRF, headers, language, error pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from casework.models import LoginAttempt, UserSession
from casework.security import auth, throttle
from casework.web import context
from tests.web.conftest import PASSWORD, csrf_token, sign_in, submit


def test_pages_need_a_signed_in_user(client_and_people):
    client, _ = client_and_people
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_sign_in_and_out(client_and_people, db):
    client, people = client_and_people
    response = sign_in(client, "giulia")
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    [record] = db.scalars(select(UserSession)).all()
    assert record.ended_at is None

    assert submit(client, "/logout", {}, form_page="/").status_code == 302
    db.expire_all()
    assert db.scalars(select(UserSession)).one().ended_at is not None
    assert client.get("/").status_code == 302


def test_a_copied_session_cookie_stops_working_after_logout(app, people, db):
    client = app.test_client()
    sign_in(client, "giulia")
    stolen = app.test_client()
    stolen.set_cookie("casework_session", client.get_cookie("casework_session").value)
    assert stolen.get("/").status_code == 200
    submit(client, "/logout", {}, form_page="/")
    assert stolen.get("/").status_code == 302


def test_deactivating_an_account_ends_its_sessions(app, people, db):
    client = app.test_client()
    sign_in(client, "giulia")
    assert client.get("/").status_code == 200
    user = db.get(type(people.manager), people.manager.id)
    auth.deactivate_user(db, user, now=datetime.now(timezone.utc))
    db.commit()
    assert client.get("/").status_code == 302
    assert "Nome utente o password errati." in sign_in(client, "giulia").get_data(as_text=True)


def test_failed_sign_in_does_not_tell_whether_the_account_exists(client_and_people):
    client, _ = client_and_people
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    wrong_password = sign_in(client, "giulia", "sbagliata").get_data(as_text=True)
    unknown_user = sign_in(client, "nessuno", "sbagliata").get_data(as_text=True)
    assert "Wrong username or password." in wrong_password
    assert "Wrong username or password." in unknown_user


def test_sign_in_is_slowed_down_after_repeated_failures_never_locked(client_and_people, db, monkeypatch):
    client, _ = client_and_people
    for _ in range(throttle.ACCOUNT_FREE_FAILURES):
        sign_in(client, "giulia", "sbagliata")
    # Right after, even the right password must wait a moment: the page says how long.
    page = sign_in(client, "giulia", PASSWORD)
    assert page.status_code == 422
    assert "Troppi tentativi non riusciti: attendi 1 secondo e riprova." in page.get_data(as_text=True)
    assert client.get("/").status_code == 302
    # The refused attempt was not checked, so it is not counted.
    attempts = db.scalars(select(LoginAttempt).where(LoginAttempt.username == "giulia")).all()
    assert len(attempts) == throttle.ACCOUNT_FREE_FAILURES
    # Once the wait is over the right password works.
    later = datetime.now(timezone.utc) + timedelta(seconds=2)
    monkeypatch.setattr(context, "now", lambda: later)
    assert sign_in(client, "giulia", PASSWORD).status_code == 302


def test_forms_without_a_csrf_token_are_refused(client_and_people):
    client, _ = client_and_people
    response = client.post("/login", data={"username": "giulia", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_security_headers(client_and_people):
    client, _ = client_and_people
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    # The session cookie, set before and after signing in, is out of scripts' reach and not sent
    # by other sites' forms.
    for cookies in (response.headers.getlist("Set-Cookie"), sign_in(client, "giulia").headers.getlist("Set-Cookie")):
        [session_cookie] = [c for c in cookies if c.startswith("casework_session=")]
        flags = {flag.strip().lower() for flag in session_cookie.split(";")[1:]}
        assert "httponly" in flags and "samesite=lax" in flags, session_cookie


def test_italian_by_default_and_english_on_request(client_and_people):
    client, _ = client_and_people
    assert "Accedi" in client.get("/login").get_data(as_text=True)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client)})
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_error_pages_are_translated(client_and_people):
    client, _ = client_and_people
    sign_in(client, "giulia")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.get_data(as_text=True)


def test_open_redirects_are_refused(client_and_people):
    client, _ = client_and_people
    response = submit(client, "/login?next=https://evil.example/", {"username": "giulia", "password": PASSWORD},
                      form_page="/login")
    assert response.headers["Location"] == "/"


def test_an_id_larger_than_any_row_is_not_found(app, people):
    client = app.test_client()
    sign_in(client, "giulia")
    for url in ["/pacts/99999999999999999999", "/beneficiaries/2147483648"]:
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/notifications")
    assert client.post("/notifications/99999999999999999999/done", data={"csrf_token": token}).status_code == 404


def test_administrators_read_the_alert_among_their_notifications(app, people, monkeypatch):
    monkeypatch.setattr(throttle, "ACCOUNT_ALERT_FAILURES", 3)
    guesser = app.test_client()
    for _ in range(3):
        sign_in(guesser, "giulia", "sbagliata")
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/notifications").get_data(as_text=True)
    assert "3 tentativi di accesso falliti in 15 minuti per l&#39;account &#34;giulia&#34;" in page
    # The log names each attempt, under its own heading.
    log = admin.get("/admin/log?subject_type=sign_in").get_data(as_text=True)
    assert "accesso rifiutato" in log and "non autenticato" in log and "wrong_password" in log
