"""The accounts pages, the password links read from a real SMTP server, the forgotten password
and the administrative log, for each role, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from casework.administration import tokens
from casework.models import (
    AccountToken,
    AdministrativeLogEntry,
    OutboundEmail,
    Role,
    User,
    UserSession,
)
from tests.administration.helpers import deliver as deliver_at
from tests.administration.helpers import links_to
from tests.reminders.helpers import running_smtp_server
from tests.web.conftest import CSRF, PASSWORD, csrf_token, sign_in, submit

ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


def client_for(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    assert sign_in(client, username, password).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    return client


def english(app):
    client = app.test_client()
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    return client


def deliver(app, port: int) -> None:
    deliver_at(app.extensions["casework"]["session_factory"], port, datetime.now(UTC))


def invite_form(people, **overrides) -> dict:
    values = {"full_name": "Sara Verdi", "username": "sara.verdi", "email": "sara@example.org",
              "role": "case_manager", "territory_id": str(people.manager.territory_id), "organisation_id": ""}
    values.update(overrides)
    return values


def edit_form(user: User, **overrides) -> dict:
    values = {"full_name": user.full_name, "username": user.username, "email": user.email, "role": user.role.value,
              "territory_id": str(user.territory_id), "organisation_id": ""}
    values.update(overrides)
    return values


def table(page: str) -> str:
    """The page's main table, without the header that names who is signed in."""
    return page[page.index("<table"):page.index("</table>")] if "<table" in page else ""


def log_entries(db, action: str) -> list[AdministrativeLogEntry]:
    db.expire_all()
    return list(db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.action == action)))


# --- who may open what -------------------------------------------------------------------------

PAGES = ["/admin/users", "/admin/users/new", "/admin/users/{manager}", "/admin/log"]
ACTIONS = ["/admin/users/{manager}/deactivate", "/admin/users/{manager}/reactivate",
           "/admin/users/{manager}/password-link"]


def test_anonymous_visitors_are_sent_to_sign_in(app, people):
    client = app.test_client()
    for page in PAGES + ACTIONS:
        url = page.format(manager=people.manager.id)
        response = client.get(url) if page in PAGES else client.post(url, data={"csrf_token": csrf_token(client)})
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url


def test_case_managers_may_open_none_of_it(app, db, people):
    client = client_for(app, "giulia")
    for page in PAGES:
        assert client.get(page.format(manager=people.colleague.id)).status_code == 403, page
    for action in ACTIONS:
        assert submit(client, action.format(manager=people.colleague.id), {}, form_page="/").status_code == 403
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' not in page and 'href="/admin/log"' not in page
    db.expire_all()
    assert db.get(User, people.colleague.id).active


def test_a_supervisor_manages_their_case_managers_and_nobody_else(app, db, people):
    client = client_for(app, "elena")
    for page in PAGES[:3]:
        assert client.get(page.format(manager=people.manager.id)).status_code == 200, page
    assert client.get("/admin/log").status_code == 403
    page = client.get("/admin/users").get_data(as_text=True)
    assert 'href="/admin/users"' in page and 'href="/admin/log"' not in page
    listing = table(page)
    assert "Giulia Rossi" in listing and "Marco Rossi" in listing
    assert "Admin Rossi" not in listing and "Paolo Rossi" not in listing and "Elena Rossi" not in listing
    for other in (people.admin, people.other_supervisor, people.supervisor):
        assert client.get(f"/admin/users/{other.id}").status_code == 404
        assert submit(client, f"/admin/users/{other.id}/deactivate", {}, form_page="/admin/users").status_code == 404
    # The role list offers only "case manager"; a forged supervisor is refused.
    new_page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="case_manager"' in new_page and 'value="supervisor"' not in new_page
    response = submit(client, "/admin/users/new", invite_form(people, role="admin"))
    assert response.status_code == 422 and "Choose one of the values in the list." in response.get_data(as_text=True)


def test_a_supervisor_of_another_territory_gets_not_found(app, db, people):
    client = client_for(app, "paolo")
    assert client.get("/admin/users").status_code == 200
    assert "Giulia Rossi" not in table(client.get("/admin/users").get_data(as_text=True))
    assert client.get(f"/admin/users/{people.manager.id}").status_code == 404
    for action in ACTIONS:
        assert submit(client, action.format(manager=people.manager.id), {}, form_page="/admin/users").status_code == 404
    response = submit(client, f"/admin/users/{people.manager.id}", edit_form(people.manager, full_name="X"),
                      form_page="/admin/users/new")
    assert response.status_code == 404
    db.expire_all()
    assert db.get(User, people.manager.id).full_name == "Giulia Rossi"
    response = submit(client, "/admin/users/new", invite_form(people))  # a territory that is not theirs
    assert response.status_code == 422
    assert db.scalar(select(func.count()).select_from(User).where(User.username == "sara.verdi")) == 0


