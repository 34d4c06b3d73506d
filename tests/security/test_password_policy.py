"""One password policy for the first administrator, invitations, resets and the own-account page."""

import pytest

from casework.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem


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
])
def test_each_rule_of_the_policy(password, username, code):
    assert MAX_PASSWORD_LENGTH >= MIN_PASSWORD_LENGTH == 12
    assert password_problem(password, username) == code
