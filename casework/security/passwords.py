"""Password hashing with argon2id at the OWASP minimum (m=19 MiB, t=2, p=1).

Stronger parameters cost ~110 ms a login on our 2-core servers; the minimum keeps logins
fast while meeting ASVS. `needs_rehash` lets a later change of parameters upgrade hashes.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Verified against when the username is unknown, so a failed login takes the same time
# whether or not the account exists (no user enumeration by timing).
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 200
# Passwords every guesser tries first.
_COMMON = {
    "password1234", "password12345", "password123456", "123456789012", "qwertyuiopas", "administrator",
    "amministratore", "casework1234", "passwordpassword", "1234567890123", "qwerty123456", "iloveyou1234",
}


def password_problem(password: str, username: str = "") -> str | None:
    """The one password policy (first administrator, invitations, resets, own account): the code
    of the rule `password` breaks, or None. Long, not a common one, not the username."""
    if not password or not password.strip():
        return "required"
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if password.lower() in _COMMON:
        return "too_common"
    if len(set(password)) < 5:
        return "too_simple"
    if username and username.lower() in password.lower():
        return "contains_username"
    return None
