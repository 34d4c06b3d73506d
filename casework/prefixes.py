"""Text starting with a prefix, as a range of an ordinary index, whatever the collation.

`key >= 'ros' AND key < 'rot'` is what a plain b-tree index answers on SQLite and on
PostgreSQL alike, where `LIKE 'ros%'` would need `text_pattern_ops` or a NOCASE column. The
upper bound must sort after every text that starts with the prefix under the database's own
collation: the next code point after the last character does so in byte order (SQLite, a
PostgreSQL database in "C"), but not under a linguistic collation (it_IT, ICU), where the
punctuation after "z", "Z" or "9" in code-point order sorts before the letters and digits, or
is ignored, and the range comes out empty. So the last character is stepped within the keys'
own alphabet, digits then letters as every collation sorts them, carrying past "z" and "9".
"""

from __future__ import annotations

import string

from sqlalchemy import ColumnElement, and_

# Digits before letters: the order of byte-wise and of linguistic collations alike.
_NEXT = {
    **dict(zip(string.digits[:-1], string.digits[1:], strict=True)),
    **dict(zip(string.ascii_lowercase[:-1], string.ascii_lowercase[1:], strict=True)),
    **dict(zip(string.ascii_uppercase[:-1], string.ascii_uppercase[1:], strict=True)),
}


def upper_bound(prefix: str) -> str | None:
    """The shortest text sorting after every text that starts with `prefix` (keys of digits
    and letters of one case); None when nothing can (a prefix of only "z"s: no upper limit)."""
    kept = prefix
    while kept and kept[-1] in "zZ":  # carry: "lorenz" -> "loreo"
        kept = kept[:-1]
    if not kept:
        return None
    last = kept[-1]
    if last == "9":  # the first letter, of the key's own case: "RSSMRA89" -> "RSSMRA8A"
        return kept[:-1] + ("A" if any(c.isupper() for c in kept) else "a")
    # Outside ASCII (a name key keeps any letter, e.g. "ø"): the next code point, as before.
    return kept[:-1] + _NEXT.get(last, chr(ord(last) + 1))


def starts_with(column, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix` (see the module's notes)."""
    bound = upper_bound(prefix)
    return column >= prefix if bound is None else and_(column >= prefix, column < bound)
