"""One password policy for the first administrator, invitations, resets and the own-account page."""

import pytest

from casework.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from casework.security.passwords import common_passwords


@pytest.mark.parametrize(("password", "username", "code"), [
    ("", "", "required"),
    ("            ", "", "required"),
    ("a" * (MIN_PASSWORD_LENGTH - 1), "", "too_short"),
    ("ab1-" * 60, "", "too_long"),
    ("Password1234", "", "too_common"),
    ("abababababab", "", "too_simple"),
    ("giulia-ponte-sul-po", "Giulia", "contains_username"),
    ("ponte-sul-po-2026", "giulia", None),
    ("x" * 7 + "abcde", "", None),
    # From the shipped list of breached passwords, as they are or padded with digits and symbols.
    ("baseball12345", "", "too_common"),
    ("iloveyou2026!!", "", "too_common"),
    ("2026-Superman!", "", "too_common"),
    ("123456789012345", "", "too_common"),
    ("servizisociali", "", "too_common"),
    # No rule on the kinds of characters: lower-case words alone are fine when long and uncommon.
    ("tre gatti sul tetto", "", None),
    ("481516234271", "", None),
])
def test_each_rule_of_the_policy(password, username, code):
    assert MAX_PASSWORD_LENGTH >= MIN_PASSWORD_LENGTH == 12
    assert password_problem(password, username) == code


def test_the_shipped_list_is_read_whole():
    common = common_passwords()
    assert len(common) > 19_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert all(word == word.strip().lower() for word in common)
