"""Forms for a person's record, their household and opening a pact.

The forms only turn text into values (dates, choices); what makes a record valid is checked
by casework.people.beneficiaries, whose error codes the views translate next to the fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import TextInput

from casework.models import Gender, Programme, Relation, Territory
from casework.models.labels import GENDERS, RELATIONS
from casework.people.beneficiaries import MAX_LENGTHS, HouseholdDetails, PersonDetails
from casework.services import LANGUAGES
from casework.web.filters import lazy_labels
from casework.web.form_limits import TextLimit, row_id

GENDER_LABELS = lazy_labels(GENDERS)
RELATION_LABELS = lazy_labels(RELATIONS)
DATE_HINT = _l("dd/mm/yyyy, e.g. 17/05/1990")


def _optional(enum_class: type[Enum]):
    def coerce(value: Any) -> Enum | None:
        if value is None or value == "":
            return None
        return value if isinstance(value, enum_class) else enum_class(value)

    return coerce


def _choose(label: Any) -> SelectChoice:
    return SelectChoice("", label)


class DayField(DateField):
    """A date typed as Italians write it (dd/mm/yyyy); ISO dates are accepted too."""

    widget = TextInput()

    def __init__(self, label: Any, **kwargs: Any):
        super().__init__(
            label, format=["%d/%m/%Y", "%Y-%m-%d"], validators=[Optional()],
            invalid_value_message=_l("Write the date as dd/mm/yyyy, e.g. 17/05/1990."),
            render_kw={"autocomplete": "off", "inputmode": "numeric"}, **kwargs,
        )


class VersionedForm(FlaskForm):
    # The version of the record the user read: a save over someone else's change is refused.
    version = HiddenField()

    def read_version(self) -> int:
        """The version sent back; a missing or altered one can only match nothing."""
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return 0


def _limit(name: str) -> list[TextLimit]:
    # The core's limit (it refuses the same), so the page can show it and count towards it.
    return [TextLimit(MAX_LENGTHS[name])]


class BeneficiaryForm(VersionedForm):
    first_name = StringField(_l("First name"), validators=_limit("first_name"), render_kw={"autocomplete": "off"})
    last_name = StringField(_l("Last name"), validators=_limit("last_name"), render_kw={"autocomplete": "off"})
    codice_fiscale = StringField(_l("Codice fiscale"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    gender = SelectField(
        _l("Gender"), coerce=_optional(Gender),
        choices=[_choose(_l("Choose…")), *(SelectChoice(gender.value, label) for gender, label in GENDER_LABELS.items())],
    )
    birth_date = DayField(_l("Birth date"))
    birth_place = StringField(_l("Place of birth"), validators=_limit("birth_place"))
    citizenship = StringField(_l("Citizenship"), validators=_limit("citizenship"))
    migrant_background = BooleanField(_l("Migrant background"))
    comune_id = SelectField(_l("Comune of residence"), coerce=row_id, choices=[],
                            invalid_choice_message=_l("Choose a comune of your territory from the list."))
    address = StringField(_l("Address"), validators=_limit("address"), render_kw={"autocomplete": "off"})
    phone = StringField(_l("Phone"), validators=_limit("phone"), render_kw={"autocomplete": "off", "inputmode": "tel"})
    email = StringField(_l("E-mail"), validators=_limit("email"),
                        render_kw={"autocomplete": "off", "inputmode": "email"})
    preferred_language = SelectField(
        _l("Preferred language"), choices=[_choose(_l("Not known")), *(
            SelectChoice(code, label) for code, label in lazy_labels(LANGUAGES).items())],
        default="", invalid_choice_message=_l("Choose a language from the list."))
    confirm_duplicates = BooleanField(_l("This is a different person: register anyway"))

    def offer_comuni(self, comuni: Iterable[Territory]) -> BeneficiaryForm:
        self.comune_id.choices = [_choose(_l("Not known")), *(SelectChoice(str(comune.id), comune.name) for comune in comuni)]
        return self

    def details(self) -> PersonDetails:
        return PersonDetails(
            first_name=self.first_name.data or "", last_name=self.last_name.data or "",
            gender=self.gender.data, codice_fiscale=self.codice_fiscale.data or "",
            birth_date=self.birth_date.data, birth_place=self.birth_place.data or "",
            migrant_background=bool(self.migrant_background.data), citizenship=self.citizenship.data or "",
            comune_id=self.comune_id.data, address=self.address.data or "", phone=self.phone.data or "",
            email=self.email.data or "", preferred_language=self.preferred_language.data or "",
        )

    @staticmethod
    def values_of(beneficiary: Any) -> dict[str, Any]:
        """What the form shows for a stored record."""
        names = ("first_name", "last_name", "codice_fiscale", "gender", "birth_date", "birth_place",
                 "citizenship", "migrant_background", "comune_id", "address", "phone", "email", "preferred_language", "version")
        values = {name: getattr(beneficiary, name) for name in names}
        values["codice_fiscale"] = values["codice_fiscale"] or ""
        return values


class HouseholdMemberForm(VersionedForm):
    first_name = StringField(_l("First name"), validators=_limit("first_name"), render_kw={"autocomplete": "off"})
    last_name = StringField(_l("Last name (if different)"), validators=_limit("last_name"),
                            render_kw={"autocomplete": "off"})
    relation = SelectField(
        _l("Relation"), coerce=_optional(Relation),
        choices=[_choose(_l("Choose…")), *(SelectChoice(relation.value, label) for relation, label in RELATION_LABELS.items())],
    )
    birth_date = DayField(_l("Birth date"))

    def details(self) -> HouseholdDetails:
        return HouseholdDetails(
            first_name=self.first_name.data or "", relation=self.relation.data,
            last_name=self.last_name.data or "", birth_date=self.birth_date.data,
        )


class OpenPactForm(FlaskForm):
    programme_id = SelectField(
        _l("Programme"), coerce=row_id, choices=[],
        invalid_choice_message=_l("Choose one of the programmes in the list."),
    )

    def offer_programmes(self, programmes: Iterable[Programme]) -> OpenPactForm:
        self.programme_id.choices = [
            _choose(_l("Choose…")), *(SelectChoice(str(programme.id), programme.name) for programme in programmes)
        ]
        return self


class PersonCopyForm(FlaskForm):
    """A copy of everything held about a person: why (recorded in the access log), and in which form."""

    reason = StringField(_l("Reason for the copy"), validators=[TextLimit(500)],
                         description=_l("E.g. the person asked for their data (GDPR art. 15) on 3/12/2026."))
    output = SelectField(_l("Form of the copy"), choices=[
        SelectChoice("html", _l("A page to print or save as PDF")),
        SelectChoice("json", _l("A JSON file (machine-readable, GDPR art. 20)")),
    ], default="html")


class ErasureForm(FlaskForm):
    """Erasing a person's identity and free text: why, and a deliberate confirmation."""

    reason = StringField(_l("Reason for the erasure"), validators=[TextLimit(500)],
                         description=_l("E.g. the person's request of 3/12/2026, or the programme's retention period."))
    confirm = BooleanField(_l("I understand that the name, codice fiscale, contacts, notes and documents are erased "
                              "for good, and only the anonymous figures stay."),
                           validators=[InputRequired(_l("Tick the confirmation: an erasure cannot be undone."))])
