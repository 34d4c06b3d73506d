"""Texts in the reader's language, without a request: the gettext catalogue read with Babel.

There is one catalogue, `casework/web/translations/<locale>/LC_MESSAGES/messages.po`, for the
web layer and the core alike: the English text is the message id, the Italian its
translation. The web layer lets Flask-Babel pick the request's locale; the core is always
told the locale (the reader's, or the recipient's for a notice), because the scheduler and
the exports run with no request. This module must not import Flask.

Texts written at import time (a table's title, a notice's template) are marked with `N_` and
translated where they are used, with `gettext(locale, message, **params)`. When the same
English words need two different Italian renderings (deadlines "Met" are "Rispettate", a
target "Met" is "Raggiunto"), `C_(context, text)` tells them apart, as gettext's msgctxt.
babel.cfg names both markers, so `pybabel extract` finds every marked text.

Placeholders in these texts are named and in braces (`{pact}`), filled with str.format.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel.support import Translations

CATALOGUE_DIR = Path(__file__).resolve().parent / "web" / "translations"
DOMAIN = "messages"
SOURCE_LOCALE = "en"  # the language of the message ids: needs no catalogue


@dataclass(frozen=True)
class Message:
    """A text to translate when the reader's locale is known: its English words (the msgid)
    and, for words with more than one translation, a context (the msgctxt)."""

    id: str
    context: str | None = None

    def __str__(self) -> str:  # a Message shown untranslated is a bug, but must stay readable
        return self.id


def N_(text: str) -> Message:  # noqa: N802 - gettext's name for "mark now, translate later"
    return Message(text)


def C_(context: str, text: str) -> Message:  # noqa: N802 - as N_, with a gettext context
    return Message(text, context)


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue of `locale`, read once; the message ids themselves for English
    and for a locale with no catalogue."""
    if locale == SOURCE_LOCALE:
        return NullTranslations()
    return Translations.load(str(CATALOGUE_DIR), [locale], DOMAIN)


def gettext(locale: str, message: Message | str, **params: object) -> str:
    """`message` in `locale`, its {placeholders} filled from `params`."""
    catalogue = translations(locale)
    if isinstance(message, Message) and message.context is not None:
        text = catalogue.pgettext(message.context, message.id)
    else:
        text = catalogue.gettext(message.id if isinstance(message, Message) else message)
    return text.format(**params) if params else text


def in_every_locale(locales: tuple[str, ...], message: Message | str, **params: object) -> dict[str, str]:
    """`message` in each of `locales`: what a stored notice keeps, so each reader sees their own."""
    return {locale: gettext(locale, message, **params) for locale in locales}
