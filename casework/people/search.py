"""Finding anyone the user may see: by name, codice fiscale, phone or pact number.

One query for people and, when the text is a pact number, one for the pact, both starting from
the access scoping (`visible_beneficiaries`, `visible_pacts`): a person or pact the user may not
see is never found, and a restricted case is found only by the people assigned to it.

Why the keys and ranges: names are searched through `last_name_key` / `first_name_key`, the
names without case, accents, spaces or apostrophes (kept by the model on every write), and the
phone through `phone_key`, its national digits. A prefix is looked up as a range,
`key >= 'ros' AND key < 'rot'`, which a plain b-tree index answers on SQLite and on PostgreSQL
alike: `lower(name) LIKE 'ros%'` would need `text_pattern_ops` on PostgreSQL and a NOCASE
column on SQLite to use an index, and `LIKE '%ros%'` can use none. The codice fiscale, stored in
capitals, uses its unique index the same way. Listing reads nobody's record, so nothing goes to
the access log here; opening a person's page from the results does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, union
from sqlalchemy.orm import Session, joinedload

from casework.errors import InvalidInput
from casework.models import Beneficiary, Pact, Territory, User
from casework.models.beneficiary import name_key, phone_key
from casework.prefixes import starts_with
from casework.security import visible_beneficiaries, visible_pacts
from casework.workflow import WorkflowRegistry, label_in

MIN_LENGTH = 2
MAX_LENGTH = 100
SUGGESTIONS = 10
MAX_WORDS = 4
MIN_PHONE_DIGITS = 3
_PACT_NUMBER = re.compile(r"^(?:#|n\.?|nr\.?|n°|patto|pact)?\s*(\d{1,9})$", re.IGNORECASE)
_PHONE_LIKE = re.compile(r"^\+?[0-9 ./()-]+$")
_CODE_LIKE = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class SearchText:
    """What the typed text can mean: names, a codice fiscale, a phone, a pact number."""

    text: str
    whole: str  # the whole text as a name key: "De Luca" -> "deluca"
    words: tuple[str, ...]  # each word as a name key
    code: str  # the text as the start of a codice fiscale, or ""
    phone: str  # the text as the start of a phone number, or ""
    pact_id: int | None


def read_text(text: str, *, min_length: int = MIN_LENGTH) -> SearchText:
    """The text as searchable; InvalidInput({"q": code}) when there is nothing to search by.

    `min_length`: the letters or digits a name needs (suggestions as one types wait for two;
    the beneficiaries list filters by one initial too)."""
    text = " ".join(text.split())
    if not text:
        raise InvalidInput({"q": "required"})
    if len(text) > MAX_LENGTH:
        raise InvalidInput({"q": "too_long"})
    number = _PACT_NUMBER.match(text)
    pact_id = int(number.group(1)) if number else None
    whole = name_key(text)
    # A pact number may be one digit; anything else needs two letters or digits at least.
    if len(whole) < max(min_length, 1) and pact_id is None:
        raise InvalidInput({"q": "too_short"})
    words = tuple(key for key in (name_key(word) for word in text.split()[:MAX_WORDS]) if key)
    compact = re.sub(r"\s", "", text)
    code = compact.upper() if _CODE_LIKE.match(compact) else ""
    digits = phone_key(text) if _PHONE_LIKE.match(text) else ""
    return SearchText(text=text, whole=whole, words=words, code=code,
                      phone=digits if len(digits) >= MIN_PHONE_DIGITS else "", pact_id=pact_id)


def _starts_with(column, prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range an ordinary index answers (casework.prefixes)."""
    return starts_with(column, prefix)


def _name_starts_with(key: str) -> ColumnElement[bool]:
    return or_(_starts_with(Beneficiary.last_name_key, key), _starts_with(Beneficiary.first_name_key, key))


