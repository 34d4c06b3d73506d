"""The programme form: what the territorial manager types to create or edit a programme.

The form only turns text into values (dates, numbers, choices); what makes a programme
valid is checked by casework.supervision.programmes, whose error codes the view shows next to the
fields. Targets are a block of rows without JavaScript: empty rows are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from babel.numbers import get_decimal_symbol
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import FieldList
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from casework.i18n import gettext
from casework.models import Programme, TerritoryKind
from casework.supervision.programmes import (
    ProgrammeInput,
    TargetInput,
    TerritoryChoice,
    programme_fingerprint,
)
from casework.supervision.targets import TARGET_INDICATORS
from casework.web.people.forms import DayField
from casework.web.form_limits import row_id

TARGET_ROWS = 5  # rows offered to a new programme; an edit offers two more than it has
MAX_TARGET_ROWS = 40
# The marker of "another indicator": not lower_snake_case, so never a target's own code.
OTHER_INDICATOR = "_other"
TERRITORY_KINDS = {
    TerritoryKind.AMBITO: _l("ambito"),
    TerritoryKind.UNIONE: _l("union of comuni"),
    TerritoryKind.CONSORZIO: _l("consortium"),
    TerritoryKind.COMUNE: _l("comune"),
}
_NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
# "1.500" is one thousand five hundred to an Italian and one and a half to others.
_AMBIGUOUS_THOUSANDS = re.compile(r"^-?[1-9]\d{0,2}[.,]\d{3}$")


def parse_number(text: str) -> Decimal | None:
    """A number as people type it: 300, 0,80, 0.80 or 80%. Thousands separators are refused."""
    compact = re.sub(r"\s", "", text or "")
    if not compact:
        return None
    percent = compact.endswith("%")
    digits = compact.removesuffix("%")
    if _AMBIGUOUS_THOUSANDS.match(digits):
        raise ValueError(_l("Write the number without a thousands separator: 1500, or 1,5 for one and a half."))
    if not _NUMBER.match(digits):
        raise ValueError(_l("Write a number, e.g. 300 or 0.80."))
    number = Decimal(digits.replace(",", "."))
    return number / 100 if percent else number


def shown_number(value: Decimal | None) -> str:
    """A stored number as the form shows it: no trailing zeros, the user's decimal mark."""
    if value is None:
        return ""
    return format(value.normalize(), "f").replace(".", get_decimal_symbol(str(get_locale())))


