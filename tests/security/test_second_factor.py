"""The second factor's rules (SQLite and PostgreSQL): a code is accepted once, within a step of the
clock; a recovery code once; the password alone does not clear failures; every attempt is logged."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from casework.errors import InvalidInput
from casework.models import AdministrativeLogEntry, LoginAttempt, RecoveryCode
from casework.security import auth, hash_password, second_factor
from tests.conftest import MONDAY_9AM

PASSWORD = "una-password-lunga-2026"
NOW = MONDAY_9AM


@pytest.fixture
def enrolled(session, world):
    user = world.supervisor
    user.password_hash = hash_password(PASSWORD)
    secret = second_factor.new_secret()
    codes = second_factor.enable_second_factor(session, user, secret=secret, password=PASSWORD,
                                               code=pyotp.TOTP(secret).at(NOW), now=NOW)
    session.commit()
    return user, secret, codes


def check(session, user, code, at):
    try:
        used = second_factor.check_second_factor(session, user, code, ip_address="10.0.0.1", now=at)
    except auth.LoginRefused as refused:
        session.commit()
        return refused.reason
    session.commit()
    return used


def test_enabling_needs_the_password_and_a_right_code(session, world):
    user = world.manager
    user.password_hash = hash_password(PASSWORD)
    secret = second_factor.new_secret()
    with pytest.raises(InvalidInput) as refused:
        second_factor.enable_second_factor(session, user, secret=secret, password="sbagliata",
                                           code=pyotp.TOTP(secret).at(NOW - timedelta(minutes=5)), now=NOW)
    assert refused.value.errors == {"password": "wrong", "code": "wrong"}
    assert not auth.has_second_factor(session, user)


def test_recovery_codes_are_stored_hashed(session, enrolled):
    _, _, codes = enrolled
    hashes = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(codes) == len(set(codes)) == len(hashes) == 10
    assert all(h.startswith("$argon2id$") for h in hashes) and not set(codes) & set(hashes)


def test_a_code_is_accepted_once_within_a_step_of_the_clock(session, enrolled):
    user, secret, _ = enrolled
    totp = pyotp.TOTP(secret)
    later = NOW + timedelta(minutes=2)
    assert check(session, user, totp.at(later), later) == "totp"
    assert check(session, user, totp.at(later), later + timedelta(seconds=5)) == "invalid"  # replayed
    assert check(session, user, totp.at(later + timedelta(seconds=30)), later + timedelta(seconds=10)) == "totp"
    assert check(session, user, totp.at(later - timedelta(minutes=5)), later + timedelta(seconds=40)) == "invalid"


def test_a_recovery_code_is_accepted_once(session, enrolled):
    user, _, codes = enrolled
    assert check(session, user, codes[3], NOW + timedelta(minutes=1)) == "recovery"
    assert check(session, user, codes[3], NOW + timedelta(minutes=2)) == "invalid"
    assert second_factor.unused_recovery_codes(session, user) == 9


def test_the_password_alone_is_not_a_success_and_failed_codes_are_logged(session, enrolled):
    user, _, _ = enrolled
    auth.authenticate(session, user.username, PASSWORD, ip_address="10.0.0.1", now=NOW + timedelta(minutes=1))
    session.commit()
    assert session.scalars(select(LoginAttempt)).all() == []
    assert check(session, user, "123456", NOW + timedelta(minutes=1)) == "invalid"
    [attempt] = session.scalars(select(LoginAttempt)).all()
    assert not attempt.succeeded
    actions = session.scalars(select(AdministrativeLogEntry.action).order_by(AdministrativeLogEntry.id)).all()
    assert actions == ["enable_second_factor", "sign_in_password_accepted", "second_factor_failed"]


def test_the_qr_code_is_an_svg_made_here(enrolled):
    user, secret, _ = enrolled
    uri = second_factor.provisioning_uri(secret, user.username)
    assert uri.startswith("otpauth://totp/Casework:elena?secret=" + secret)
    svg = second_factor.qr_svg(uri)
    assert svg.startswith("<svg") and "<path" in svg and "<script" not in svg
