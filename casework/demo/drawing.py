"""Small helpers the demo draws with."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence


def ascii_letters(text: str) -> str:
    """The text's letters and digits without accents, lower case (for e-mail addresses)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum() and c.isascii()).lower()


def weighted(rng: random.Random, items: Sequence[tuple[object, int]]) -> object:
    """One item of (item, weight) pairs, drawn by weight."""
    return rng.choices([item for item, _ in items], weights=[weight for _, weight in items])[0]