class NumberField(Field):
    """A decimal typed as text, so that "0,80" and "80%" are accepted, not only "0.80"."""

    widget = TextInput()

    def __init__(self, label: Any = None, **kwargs: Any):
        super().__init__(label, render_kw={"inputmode": "decimal", "autocomplete": "off"}, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return shown_number(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if valuelist:
            self.data = parse_number(valuelist[0])


class WholeNumberField(IntegerField):
    """A whole number whose mistakes are explained in words the user reads."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = None
        if not valuelist or not str(valuelist[0]).strip():
            return
        try:
            self.data = int(str(valuelist[0]).strip())
        except ValueError:
            raise ValueError(_l("Write a whole number, e.g. 30.")) from None


class TargetRowForm(Form):
    indicator = SelectField(
        _l("Indicator"), choices=[], default="", invalid_choice_message=_l("Choose one of the indicators in the list."),
    )
    other_code = StringField(
        _l("Code of another indicator"), render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    value = NumberField(_l("Target value"))
    description = StringField(_l("Description"), render_kw={"autocomplete": "off"})

    @property
    def is_empty(self) -> bool:
        typed_value = bool(self.value.raw_data and str(self.value.raw_data[0]).strip()) or self.value.data is not None
        return not (self.indicator.data or self._other_code() or typed_value or (self.description.data or "").strip())

    def validate_other_code(self, field: Field) -> None:
        if self._other_code() and self.indicator.data not in ("", OTHER_INDICATOR):
            raise ValidationError(_l("To use a code of your own, choose “Another indicator” in the list."))

    def _other_code(self) -> str:
        return (self.other_code.data or "").strip()

    def _names_own_code(self) -> bool:
        """Whether the row's code is the one typed, not one of the indicators Casework measures."""
        return self.indicator.data == OTHER_INDICATOR or (not self.indicator.data and bool(self._other_code()))

    def code_field(self) -> Field:
        """The field that holds the row's code: where an error about the code belongs."""
        return self.other_code if self._names_own_code() else self.indicator

    def target(self) -> TargetInput:
        code = self._other_code() if self._names_own_code() else (self.indicator.data or "")
        return TargetInput(code, self.value.data, self.description.data or "")


class ProgrammeForm(FlaskForm):
    # A digest of the programme as the user read it: a save over someone else's change is refused.
    fingerprint = HiddenField()
    code = StringField(_l("Code"), render_kw={"autocomplete": "off", "spellcheck": "false"})
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    funder = StringField(_l("Funder"), render_kw={"autocomplete": "off"})
    description = TextAreaField(_l("Description"), render_kw={"rows": 4})
    territory_id = SelectField(_l("Territory"), coerce=row_id, choices=[], validate_choice=False)
    starts_on = DayField(_l("Starts on"))
    ends_on = DayField(_l("Ends on"))
    workflow_name = SelectField(_l("Workflow"), choices=[], validate_choice=False)
    restricted = BooleanField(_l("Restricted cases: only the people assigned to a pact can see it"))
    no_contact_days = WholeNumberField(_l("Days without contact before an alert"), default=30)
    retention_months = WholeNumberField(_l("Months to keep a person after their last pact closed"))
    targets = FieldList(FormField(TargetRowForm), min_entries=TARGET_ROWS, max_entries=MAX_TARGET_ROWS)
    # Set by programme_input: the row each target it returns came from, in order.
    target_rows: tuple[int, ...] = ()

    def offer(
        self, territories: Iterable[TerritoryChoice], workflows: Iterable[tuple[str, str]], locale: str,
    ) -> ProgrammeForm:
        """Fill the lists: the supervisor's territories, the workflows and indicators in `locale`."""
        self.territory_id.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(str(territory.id),
                         f"{'— ' * territory.depth}{territory.name} ({TERRITORY_KINDS[territory.kind]})")
            for territory in territories
        ]
        self.workflow_name.choices = [SelectChoice("", _l("Choose…"))] + [
            SelectChoice(name, label) for name, label in workflows
        ]
        indicators = [SelectChoice("", _l("No target"))] + [
            SelectChoice(code, gettext(locale, indicator.label))
            for code, indicator in TARGET_INDICATORS.items()
        ] + [SelectChoice(OTHER_INDICATOR, _l("Another indicator (write its code)"))]
        while len(self.targets.entries) < max(TARGET_ROWS, self._filled_rows() + 2):
            if len(self.targets.entries) >= MAX_TARGET_ROWS:
                break
            self.targets.append_entry()
        for row in self.targets.entries:
            row.form.indicator.choices = indicators
        return self

    def _filled_rows(self) -> int:
        return sum(not row.form.is_empty for row in self.targets.entries)

    def programme_input(self) -> ProgrammeInput:
        """What the user typed, for the core to check; remembers which row each target came from."""
        rows = tuple(index for index, row in enumerate(self.targets.entries) if not row.form.is_empty)
        self.target_rows = rows
        return ProgrammeInput(
            code=self.code.data or "", name=self.name.data or "", funder=self.funder.data or "",
            description=self.description.data or "", territory_id=self.territory_id.data,
            starts_on=self.starts_on.data, ends_on=self.ends_on.data, workflow_name=self.workflow_name.data or "",
            restricted=bool(self.restricted.data), no_contact_days=self.no_contact_days.data,
            retention_months=self.retention_months.data,
            targets=[self.targets.entries[index].form.target() for index in rows],
        )

    def field_for(self, error_key: str) -> Field | None:
        """The field an InvalidInput key names ("funder", "targets-2-value"), or None."""
        match = re.fullmatch(r"targets-(\d+)-(\w+)", error_key)
        if match is None:
            return self._fields.get(error_key)
        index, part = int(match.group(1)), match.group(2)
        if index >= len(self.target_rows):
            return None
        row = self.targets.entries[self.target_rows[index]].form
        return row.code_field() if part == "indicator" else row._fields.get(part)

    @staticmethod
    def values_of(programme: Programme) -> dict[str, Any]:
        """What the form shows for a stored programme."""
        return {
            "fingerprint": programme_fingerprint(programme), "code": programme.code, "name": programme.name,
            "funder": programme.funder, "description": programme.description,
            "territory_id": programme.territory_id, "starts_on": programme.starts_on, "ends_on": programme.ends_on,
            "workflow_name": programme.workflow_name, "restricted": programme.restricted,
            "no_contact_days": programme.no_contact_days, "retention_months": programme.retention_months,
            "targets": [
                {"indicator": target.indicator, "other_code": "", "value": target.value,
                 "description": target.description}
                if target.indicator in TARGET_INDICATORS else
                {"indicator": OTHER_INDICATOR, "other_code": target.indicator, "value": target.value,
                 "description": target.description}
                for target in programme.targets
            ],
        }
