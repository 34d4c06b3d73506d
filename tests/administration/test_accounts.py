"""Accounts: invitation and reset links through a real SMTP server, who may manage whom, the
last administrator, sessions ended, the administrative log, case-insensitive uniqueness."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from casework.administration import accounts, tokens
from casework.administration.accounts import UserFilters, UserInput
from casework.errors import InvalidInput
from casework.models import (
    AdministrativeLogEntry,
    OutboundEmail,
    Role,
    Territory,
    TerritoryKind,
    TokenPurpose,
    User,
    UserSession,
)
from casework.security import AdminLogFilters, admin_log, auth
from casework.security.passwords import hash_password
from tests.administration.helpers import deliver, links_to
from tests.conftest import MONDAY_9AM
from tests.reminders.helpers import running_smtp_server

NOW = MONDAY_9AM
PASSWORD = "una-password-lunga-2026"


def link_for(purpose: TokenPurpose, token: str) -> str:
    path = "invitation" if purpose == TokenPurpose.INVITATION else "password/reset"
    return f"http://casework.test/{path}/{token}"


@pytest.fixture
def smtp_server():
    yield from running_smtp_server()


@pytest.fixture
def admin(session, world) -> User:
    user = User(username="admin", full_name="Anna Admin", email="admin@example.org", password_hash=hash_password(PASSWORD),
                role=Role.ADMIN, territory=world.comune.parent)
    session.add(user)
    session.commit()
    return user


@pytest.fixture
def lodi(session) -> Territory:
    territory = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    session.add(territory)
    session.commit()
    return territory


def new_person(world, **overrides) -> UserInput:
    values = dict(username="Sara.Verdi", full_name="  Sara   Verdi ", email="sara@example.org", role="case_manager",
                  territory_id=world.comune.id, organisation_id=None)
    values.update(overrides)
    return UserInput(**values)


def invite(session, actor, world, **overrides) -> User:
    user = accounts.invite_user(session, actor, new_person(world, **overrides), now=NOW, link_for=link_for,
                                ip_address="192.0.2.1")
    session.commit()
    return user


def entries(session, action: str) -> list[AdministrativeLogEntry]:
    return [e for e in admin_log(session, AdminLogFilters(subject_type="user")).entries if e.action == action]


def test_an_invited_person_chooses_a_password_from_the_e_mail_once_and_signs_in(
    session, session_factory, world, admin, smtp_server
):
    handler, port = smtp_server
    user = invite(session, admin, world)
    assert (user.username, user.full_name, user.active) == ("sara.verdi", "Sara Verdi", False)
    assert accounts.account_status(user) == "invited"
    deliver(session_factory, port, NOW)
    [(kind, token)] = links_to(handler, "sara@example.org")
    assert kind == "invitation"
    [message] = handler.received()
    assert "sara.verdi" in message.get_content() and "72" in message.get_content()

    with pytest.raises(auth.LoginRefused):  # no password yet: nobody can sign in
        auth.authenticate(session, "sara.verdi", "!", ip_address="192.0.2.9", now=NOW)
    session.rollback()

    tokens.set_password_with_token(session, token, TokenPurpose.INVITATION, PASSWORD, now=NOW + timedelta(hours=71),
                                   ip_address="192.0.2.9")
    session.commit()
    assert auth.authenticate(session, "Sara.Verdi", PASSWORD, ip_address="192.0.2.9", now=NOW).id == user.id
    assert user.last_sign_in_at == NOW
    with pytest.raises(tokens.TokenRefused) as refused:  # used twice
        tokens.set_password_with_token(session, token, TokenPurpose.INVITATION, "another-long-password", now=NOW)
    assert refused.value.reason == "used"

    [invited] = entries(session, "invite")
    assert invited.actor_id == admin.id and invited.ip_address == "192.0.2.1"
    assert invited.changes["username"] == [None, "sara.verdi"] and invited.changes["role"] == [None, "case_manager"]
    [accepted] = entries(session, "accept_invitation")
    assert accepted.changes == {"password": [None, "changed"], "active": ["False", "True"]}
    every_change = str([e.changes for e in session.scalars(select(AdministrativeLogEntry))])
    assert token not in every_change and "argon2" not in every_change


def test_expired_tampered_and_wrong_purpose_links_are_refused(session, world, admin):
    user = invite(session, admin, world)
    token = tokens.issue_link(session, user, TokenPurpose.INVITATION, now=NOW, link_for=link_for)
    session.commit()
    for attempt, purpose, at, reason in (
        (token, TokenPurpose.INVITATION, NOW + timedelta(hours=72), "expired"),
        (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), TokenPurpose.INVITATION, NOW, "unknown"),
        (token, TokenPurpose.RESET, NOW, "unknown"),
    ):
        with pytest.raises(tokens.TokenRefused) as refused:
            tokens.set_password_with_token(session, attempt, purpose, PASSWORD, now=at)
        assert refused.value.reason == reason
    assert not user.active and not tokens.has_password(user)


def test_a_short_password_is_refused_and_the_link_stays_usable(session, world, admin):
    user = invite(session, admin, world)
    token = tokens.issue_link(session, user, TokenPurpose.INVITATION, now=NOW, link_for=link_for)
    session.commit()
    with pytest.raises(InvalidInput) as invalid:
        tokens.set_password_with_token(session, token, TokenPurpose.INVITATION, "short", now=NOW)
    assert invalid.value.errors == {"password": "too_short"}
    session.rollback()
    tokens.set_password_with_token(session, token, TokenPurpose.INVITATION, PASSWORD, now=NOW)
    session.commit()
    assert user.active


def test_a_reset_ends_every_session_and_a_new_link_supersedes_the_old(session, session_factory, world, admin,
                                                                       smtp_server):
    handler, port = smtp_server
    world.manager.password_hash = hash_password(PASSWORD)
    auth.start_session(session, world.manager, now=NOW)
    auth.start_session(session, world.manager, now=NOW)
    session.commit()
    assert accounts.send_password_link(session, admin, world.manager, now=NOW, link_for=link_for) == TokenPurpose.RESET
    session.commit()
    accounts.send_password_link(session, admin, world.manager, now=NOW + timedelta(minutes=5), link_for=link_for)
    session.commit()
    deliver(session_factory, port, NOW + timedelta(minutes=5))
    [(_, first), (_, second)] = links_to(handler, "giulia@example.org")
    with pytest.raises(tokens.TokenRefused) as refused:
        tokens.set_password_with_token(session, first, TokenPurpose.RESET, "a-brand-new-password", now=NOW)
    assert refused.value.reason == "used"
    with pytest.raises(tokens.TokenRefused) as refused:  # valid one hour
        tokens.set_password_with_token(session, second, TokenPurpose.RESET, "a-brand-new-password",
                                       now=NOW + timedelta(minutes=65, seconds=1))
    assert refused.value.reason == "expired"
    tokens.set_password_with_token(session, second, TokenPurpose.RESET, "a-brand-new-password",
                                   now=NOW + timedelta(minutes=30))
    session.commit()
    assert session.scalar(select(func.count()).select_from(UserSession).where(UserSession.ended_at.is_(None))) == 0
    assert auth.authenticate(session, "giulia", "a-brand-new-password", ip_address="x", now=NOW).id == world.manager.id
    assert [e.actor_id for e in entries(session, "send_reset_link")] == [admin.id, admin.id]
    assert entries(session, "reset_password")[0].changes == {"password": [None, "changed"]}


def test_forgotten_password_gives_nothing_away_and_is_throttled(session, session_factory, world, smtp_server):
    handler, port = smtp_server
    world.manager.password_hash = hash_password(PASSWORD)
    session.commit()

    def ask(identifier, ip="192.0.2.5", at=NOW):
        tokens.request_password_reset(session, identifier, ip_address=ip, now=at, link_for=link_for)
        session.commit()

    ask("nobody@example.org")
    ask("elena")  # no password chosen: nothing to reset
    assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    ask("GIULIA@example.org", ip="192.0.2.6")
    ask("giulia", ip="192.0.2.7")
    ask("giulia", ip="192.0.2.8")
    ask("giulia", ip="192.0.2.9")  # the fourth within the hour: silently not sent
    deliver(session_factory, port, NOW)
    assert [kind for kind, _ in links_to(handler, "giulia@example.org")] == ["password/reset"] * 3
    ask("giulia", ip="192.0.2.10", at=NOW + timedelta(hours=1, seconds=1))  # a new hour
    assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 4

    for _ in range(tokens.MAX_RESET_REQUESTS_PER_ADDRESS):
        ask("someone", ip="198.51.100.1")
    with pytest.raises(tokens.TooManyRequests):  # one address, the 11th within the hour
        ask("giulia", ip="198.51.100.1", at=NOW + timedelta(minutes=59))
    session.rollback()
    ask("giulia", ip="198.51.100.1", at=NOW + timedelta(hours=1, seconds=1))  # an hour later it may ask again


def test_deactivation_ends_sessions_at_once_and_reactivation_restores_sign_in(session, world, admin):
    world.manager.password_hash = hash_password(PASSWORD)
    token, _ = auth.start_session(session, world.manager, now=NOW)
    session.commit()
    accounts.deactivate(session, world.supervisor, world.manager, now=NOW, ip_address="192.0.2.3")
    session.commit()
    assert accounts.account_status(world.manager) == "deactivated"
    assert auth.resume_session(session, token, now=NOW, idle_timeout=timedelta(hours=1),
                               max_age=timedelta(hours=9)) is None
    with pytest.raises(auth.LoginRefused):
        auth.authenticate(session, "giulia", PASSWORD, ip_address="x", now=NOW)
    session.commit()
    with pytest.raises(InvalidInput) as invalid:  # a deactivated account gets no reset link
        accounts.send_password_link(session, admin, world.manager, now=NOW, link_for=link_for)
    assert invalid.value.errors == {"active": "inactive"}
    accounts.reactivate(session, world.supervisor, world.manager, now=NOW)
    session.commit()
    assert auth.authenticate(session, "giulia", PASSWORD, ip_address="x", now=NOW).active
    assert [e.changes["active"] for e in entries(session, "deactivate") + entries(session, "reactivate")] == [
        ["True", "False"], ["False", "True"]]


def test_the_last_administrator_and_oneself_cannot_be_demoted_or_deactivated(session, world, admin):
    def as_admin(**overrides):
        values = dict(username=admin.username, full_name=admin.full_name, email=admin.email, role="admin",
                      territory_id=admin.territory_id)
        values.update(overrides)
        return UserInput(**values)

    with pytest.raises(InvalidInput) as invalid:
        accounts.update_user(session, admin, admin, as_admin(role="supervisor"), now=NOW)
    assert invalid.value.errors == {"role": "own_account"}
    with pytest.raises(InvalidInput) as invalid:
        accounts.deactivate(session, admin, admin, now=NOW)
    assert invalid.value.errors == {"active": "own_account"}
    # The only administrator, changed by someone else (the installer has no account: any other actor).
    other = User(username="second", full_name="Second Admin", email="second@example.org", password_hash="!",
                 role=Role.ADMIN, territory_id=admin.territory_id, active=False)
    session.add(other)
    session.commit()
    with pytest.raises(InvalidInput) as invalid:
        accounts.update_user(session, other, admin, as_admin(role="case_manager"), now=NOW)
    assert invalid.value.errors == {"role": "last_admin"}
    with pytest.raises(InvalidInput) as invalid:
        accounts.deactivate(session, other, admin, now=NOW)
    assert invalid.value.errors == {"active": "last_admin"}
    # With a second active administrator, one may demote the other.
    other.active = True
    session.commit()
    changes = accounts.update_user(session, other, admin, as_admin(role="supervisor", full_name="Anna Rossi"), now=NOW)
    session.commit()
    assert changes == {"full_name": ["Anna Admin", "Anna Rossi"], "role": ["admin", "supervisor"]}
    assert entries(session, "update")[0].changes == changes


def test_usernames_and_e_mails_are_unique_whatever_the_case(session, world, admin):
    with pytest.raises(InvalidInput) as invalid:
        accounts.invite_user(session, admin, new_person(world, username="GIULIA", email="Marco@Example.org"), now=NOW,
                             link_for=link_for)
    assert invalid.value.errors == {"username": "already_used", "email": "already_used"}
    session.rollback()
    # The database refuses them too, whoever writes.
    for username, email in (("Giulia", "new@example.org"), ("new", "GIULIA@EXAMPLE.ORG")):
        session.add(User(username=username, full_name="X", email=email, password_hash="!", role=Role.CASE_MANAGER,
                         territory_id=world.comune.id))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
    # Accounts without an address do not collide.
    for username in ("noaddress1", "noaddress2"):
        session.add(User(username=username, full_name="X", email="", password_hash="!", role=Role.CASE_MANAGER,
                         territory_id=world.comune.id))
    session.commit()


@pytest.mark.parametrize("overrides, errors", [
    ({"username": "", "full_name": "", "email": ""},
     {"username": "required", "full_name": "required", "email": "required"}),
    ({"username": "sara verdi", "email": "not-an-address"}, {"username": "invalid_username", "email": "invalid_email"}),
    ({"username": "x" * 81}, {"username": "too_long"}),
    ({"role": "wizard", "territory_id": None}, {"role": "not_allowed", "territory_id": "required"}),
    ({"organisation_id": 999}, {"organisation_id": "unknown"}),
])
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(session, world, admin, overrides, errors):
    with pytest.raises(InvalidInput) as invalid:
        accounts.invite_user(session, admin, new_person(world, **overrides), now=NOW, link_for=link_for)
    assert invalid.value.errors == errors
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboundEmail)) == 0
    assert session.scalar(select(func.count()).select_from(AdministrativeLogEntry)) == 0


def test_a_supervisor_manages_only_case_managers_of_their_territory(session, world, admin, lodi):
    stranger = User(username="luca", full_name="Luca", email="luca@example.org", password_hash="!",
                    role=Role.CASE_MANAGER, territory=lodi)
    session.add(stranger)
    session.commit()
    listed = accounts.list_users(session, world.supervisor, UserFilters(), now=NOW).users
    assert sorted(u.username for u in listed) == ["giulia", "marco"]
    assert accounts.get_manageable_user(session, world.supervisor, stranger.id) is None
    assert accounts.get_manageable_user(session, world.supervisor, admin.id) is None
    assert accounts.get_manageable_user(session, world.manager, world.colleague.id) is None
    with pytest.raises(InvalidInput) as invalid:
        accounts.invite_user(session, world.supervisor, new_person(world, role="supervisor", territory_id=lodi.id),
                             now=NOW, link_for=link_for)
    assert invalid.value.errors == {"role": "not_allowed", "territory_id": "not_allowed"}
    session.rollback()
    assert invite(session, world.supervisor, world).role == Role.CASE_MANAGER
    assert {u.username for u in accounts.list_users(session, admin, UserFilters(), now=NOW).users} == {
        "admin", "elena", "giulia", "marco", "luca", "sara.verdi"}


def test_users_are_filtered_by_role_territory_state_and_last_sign_in(session, world, admin, lodi):
    world.manager.last_sign_in_at = NOW - timedelta(days=2)
    world.colleague.last_sign_in_at = NOW - timedelta(days=100)
    world.colleague.active = False
    admin.territory = lodi
    session.commit()

    def names(**filters):
        return sorted(u.username for u in accounts.list_users(session, admin, UserFilters(**filters), now=NOW).users)

    assert names(role=Role.CASE_MANAGER) == ["giulia", "marco"]
    assert names(territory_id=lodi.id) == ["admin"]
    assert names(active=False) == ["marco"]
    assert names(signed_in="recent") == ["giulia"]
    assert names(signed_in="stale") == ["admin", "elena", "marco"]
    assert names(signed_in="never") == ["admin", "elena"]
    page = accounts.list_users(session, admin, UserFilters(), now=NOW, page=2, per_page=3)
    assert (page.total, page.pages, len(page.users)) == (4, 2, 1)