def test_an_administrator_lands_on_users_and_has_every_page_in_the_menu(app, people):
    client = app.test_client()
    assert sign_in(client, "admin").headers["Location"] == "/admin/users"
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    for page in PAGES:
        assert client.get(page.format(manager=people.manager.id)).status_code == 200, page
    menu = client.get("/admin/users").get_data(as_text=True)
    for link in ('href="/admin/users"', 'href="/admin/log"', 'href="/admin/failed-mail"'):
        assert link in menu
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "5 users." in listing and "Paolo Rossi" in listing


# --- invitation ----------------------------------------------------------------------------------

def test_an_invitation_arrives_by_e_mail_and_its_link_works_once(app, db, people, smtp_server):
    handler, port = smtp_server
    admin = client_for(app, "admin")
    response = submit(admin, "/admin/users/new", invite_form(people, username="Sara.Verdi"))
    assert response.status_code == 302
    sara = db.scalar(select(User).where(User.username == "sara.verdi"))
    assert response.headers["Location"] == f"/admin/users/{sara.id}"
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Invitation sent to sara@example.org" in page and "Invitation pending" in page
    assert sign_in(app.test_client(), "sara.verdi", "anything").status_code == 422  # no password yet

    deliver(app, port)
    [(kind, token)] = links_to(handler, "sara@example.org")
    assert kind == "invitation"
    visitor = english(app)
    url = f"/invitation/{token}"
    page = visitor.get(url)
    assert page.status_code == 200 and "sara.verdi" in page.get_data(as_text=True)
    response = submit(visitor, url, {"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "at least 12 characters" in response.get_data(as_text=True)
    response = submit(visitor, url, {"password": "a-good-long-password", "confirm": "another-long-password"})
    assert response.status_code == 422 and "The two passwords differ." in response.get_data(as_text=True)
    response = submit(visitor, url, {"password": "a-good-long-password", "confirm": "a-good-long-password"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert sign_in(app.test_client(), "Sara.Verdi", "a-good-long-password").status_code == 302

    used = visitor.get(url)
    assert used.status_code == 410 and "already used" in used.get_data(as_text=True)
    assert visitor.post(url, data={"csrf_token": csrf_token(visitor, "/login"), "password": "x" * 20,
                                   "confirm": "x" * 20}).status_code == 410
    tampered = visitor.get(f"/invitation/{token[:-3]}xyz")
    assert tampered.status_code == 404 and "not valid" in tampered.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(User).where(User.username == "sara.verdi")).active
    log_page = client_for(app, "admin").get("/admin/log?subject_type=user").get_data(as_text=True)
    assert "invite" in log_page and "accept_invitation" in log_page and "sara.verdi" in log_page
    assert token not in log_page and "argon2" not in log_page


def test_an_expired_invitation_is_refused_and_a_new_one_can_be_sent(app, db, people, smtp_server):
    handler, port = smtp_server
    admin = client_for(app, "admin")
    submit(admin, "/admin/users/new", invite_form(people))
    sara = db.scalar(select(User).where(User.username == "sara.verdi"))
    db.execute(update(AccountToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.commit()
    deliver(app, port)
    [(_, token)] = links_to(handler, "sara@example.org")
    expired = english(app).get(f"/invitation/{token}")
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)

    page = admin.get(f"/admin/users/{sara.id}").get_data(as_text=True)
    assert "Send the invitation again" in page
    response = submit(admin, f"/admin/users/{sara.id}/password-link", {}, form_page=f"/admin/users/{sara.id}")
    assert response.status_code == 302
    assert "A new invitation was sent" in admin.get(response.headers["Location"]).get_data(as_text=True)
    deliver(app, port)
    [_, (_, fresh)] = links_to(handler, "sara@example.org")
    assert english(app).get(f"/invitation/{fresh}").status_code == 200


@pytest.mark.parametrize("overrides, message", [
    ({"full_name": "", "email": ""}, "Fill in this field."),
    ({"username": "sara verdi"}, "Use lower-case letters, digits"),
    ({"email": "not-an-address"}, "Write an e-mail address"),
    ({"username": "GIULIA"}, "Another account already has this username"),
    ({"email": "Marco@Example.ORG"}, "Another account already has this e-mail address"),
    ({"territory_id": ""}, "Fill in this field."),
    ({"territory_id": "99999"}, "Choose one of the values in the list."),
])
def test_bad_invitations_are_refused_next_to_the_field_and_nothing_is_saved(app, db, people, overrides, message):
    admin = client_for(app, "admin")
    response = submit(admin, "/admin/users/new", invite_form(people, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == 5
    assert db.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    assert db.scalar(select(func.count()).select_from(AdministrativeLogEntry)
                     .where(AdministrativeLogEntry.subject_type != "sign_in")) == 0


def test_a_form_without_its_csrf_token_is_refused(app, db, people):
    admin = client_for(app, "admin")
    assert admin.post("/admin/users/new", data=invite_form(people)).status_code in (400, 422)
    assert admin.post("/password/forgotten", data={"identifier": "giulia"}).status_code in (400, 422)
    assert db.scalar(select(func.count()).select_from(User)) == 5


# --- editing, deactivating, the administrator rules ----------------------------------------------

def test_an_administrator_edits_an_account_and_the_log_shows_it(app, db, people):
    admin = client_for(app, "admin")
    url = f"/admin/users/{people.manager.id}"
    response = submit(admin, url, edit_form(people.manager, full_name="Giulia Neri", role="supervisor",
                                            territory_id=str(people.other_supervisor.territory_id)))
    assert response.status_code == 302
    assert "Account giulia saved." in admin.get(url).get_data(as_text=True)
    db.expire_all()
    giulia = db.get(User, people.manager.id)
    assert (giulia.full_name, giulia.role, giulia.territory_id) == (
        "Giulia Neri", Role.SUPERVISOR, people.other_supervisor.territory_id)
    [entry] = log_entries(db, "update")
    assert entry.actor_id == people.admin.id and entry.ip_address == "127.0.0.1"
    assert entry.changes["role"] == ["case_manager", "supervisor"]
    log_page = admin.get(f"/admin/log?actor={people.admin.id}&subject_type=user").get_data(as_text=True)
    assert "1 entry." in log_page and "Giulia Neri" in log_page and "case_manager → supervisor" in log_page

    response = submit(admin, url, edit_form(giulia, email="MARCO@example.org"))
    assert response.status_code == 422
    assert "Another account already has this e-mail address" in response.get_data(as_text=True)


def test_nobody_demotes_or_deactivates_themselves_nor_the_last_administrator(app, db, people):
    admin = client_for(app, "admin")
    url = f"/admin/users/{people.admin.id}"
    response = submit(admin, url, edit_form(people.admin, role="supervisor"))
    assert response.status_code == 422
    assert "You cannot demote or deactivate your own account" in response.get_data(as_text=True)
    assert "Deactivate the account" not in admin.get(url).get_data(as_text=True)
    response = submit(admin, f"{url}/deactivate", {}, form_page=url)
    assert response.status_code == 422
    assert "You cannot demote or deactivate your own account" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, people.admin.id).role == Role.ADMIN and db.get(User, people.admin.id).active
    # With a second administrator, one may demote the other (the core refuses the last one:
    # through the pages, the only actor who could try is the last administrator themselves).
    db.get(User, people.colleague.id).role = Role.ADMIN
    db.commit()
    colleague = client_for(app, "marco")
    assert submit(colleague, url, edit_form(people.admin, role="supervisor")).status_code == 302
    db.expire_all()
    assert db.get(User, people.admin.id).role == Role.SUPERVISOR
    assert admin.get("/admin/log").status_code == 403  # at once: the next request has the new role


def test_deactivation_signs_the_person_out_at_once_and_reactivation_lets_them_back(app, db, people):
    giulia = client_for(app, "giulia")
    assert giulia.get("/").status_code == 200
    supervisor = client_for(app, "elena")
    url = f"/admin/users/{people.manager.id}"
    response = submit(supervisor, f"{url}/deactivate", {}, form_page=url)
    assert response.status_code == 302
    assert "is deactivated and signed out everywhere" in supervisor.get(url).get_data(as_text=True)
    assert giulia.get("/").status_code == 302  # back to the sign-in page
    assert db.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == people.manager.id, UserSession.ended_at.is_(None))) == 0
    assert sign_in(app.test_client(), "giulia").status_code == 422
    listing = supervisor.get("/admin/users?state=inactive").get_data(as_text=True)
    assert "Giulia Rossi" in listing and "Marco Rossi" not in listing
    response = submit(supervisor, f"{url}/reactivate", {}, form_page=url)
    assert response.status_code == 302
    assert sign_in(app.test_client(), "giulia").status_code == 302
    assert [e.action for e in log_entries(db, "deactivate") + log_entries(db, "reactivate")] == [
        "deactivate", "reactivate"]


def test_a_reset_link_from_the_account_page_ends_every_session(app, db, people, smtp_server):
    handler, port = smtp_server
    giulia = client_for(app, "giulia")
    admin = client_for(app, "admin")
    url = f"/admin/users/{people.manager.id}"
    response = submit(admin, f"{url}/password-link", {}, form_page=url)
    assert "valid for 1 hour" in admin.get(response.headers["Location"]).get_data(as_text=True)
    page = admin.get(url).get_data(as_text=True)
    assert "Last sign-ins" in page and "127.0.0.1" in page
    deliver(app, port)
    [(kind, token)] = links_to(handler, "giulia@example.org")
    assert kind == "password/reset"
    visitor = english(app)
    response = submit(visitor, f"/password/reset/{token}", {"password": "nuova-password-2027",
                                                             "confirm": "nuova-password-2027"})
    assert response.status_code == 302
    assert giulia.get("/").status_code == 302  # signed out
    assert sign_in(app.test_client(), "giulia").status_code == 422  # the old password no longer works
    assert sign_in(app.test_client(), "giulia", "nuova-password-2027").status_code == 302
    assert visitor.get(f"/password/reset/{token}").status_code == 410
    assert [e.action for e in log_entries(db, "send_reset_link")] == ["send_reset_link"]


def test_users_are_listed_with_filters_and_pages(app, db, people):
    admin = client_for(app, "admin")
    db.get(User, people.manager.id).last_sign_in_at = datetime.now(UTC) - timedelta(days=200)
    for number in range(55):
        db.add(User(username=f"user{number:02d}", full_name=f"Zeta {number:02d}", email=f"u{number}@example.org",
                    password_hash="!", role=Role.CASE_MANAGER, territory_id=people.manager.territory_id))
    db.commit()
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "60 users." in page and "Zeta 44" in page and "Zeta 45" not in page
    assert "Zeta 45" in admin.get("/admin/users?page=2").get_data(as_text=True)
    page = admin.get("/admin/users?role=supervisor").get_data(as_text=True)
    assert "2 users." in page and "Elena Rossi" in page and "Paolo Rossi" in page
    page = admin.get(f"/admin/users?territory={people.other_supervisor.territory_id}").get_data(as_text=True)
    assert "1 user." in page and "Paolo Rossi" in page
    page = admin.get("/admin/users?role=case_manager&signed_in=stale&state=active").get_data(as_text=True)
    assert "Giulia Rossi" in page and "Marco Rossi" in page
    assert "Giulia Rossi" not in admin.get("/admin/users?signed_in=never").get_data(as_text=True)
    assert admin.get("/admin/users?role=wizard&territory=abc&page=-3").status_code == 200  # nonsense ignored


# --- forgotten password --------------------------------------------------------------------------

def test_forgotten_password_answers_the_same_whoever_asks(app, db, people, smtp_server):
    handler, port = smtp_server
    login = english(app).get("/login").get_data(as_text=True)
    assert 'href="/password/forgotten"' in login
    answers = []
    for identifier in ("nobody", "GIULIA@example.org", "elena"):
        visitor = english(app)
        response = submit(visitor, "/password/forgotten", {"identifier": identifier})
        assert response.status_code == 200
        # The form's CSRF token is signed with the second it was made: it differs, nothing else may.
        answers.append(re.sub(r'(name="csrf_token"[^>]*value=")[^"]*"', r"\1", response.get_data(as_text=True)))
    assert answers[0] == answers[1] == answers[2]
    assert "If an active account matches" in answers[0]
    deliver(app, port)
    assert sorted(str(m["To"]) for m in handler.received()) == ["elena@example.org", "giulia@example.org"]
    response = submit(english(app), "/password/forgotten", {"identifier": ""})
    assert response.status_code == 422


def test_forgotten_password_is_throttled_per_address_and_per_account(app, db, people, smtp_server):
    handler, port = smtp_server
    visitor = english(app)
    for _ in range(tokens.MAX_RESET_REQUESTS_PER_ADDRESS):
        assert submit(visitor, "/password/forgotten", {"identifier": "giulia"}).status_code == 200
    response = submit(visitor, "/password/forgotten", {"identifier": "giulia"})
    assert response.status_code == 429 and "Too many requests" in response.get_data(as_text=True)
    deliver(app, port)
    # Of the ten, only three reached the account within the hour.
    assert len(links_to(handler, "giulia@example.org")) == tokens.MAX_RESET_REQUESTS_PER_ACCOUNT
    # Only the newest link works: each one superseded the one before.
    *older, (_, newest) = links_to(handler, "giulia@example.org")
    for _, token in older:
        assert visitor.get(f"/password/reset/{token}").status_code == 410
    assert visitor.get(f"/password/reset/{newest}").status_code == 200


# --- the administrative log ----------------------------------------------------------------------

def test_the_log_is_filtered_by_actor_subject_and_dates(app, db, people):
    yesterday = datetime.now(UTC) - timedelta(days=1)
    from casework.security import record_admin_change

    record_admin_change(db, actor=people.admin, action="update", subject_type="territory", subject_id=1,
                        subject_label="Unione NET", changes={"name": ["Unione", "Unione NET"]}, now=yesterday,
                        ip_address="192.0.2.4")
    record_admin_change(db, actor=people.supervisor, action="update", subject_type="programme", subject_id=2,
                        subject_label="TILDE", changes={}, now=yesterday - timedelta(days=30))
    db.commit()
    admin = client_for(app, "admin")
    page = admin.get("/admin/log").get_data(as_text=True)
    # The two changes and the administrator's own sign-in.
    assert "3 entries." in page and "signed in" in page and "Unione NET" in page and "TILDE" in page and "192.0.2.4" in page
    assert "TILDE" not in admin.get(f"/admin/log?actor={people.admin.id}").get_data(as_text=True)
    assert "Unione NET" not in admin.get("/admin/log?subject_type=programme").get_data(as_text=True)
    day = (yesterday - timedelta(days=30)).astimezone(ROME).date().isoformat()  # the log's days are Rome's
    page = admin.get(f"/admin/log?start={day}&end={day}").get_data(as_text=True)
    assert "1 entry." in page and "TILDE" in page
    response = admin.get("/admin/log?start=yesterday&actor=abc")
    assert response.status_code == 422 and "3 entries." in response.get_data(as_text=True)
    # Nothing on the page changes it: there is no form that posts to the log.
    assert admin.post("/admin/log", data={"csrf_token": csrf_token(admin, "/admin/log")}).status_code == 405


def test_the_pages_speak_italian_by_default(app, db, people, smtp_server):
    handler, port = smtp_server
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert ">Utenti<" in page and ">Registro amministrativo<" in page and "Invita un utente" in page
    response = submit(admin, "/admin/users/new", invite_form(people, username="GIULIA", email="posta"))
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Un altro account ha già questo nome utente" in text and "Scrivi un indirizzo e-mail" in text
    assert submit(admin, "/admin/users/new", invite_form(people)).status_code == 302
    deliver(app, port)
    [message] = handler.received()
    assert str(message["Subject"]) == "[Casework] Il tuo account: scegli una password"
    assert "Scegli la tua password entro 72 ore" in message.get_content()
    [(_, token)] = links_to(handler, "sara@example.org")
    visitor = app.test_client()
    refused = visitor.get(f"/invitation/{token}x")
    assert refused.status_code == 404 and "Link non valido" in refused.get_data(as_text=True)
    response = submit(visitor, f"/invitation/{token}", {"password": "corta", "confirm": "corta"})
    assert "Scegli una password di almeno 12 caratteri." in response.get_data(as_text=True)
    login = visitor.get("/login").get_data(as_text=True)
    assert "Password dimenticata?" in login


def test_a_forged_host_header_does_not_reach_the_password_link(app, db, people, smtp_server):
    # Host header poisoning: a stranger asks a reset for someone, through a Host of theirs; the
    # e-mail's link must still point to Casework's configured address, not to theirs.
    handler, port = smtp_server
    visitor, forged = app.test_client(), "http://evil.example.net"
    page = visitor.get("/password/forgotten", base_url=forged).get_data(as_text=True)
    response = visitor.post("/password/forgotten", base_url=forged,
                            data={"identifier": "giulia", "csrf_token": CSRF.search(page)[1]})
    assert response.status_code == 200
    deliver(app, port)
    [message] = handler.received()
    body = message.get_content()
    assert "evil.example.net" not in body
    assert f"{app.extensions['casework']['settings'].base_url}/password/" in body
