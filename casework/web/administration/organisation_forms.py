"""The organisation form; the rules are checked by casework.administration.organisations."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from casework.models import OrganisationKind
from casework.web.form_limits import row_id

ORGANISATION_KINDS = {
    OrganisationKind.PUBLIC_BODY: _l("public service"),
    OrganisationKind.COOPERATIVE: _l("cooperative"),
    OrganisationKind.ASSOCIATION: _l("association"),
    OrganisationKind.SCHOOL: _l("school"),
    OrganisationKind.COMPANY: _l("company"),
    OrganisationKind.FOUNDATION: _l("foundation"),
}


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"autocomplete": "off"})
    kind = SelectField(_l("Type"), validate_choice=False,
                       choices=[SelectChoice("", ""), *(SelectChoice(kind.value, label)
                                                        for kind, label in ORGANISATION_KINDS.items())])
    territory_id = SelectField(_l("Territory"), coerce=row_id, validate_choice=False)

    def offer(self, territories) -> OrganisationForm:
        self.territory_id.choices = [SelectChoice("", ""), *(
            SelectChoice(territory.id, territory.name) for territory in territories)]
        return self
