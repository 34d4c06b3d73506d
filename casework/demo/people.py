"""The demo's people: names, birth, origin, household and codice fiscale, drawn at random.

`People` is one part of the loader (casework.demo.loader), which gives it the random
generator, today's date, the comuni of each territory and the codici fiscali already used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from codicefiscale import codicefiscale
from stdnum.it.codicefiscale import is_valid as cf_is_valid

from casework.demo.drawing import weighted
from casework.demo.tables import (
    CHILD_NAMES,
    FP_ORIGINS,
    ITALIAN_BIRTHPLACES,
    ITALIAN_BIRTHPLACES_YOUNG,
    ITALIAN_F,
    ITALIAN_M,
    ORIGINS,
    OTHER_ORIGINS,
    PROGRAMMES,
    SURNAMES,
    YOUNG_F,
    YOUNG_M,
    ProgrammeSpec,
)
from casework.models import Gender, Relation, Territory


@dataclass
class Person:
    first: str
    last: str
    gender: Gender
    birth: date
    birth_place: str
    cf_place: str
    migrant: bool
    citizenship: str
    origin: str | None  # key of ORIGINS, None for Italian background
    comune: Territory
    household: list[tuple[str, str, Relation, date | None]]
    codice_fiscale: str = ""


class People:
    """Draws a programme's beneficiaries, as methods of the loader."""

    rng: random.Random
    today: date
    comuni: dict[str, list[tuple[Territory, int]]]  # territory -> its comuni with their weights
    used_cf: set[str]

    def _birth(self, min_age: float, max_age: float) -> date:
        days = self.rng.randint(int(min_age * 365.25), int(max_age * 365.25))
        return self.today - timedelta(days=days)

    def _comune(self, spec: ProgrammeSpec) -> Territory:
        options = [(c, w) for c, w in self.comuni[spec.territory] if not spec.comuni or c.name in spec.comuni]
        return weighted(self.rng, options)  # type: ignore[return-value]

    def _person(self, spec: ProgrammeSpec) -> Person:
        rng = self.rng
        code = spec.code
        territory = spec.territory
        if code == "TILDE":
            gender, migrant, ages = Gender.FEMALE, rng.random() < 0.25, (24, 50)
        elif code == "FEMMINILI_PLURALI":
            gender, migrant, ages = (Gender.FEMALE if rng.random() < 0.85 else Gender.MALE), True, (22, 55)
        elif code == "CHANCE":
            gender, migrant, ages = (Gender.MALE if rng.random() < 0.6 else Gender.FEMALE), rng.random() < 0.3, (14, 17.9)
        elif code == "SISACT":
            gender, migrant, ages = (Gender.MALE if rng.random() < 0.85 else Gender.FEMALE), rng.random() < 0.3, (21, 60)
        else:  # RICOMINCIO
            gender, migrant, ages = Gender.FEMALE, rng.random() < 0.35, (22, 50)
        female = gender == Gender.FEMALE
        young = code == "CHANCE"
        birth = self._birth(*ages)
        origin_key: str | None = None
        if migrant:
            origin_key = str(weighted(rng, FP_ORIGINS if code == "FEMMINILI_PLURALI" else OTHER_ORIGINS))
            origin = ORIGINS[origin_key]
            first = rng.choice((origin.girls if female else origin.boys) if young else (origin.women if female else origin.men))
            last = rng.choice(origin.surnames)
            born_in_italy = rng.random() < (0.55 if young else 0.1)
            if born_in_italy:
                birth_place = rng.choice(ITALIAN_BIRTHPLACES_YOUNG[territory])
                cf_place = birth_place
                citizenship = "Italia" if rng.random() < 0.4 else origin.country
            else:
                birth_place, cf_place, citizenship = origin.country, origin.cf_place, origin.country
        else:
            first = rng.choice((YOUNG_F if female else YOUNG_M) if young else (ITALIAN_F if female else ITALIAN_M))
            last = rng.choice(SURNAMES[territory])
            places = ITALIAN_BIRTHPLACES_YOUNG[territory] if young else ITALIAN_BIRTHPLACES[territory]
            birth_place = cf_place = rng.choice(places)
            citizenship = "Italia"
        person = Person(
            first=first, last=last, gender=gender, birth=birth, birth_place=birth_place, cf_place=cf_place,
            migrant=migrant, citizenship=citizenship, origin=origin_key, comune=self._comune(spec), household=[],
        )
        self._household(person, code)
        return person

    def _given_name(self, origin_key: str | None, female: bool | None = None) -> str:
        if origin_key is None:
            if female is None:
                return self.rng.choice(CHILD_NAMES)
            return self.rng.choice(ITALIAN_F if female else ITALIAN_M)
        origin = ORIGINS[origin_key]
        if female is None:
            return self.rng.choice(origin.children)
        return self.rng.choice(origin.women if female else origin.men)

    def _surname(self, origin_key: str | None, territory: str) -> str:
        return self.rng.choice(ORIGINS[origin_key].surnames if origin_key else SURNAMES[territory])

    def _household(self, person: Person, code: str) -> None:
        rng = self.rng
        territory = next(spec.territory for spec in PROGRAMMES if spec.code == code)
        age = (self.today - person.birth).days / 365.25
        female = person.gender == Gender.FEMALE
        if code == "CHANCE":
            mother_birth = person.birth - timedelta(days=rng.randint(22 * 365, 40 * 365))
            father_birth = mother_birth - timedelta(days=rng.randint(0, 6 * 365))
            person.household.append((self._given_name(person.origin, True), self._surname(person.origin, territory) if rng.random() < 0.6 else person.last, Relation.PARENT, mother_birth))
            if rng.random() < 0.7:
                person.household.append((self._given_name(person.origin, False), person.last, Relation.PARENT, father_birth))
            for _ in range(rng.choice((0, 1, 1, 2))):
                sibling_birth = person.birth + timedelta(days=rng.randint(-6 * 365, 8 * 365))
                if sibling_birth < self.today - timedelta(days=200):
                    person.household.append((self._given_name(person.origin), person.last, Relation.SIBLING, sibling_birth))
            return
        partner_chance = {"TILDE": 0.55, "FEMMINILI_PLURALI": 0.6, "SISACT": 0.3, "RICOMINCIO": 0.0}[code]
        partner_surname = None
        if rng.random() < partner_chance:
            partner_surname = self._surname(person.origin, territory)
            partner_birth = person.birth + timedelta(days=rng.randint(-8 * 365, 3 * 365) if female else rng.randint(-2 * 365, 8 * 365))
            person.household.append((self._given_name(person.origin, not female), partner_surname, Relation.PARTNER, partner_birth))
        children_choices = {"TILDE": (1, 1, 2, 2, 2, 3), "FEMMINILI_PLURALI": (0, 1, 1, 2, 2, 3, 4), "SISACT": (0, 0, 0, 1, 2), "RICOMINCIO": (1, 1, 2, 2, 3)}[code]
        children = rng.choice(children_choices)
        max_child_age = max(0.0, age - 19)
        for _ in range(children):
            child_age = rng.uniform(0.2, min(max_child_age, 17.5 if code != "SISACT" else 25)) if max_child_age > 0.2 else None
            if child_age is None:
                break
            child_birth = self.today - timedelta(days=int(child_age * 365.25))
            surname = partner_surname if (partner_surname and female) else (person.last if (not female or rng.random() < 0.6) else self._surname(person.origin, territory))
            person.household.append((self._given_name(person.origin), surname, Relation.CHILD, child_birth))
        if code == "SISACT" and rng.random() < 0.2:
            person.household.append((self._given_name(person.origin, True), person.last, Relation.PARENT, person.birth - timedelta(days=rng.randint(20 * 365, 35 * 365))))

    def _codice_fiscale(self, person: Person) -> str:
        birth = person.birth
        for _ in range(40):
            try:
                code = codicefiscale.encode(
                    lastname=person.last, firstname=person.first, gender="F" if person.gender == Gender.FEMALE else "M",
                    birthdate=birth.strftime("%d/%m/%Y"), birthplace=person.cf_place,
                )
            except ValueError:
                code = ""
            if code and code not in self.used_cf and cf_is_valid(code):
                self.used_cf.add(code)
                person.birth = birth
                return code
            birth = birth + timedelta(days=self.rng.randint(1, 60))
            if birth > self.today:
                birth = person.birth - timedelta(days=self.rng.randint(1, 400))
        raise RuntimeError(f"cannot build a codice fiscale for {person.first} {person.last}")