def matching_people(searched: SearchText) -> Select[tuple[int]]:
    """The ids of the people the text names: a surname or first name starting with the whole
    text or with each of its words, a codice fiscale or phone starting with it.

    As a union, each branch one range of one index: an OR of those conditions the planners
    answer by walking every person, in name order when the caller sorts (SQLite) or by a scan
    (PostgreSQL), ~75 ms at 100,000 people for a handful of matches. For several words, a name
    key starting with the longest word (every match has it, as a surname or a first name),
    then every word."""
    branches: list[Select[tuple[int]]] = []
    if searched.whole:
        branches += [select(Beneficiary.id).where(_starts_with(Beneficiary.last_name_key, searched.whole)),
                     select(Beneficiary.id).where(_starts_with(Beneficiary.first_name_key, searched.whole))]
    if len(searched.words) > 1:
        longest = max(searched.words, key=len)
        every_word = and_(*(_name_starts_with(word) for word in searched.words))
        branches += [select(Beneficiary.id).where(_starts_with(Beneficiary.last_name_key, longest), every_word),
                     select(Beneficiary.id).where(_starts_with(Beneficiary.first_name_key, longest), every_word)]
    if searched.code:
        branches.append(select(Beneficiary.id).where(_starts_with(Beneficiary.codice_fiscale, searched.code)))
    if searched.phone:
        branches.append(select(Beneficiary.id).where(_starts_with(Beneficiary.phone_key, searched.phone)))
    if not branches:
        return select(Beneficiary.id).where(false())
    return select(union(*branches).subquery().c.id) if len(branches) > 1 else branches[0]


@dataclass(frozen=True)
class PersonFound:
    beneficiary_id: int
    name: str  # surname first, as lists show it
    codice_fiscale: str
    birth_date: date | None
    comune: str
    phone: str


@dataclass(frozen=True)
class PactFound:
    pact_id: int
    beneficiary_id: int
    person: str
    programme: str
    stage: str
    is_open: bool


@dataclass(frozen=True)
class SearchResults:
    text: str
    people: list[PersonFound]
    pacts: list[PactFound]
    more: bool  # more people match than are shown: the user should type more

    @property
    def count(self) -> int:
        return len(self.people) + len(self.pacts)


def search(
    session: Session, registry: WorkflowRegistry, user: User, text: str, *, now: datetime, locale: str,
    limit: int = SUGGESTIONS,
) -> SearchResults:
    """The people and the pact the text finds among those `user` may see, people by surname.

    Two queries at most, whatever is found. InvalidInput({"q": code}) for an empty, too short or
    too long text."""
    searched = read_text(text)
    rows = session.execute(
        visible_beneficiaries(user, now)
        .where(Beneficiary.id.in_(matching_people(searched)))
        .outerjoin(Territory, Territory.id == Beneficiary.comune_id)
        .with_only_columns(Beneficiary.id, Beneficiary.first_name, Beneficiary.last_name, Beneficiary.codice_fiscale,
                           Beneficiary.birth_date, Beneficiary.phone, Territory.name.label("comune"))
        .order_by(Beneficiary.last_name, Beneficiary.first_name, Beneficiary.id)
        .limit(limit + 1)
    ).all()
    people = [
        PersonFound(beneficiary_id=row.id, name=f"{row.last_name} {row.first_name}",
                    codice_fiscale=row.codice_fiscale or "", birth_date=row.birth_date, comune=row.comune or "",
                    phone=row.phone)
        for row in rows[:limit]
    ]
    pacts: list[PactFound] = []
    if searched.pact_id is not None:
        pact = session.scalars(
            visible_pacts(user, now).where(Pact.id == searched.pact_id)
            .options(joinedload(Pact.beneficiary), joinedload(Pact.programme))
        ).one_or_none()
        if pact is not None:
            pacts.append(_pact_found(registry, pact, locale))
    return SearchResults(text=searched.text, people=people, pacts=pacts, more=len(rows) > limit)


def _pact_found(registry: WorkflowRegistry, pact: Pact, locale: str) -> PactFound:
    definition = registry.get(pact.workflow_name, pact.workflow_version).definition
    state = definition.states.get(pact.state)
    return PactFound(
        pact_id=pact.id, beneficiary_id=pact.beneficiary_id,
        person=f"{pact.beneficiary.last_name} {pact.beneficiary.first_name}", programme=pact.programme.name,
        stage=label_in(state.label, locale) if state is not None else pact.state, is_open=pact.is_open,
    )
