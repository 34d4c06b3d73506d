"""The words a service is found by: normalised, stemmed, kept in step with its texts.

A text is casefolded, stripped of accents, split on anything that is not a letter or a digit,
cleared of Italian stop words and reduced to its Snowball (Italian) stem, so "Ludoteche",
"ludoteca" and "LUDOTECA" are one word, and so are "CITTÀ" and "citta". Search stems the
words typed the same way and matches them as prefixes of the stored terms.

The terms of a service follow its name, description, target group, organisation name and the
Italian and English labels of its type and macro-area, whatever path writes them (forms,
import, demo, the taxonomy's seeding): a session listener recomputes them after each flush
that changed one of those texts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer
from sqlalchemy import ColumnElement, Select, delete, event, insert, inspect, or_, select
from sqlalchemy.orm import Session

from casework.models import (
    Organisation,
    Service,
    ServiceMacroArea,
    ServiceSearchTerm,
    ServiceType,
)
from casework.prefixes import starts_with

TERM_LENGTH = 40  # service_search_term.term

_WORD = re.compile(r"[^\W_]+")

# Articles, prepositions (simple and articulated), conjunctions and a few very common verbs,
# and the English ones of the taxonomy's English labels: words that would match nearly every service.
STOP_WORDS = frozenset("""
a ad al allo alla ai agli alle all anche che chi ci con col coi da dal dallo dalla dai dagli
dalle dall de del dello della dei degli delle dell di e ed gli i il in l la le lo ma ne nel
nello nella nei negli nelle nell o od per po piu pero quale quali quanto quella quello questa
questo queste questi se sei si sia siamo sono su sul sullo sulla sui sugli sulle sull tra fra
un una uno e ha hanno ho non come dove quando cui loro essere avere tutto tutti tutte
and or of for the to with in on at by an
""".split())


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("italian")


def fold(text: str) -> str:
    """Casefolded, without accents: "CITTÀ" → "citta"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """The meaningful words of a text, folded, in order (stop words dropped)."""
    return [word for word in _WORD.findall(fold(text)) if word not in STOP_WORDS]


def stem(word: str) -> str:
    """The Snowball Italian stem of one folded word, cut to fit a term."""
    return _stemmer().stemWord(word)[:TERM_LENGTH]


def query_stems(text: str) -> list[str]:
    """The distinct stems of what someone typed, in order: each must prefix some term."""
    return list(dict.fromkeys(stem(word) for word in words(text)))


def terms_of(texts: Iterable[str]) -> set[str]:
    """The distinct terms of a service's texts."""
    return {stem(word) for text in texts for word in words(text or "")}


def term_starts_with(prefix: str) -> ColumnElement[bool]:
    """A term starting with `prefix`, as a range the term's index answers on both databases
    (like casework.people.search: `LIKE 'x%'` would need text_pattern_ops or a NOCASE column).
    The range's upper end is computed so that any collation keeps it (casework.prefixes)."""
    return starts_with(ServiceSearchTerm.term, prefix)


def services_matching(stem_: str) -> Select[tuple[int]]:
    """Ids of the services with a term starting with this stem."""
    return select(ServiceSearchTerm.service_id).where(term_starts_with(stem_))


# The attributes whose change changes a service's terms.
_SERVICE_TEXTS = ("name", "description", "target_group", "organisation_id", "type_id",
                  "organisation", "service_type")
_LABELS = ("label_it", "label_en")


def _changed(obj: object, attributes: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(name in state.attrs and state.attrs[name].history.has_changes() for name in attributes)


def refresh_search_terms(session: Session, service_ids: Iterable[int] = (), *, organisation_ids: Iterable[int] = (),
                         type_ids: Iterable[int] = (), macro_area_ids: Iterable[int] = ()) -> None:
    """Rewrite the terms of the services given, and of those of the organisations, types and
    macro-areas given (one read and two writes whatever their number)."""
    service_ids, organisation_ids = set(service_ids), set(organisation_ids)
    type_ids, macro_area_ids = set(type_ids), set(macro_area_ids)
    if not (service_ids or organisation_ids or type_ids or macro_area_ids):
        return
    conditions = []
    if service_ids:
        conditions.append(Service.id.in_(service_ids))
    if organisation_ids:
        conditions.append(Service.organisation_id.in_(organisation_ids))
    if type_ids:
        conditions.append(Service.type_id.in_(type_ids))
    if macro_area_ids:
        conditions.append(ServiceType.macro_area_id.in_(macro_area_ids))
    rows = session.connection().execute(
        select(Service.id, Service.name, Service.description, Service.target_group, Organisation.name,
               ServiceType.label_it, ServiceType.label_en, ServiceMacroArea.label_it, ServiceMacroArea.label_en)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .join(ServiceType, ServiceType.id == Service.type_id)
        .join(ServiceMacroArea, ServiceMacroArea.id == ServiceType.macro_area_id)
        .where(or_(*conditions))
    ).all()
    if not rows:
        return
    table = ServiceSearchTerm.__table__
    connection = session.connection()
    ids = [row[0] for row in rows]
    # Chunked: SQLite caps the parameters of one statement.
    for start in range(0, len(ids), 500):
        connection.execute(delete(table).where(table.c.service_id.in_(ids[start:start + 500])))
    values = [{"service_id": row[0], "term": term} for row in rows for term in sorted(terms_of(row[1:]))]
    if values:
        connection.execute(insert(table), values)


def _after_flush(session: Session, _context: object) -> None:
    services: set[int] = set()
    organisations: set[int] = set()
    types: set[int] = set()
    macro_areas: set[int] = set()
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Service):
            if obj in session.new or _changed(obj, _SERVICE_TEXTS):
                services.add(obj.id)
        elif isinstance(obj, Organisation):
            if obj not in session.new and _changed(obj, ("name",)):
                organisations.add(obj.id)
        elif isinstance(obj, ServiceType):
            if obj not in session.new and _changed(obj, (*_LABELS, "macro_area_id", "macro_area")):
                types.add(obj.id)
        elif isinstance(obj, ServiceMacroArea):
            if obj not in session.new and _changed(obj, _LABELS):
                macro_areas.add(obj.id)
    refresh_search_terms(session, services, organisation_ids=organisations, type_ids=types,
                         macro_area_ids=macro_areas)


def install_search_terms_listener() -> None:
    """Keep terms in step for every session (idempotent; the services package calls it on import)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
