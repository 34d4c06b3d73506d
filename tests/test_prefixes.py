"""Prefix ranges: the upper end sorts after every key with the prefix under any collation, so
a search by the start of a name, a codice fiscale or a phone finds the same rows on SQLite, on
a PostgreSQL database in "C" and on one created with an Italian (ICU or glibc) collation."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from casework.prefixes import upper_bound
from tests.conftest import postgres_url

# Each column holds one alphabet: name keys (lower case and digits), codes (upper case and
# digits), phones (digits).
COLUMNS = {
    "name": (["rossi", "rossini", "rot", "lorenzo", "lorenz", "loreo", "lorenza", "sanchez", "sanchezz", "sanchf",
              "dangelo", "ab9", "ab9x", "aba", "ab0", "zz", "zzz", "zza", "z9"],
             ["ros", "lorenz", "sanchez", "zz", "ab9", "z", "9"]),
    "code": (["RSSMRA80A01H501Z", "RSSMRA80A01H501Y", "RSSMRA80A01H502A", "RSSMRA89B01H501U", "RSSMRA8AB01H501U",
              "RSSMRA90A01H501Q", "ZZZ00"],
             ["RSSMRA80A01H501Z", "RSSMRA89", "RSSMRA8", "ZZ"]),
    "phone": (["3331239876", "3331239", "333124", "3331230", "999"], ["3331239", "33312", "9"]),
}


@pytest.mark.parametrize(("prefix", "expected"), [
    ("ros", "rot"), ("lorenz", "loreo"), ("sanchez", "sanchf"), ("zz", None), ("ab9", "aba"),
    ("RSSMRA80A01H501Z", "RSSMRA80A01H502"), ("RSSMRA89", "RSSMRA8A"), ("3331239", "333123a"),
])
def test_the_upper_end_steps_within_digits_and_letters(prefix, expected):
    assert upper_bound(prefix) == expected


def _kept(connection, collation: str, keys: list[str], prefixes: list[str]) -> dict[str, set[str]]:
    """For each prefix, the keys the database keeps in [prefix, upper end) under `collation`."""
    found = {}
    for prefix in prefixes:
        bound = upper_bound(prefix)
        found[prefix] = {key for key in keys if connection.execute(
            text(f"SELECT CAST(:key AS TEXT) >= CAST(:prefix AS TEXT) COLLATE {collation} AND "
                 f"(CAST(:bound AS TEXT) IS NULL OR CAST(:key AS TEXT) < CAST(:bound AS TEXT) COLLATE {collation})"),
            {"key": key, "prefix": prefix, "bound": bound}).scalar()}
    return found


def _expected(keys: list[str], prefixes: list[str]) -> dict[str, set[str]]:
    return {prefix: {key for key in keys if key.startswith(prefix)} for prefix in prefixes}


@pytest.mark.parametrize("column", COLUMNS)
def test_sqlite_keeps_exactly_the_keys_with_the_prefix(column):
    keys, prefixes = COLUMNS[column]
    with create_engine("sqlite://").connect() as connection:
        assert _kept(connection, "BINARY", keys, prefixes) == _expected(keys, prefixes)


@pytest.mark.parametrize("column", COLUMNS)
@pytest.mark.parametrize("collation", ['"C"', '"it-IT-x-icu"', '"und-x-icu"'])
def test_postgresql_keeps_exactly_the_keys_with_the_prefix_under_each_collation(collation, column):
    keys, prefixes = COLUMNS[column]
    engine = create_engine(postgres_url())
    try:
        with engine.connect() as connection:
            assert _kept(connection, collation, keys, prefixes) == _expected(keys, prefixes)
    finally:
        engine.dispose()
