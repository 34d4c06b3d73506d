"""The optional second factor: TOTP codes (RFC 6238, any authenticator app) and one-time recovery
codes (no Flask here).

A second-factor attempt is throttled and counted like a password attempt (casework.security.throttle):
the password alone never resets the account's failures when a second factor is enabled, so a
guesser who knows the password cannot try codes faster than passwords.
"""

from __future__ import annotations

import io
import math
import secrets
from datetime import datetime, timedelta

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.db import fit_to_column
from casework.errors import InvalidInput
from casework.models import LoginAttempt, RecoveryCode, SecondFactor, User
from casework.security import throttle
from casework.security.admin_log import record_admin_change
from casework.security.auth import LoginRefused, log_attempt
from casework.security.passwords import hash_password, verify_password

ISSUER = "Casework"
RECOVERY_CODES = 10
# One step either side: a phone's clock a little off still works.
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The enrolment QR code as an SVG element, made here: the secret never leaves for a QR service."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    text = buffer.getvalue().decode()
    return text[text.index("<svg"):]


def second_factor_of(session: Session, user: User) -> SecondFactor | None:
    return session.scalar(select(SecondFactor).where(SecondFactor.user_id == user.id))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code is right for, within VALID_WINDOW steps of now, or None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = math.floor(now.timestamp() / totp.interval)
    for candidate in range(step - VALID_WINDOW, step + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        code = f"{raw[:5]}-{raw[5:]}"
        session.add(RecoveryCode(user_id=user.id, code_hash=hash_password(code), created_at=now))
        codes.append(code)
    return codes


def enable_second_factor(
    session: Session, user: User, *, secret: str, password: str, code: str, now: datetime, ip_address: str = "",
) -> list[str]:
    """Turn the second factor on with `secret` (shown to the user as a QR code), after checking the
    current password and a code from the app; the recovery codes, to show once (only hashes are kept).
    InvalidInput: password "wrong"; code "wrong"."""
    errors = {}
    if not verify_password(user.password_hash, password or ""):
        errors["password"] = "wrong"
    step = _matching_step(secret, code or "", now) if secret else None
    if step is None:
        errors["code"] = "wrong"
    if errors:
        raise InvalidInput(errors)
    existing = second_factor_of(session, user)
    if existing is None:
        session.add(SecondFactor(user_id=user.id, secret=secret, enabled_at=now, last_step=step))
    else:
        existing.secret, existing.enabled_at, existing.last_step = secret, now, step
    codes = _new_recovery_codes(session, user, now)
    record_admin_change(session, actor=user, action="enable_second_factor", subject_type="user", subject_id=user.id,
                        subject_label=user.username, changes={"second_factor": [None, "enabled"]}, now=now,
                        ip_address=ip_address)
    session.flush()
    return codes


def disable_second_factor(session: Session, user: User, *, password: str, now: datetime, ip_address: str = "") -> None:
    """Turn it off after checking the current password (InvalidInput password "wrong")."""
    if not verify_password(user.password_hash, password or ""):
        raise InvalidInput({"password": "wrong"})
    existing = second_factor_of(session, user)
    if existing is None:
        return
    session.delete(existing)
    session.execute(update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                    .values(used_at=now).execution_options(synchronize_session=False))
    record_admin_change(session, actor=user, action="disable_second_factor", subject_type="user",
                        subject_id=user.id, subject_label=user.username,
                        changes={"second_factor": ["enabled", None]}, now=now, ip_address=ip_address)


def _use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    code = code.strip().lower()
    if len(code) != 11:
        return False
    for record in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                             RecoveryCode.used_at.is_(None))):
        if verify_password(record.code_hash, code):
            # Compare-and-set: of two requests with one code, only one spends it.
            return session.execute(
                update(RecoveryCode).where(RecoveryCode.id == record.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now).execution_options(synchronize_session=False)
            ).rowcount == 1
    return False


def check_second_factor(session: Session, user: User, code: str, *, ip_address: str, now: datetime) -> str:
    """The second step of signing in: a TOTP code (not one already used) or an unused recovery code.
    Returns "totp" or "recovery"; LoginRefused("throttled", wait) or LoginRefused("invalid") otherwise.
    Every attempt is in the administrative log; failures count towards throttling like passwords."""
    username = user.username.lower()
    wait = throttle.wait_before_attempt(session, username, ip_address, now)
    if wait > timedelta(0):
        log_attempt(session, user, username, "second_factor_throttled", ip_address=ip_address, now=now)
        raise LoginRefused("throttled", wait_seconds=math.ceil(wait.total_seconds()))
    factor = second_factor_of(session, user)
    used = None
    if factor is not None and user.active:
        step = _matching_step(factor.secret, code or "", now)
        if step is not None and (factor.last_step is None or step > factor.last_step):
            factor.last_step = step
            used = "totp"
        elif _use_recovery_code(session, user, code or "", now):
            used = "recovery"
    session.add(LoginAttempt(username=fit_to_column(LoginAttempt.username, username), ip_address=ip_address,
                             at=now, succeeded=used is not None))
    if used is None:
        log_attempt(session, user, username, "second_factor_failed", ip_address=ip_address, now=now,
                    reason="wrong_code")
        throttle.alert_after_failure(session, username, ip_address, now)
        raise LoginRefused("invalid")
    user.last_sign_in_at = now
    log_attempt(session, user, username, "sign_in", ip_address=ip_address, now=now,
                reason="recovery_code" if used == "recovery" else "")
    return used


def unused_recovery_codes(session: Session, user: User) -> int:
    return len(session.scalars(select(RecoveryCode.id).where(RecoveryCode.user_id == user.id,
                                                            RecoveryCode.used_at.is_(None))).all())
