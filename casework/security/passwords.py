"""Password hashing with argon2id at the OWASP minimum (m=19 MiB, t=2, p=1).

Stronger parameters cost ~110 ms a login on our 2-core servers; the minimum keeps logins
fast while meeting ASVS. `needs_rehash` lets a later change of parameters upgrade hashes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

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
# The 19,640 passwords most often found in breaches, one a line, lower case: the list Django ships
# (django/contrib/auth/common-passwords.txt.gz, made by Royce Williams from breach corpora),
# copied as it is. Most are shorter than our minimum: they also catch a long password that is
# one of them with digits or symbols around it ("iloveyou2026!!").
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# Passwords an Italian office's guesser tries too.
_LOCAL_COMMON = {
    "password1234", "password12345", "password123456", "123456789012", "qwertyuiopas", "administrator",
    "amministratore", "casework1234", "passwordpassword", "1234567890123", "qwerty123456", "iloveyou1234",
    "amministrazione", "passwordcasework", "servizisociali", "serviziosociale", "assistentesociale",
}
_PADDING = "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ "

_DIGIT_RUNS = "1234567890" * 21 + " " + "0987654321" * 21


@cache
def common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip()) | _LOCAL_COMMON


def is_common(password: str) -> bool:
    """In the list, or one of the list with only digits and symbols added before or after it."""
    lowered = password.strip().lower()
    core = lowered.strip(_PADDING)
    if not core:  # digits and symbols only: common when it is a run of the keyboard's digits
        return lowered in _DIGIT_RUNS
    return lowered in common_passwords() or (len(core) >= 4 and core in common_passwords())


def password_problem(password: str, username: str = "") -> str | None:
    """The one password policy (first administrator, invitations, resets, own account): the code
    of the rule `password` breaks, or None. OWASP ASVS 5.0 (6.2): long, no rules on which kinds of
    characters, not a common or breached one, not the username."""
    if not password or not password.strip():
        return "required"
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    if is_common(password):
        return "too_common"
    if len(set(password)) < 5:
        return "too_simple"
    if username and username.lower() in password.lower():
        return "contains_username"
    return None
