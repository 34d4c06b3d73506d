"""The territory forms: a group (ambito, unione, consorzio), a comune from the ISTAT list, a
rename or move, and a comune's own holidays. The forms only turn text into values; the rules
are checked by casework.administration.territories, whose error codes the views show."""

from __future__ import annotations


from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from casework.models import TerritoryKind
from casework.web.form_limits import row_id

TERRITORY_KINDS = {
    TerritoryKind.AMBITO: _l("ambito"),
    TerritoryKind.UNIONE: _l("union of comuni"),
    TerritoryKind.CONSORZIO: _l("consortium"),
    TerritoryKind.COMUNE: _l("comune"),
}
MONTHS = [_l("January"), _l("February"), _l("March"), _l("April"), _l("May"), _l("June"), _l("July"),
          _l("August"), _l("September"), _l("October"), _l("November"), _l("December")]


def parent_options(rows, *, top_label=None) -> list[SelectChoice]:
    """Parent choices indented by depth, "(top of the tree)" first when allowed."""
    options = [SelectChoice("", str(top_label) if top_label is not None else "")]
    for row in rows:
        options.append(SelectChoice(row.territory.id, "\u2003" * row.depth + f"{row.territory.name} "
                                    f"({TERRITORY_KINDS[row.territory.kind]})"))
    return options


class GroupForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    kind = SelectField(_l("Kind"), validate_choice=False, choices=[
        SelectChoice(kind.value, TERRITORY_KINDS[kind]) for kind in (TerritoryKind.AMBITO, TerritoryKind.UNIONE,
                                                                     TerritoryKind.CONSORZIO)])
    parent_id = SelectField(_l("Inside"), coerce=row_id, validate_choice=False)


class ComuneForm(FlaskForm):
    istat_code = RadioField(_l("Comune"), validate_choice=False, choices=[])
    parent_id = SelectField(_l("Inside"), coerce=row_id, validate_choice=False)


class EditForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    parent_id = SelectField(_l("Inside"), coerce=row_id, validate_choice=False)
    public_board = BooleanField(_l("Public board of services"))


class HolidaysForm(FlaskForm):
    patron_month = SelectField(_l("Patron saint's day: month"), coerce=row_id, validate_choice=False,
                               choices=[SelectChoice("", ""), *(SelectChoice(number, name) for number, name in enumerate(MONTHS, 1))])
    patron_day = IntegerField(_l("Patron saint's day: day"), validators=[Optional()],
                              render_kw={"inputmode": "numeric", "autocomplete": "off"})
    closure_days = TextAreaField(_l("Other closure days"), render_kw={"rows": 4, "autocomplete": "off"})
