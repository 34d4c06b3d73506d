"""The forms of the directory's maintenance pages; the rules are checked by casework.services.directory."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from casework.models import ServiceAccess, ServiceCost
from casework.services import LANGUAGES
from casework.web.form_limits import row_id
from casework.web.filters import lazy_labels
from casework.web.uploads import CHECKSUM_PATTERN, TOKEN_PATTERN

ACCESS_LABELS = {
    ServiceAccess.FREE_ACCESS: _l("Free access"),
    ServiceAccess.BY_APPOINTMENT: _l("By appointment"),
}
COST_LABELS = {
    ServiceCost.FREE: _l("Free of charge"),
    ServiceCost.DISCOUNTED: _l("Discounted"),
    ServiceCost.PAID: _l("Paid"),
}
LANGUAGE_LABELS = lazy_labels(LANGUAGES)
ACCEPTED = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _number(label) -> StringField:
    return StringField(label, render_kw={"inputmode": "numeric", "autocomplete": "off"})


class ServiceForm(FlaskForm):
    name = StringField(_l("Name of the service"), render_kw={"autocomplete": "off"})
    organisation_id = SelectField(_l("Organisation"), coerce=row_id, validate_choice=False)
    type_id = SelectField(_l("Type of service"), coerce=row_id, validate_choice=False)
    description = TextAreaField(_l("What it offers"), render_kw={"rows": 4})
    target_group = TextAreaField(_l("For whom"), render_kw={"rows": 2})
    eligibility = TextAreaField(_l("Requirements"), render_kw={"rows": 2})
    comuni = SelectMultipleField(_l("Comuni served"), coerce=row_id, validate_choice=False,
                                 render_kw={"size": 8})
    access = SelectField(_l("Access"), validate_choice=False, choices=[
        SelectChoice("", ""), *(SelectChoice(access.value, label) for access, label in ACCESS_LABELS.items())])
    opening_hours = StringField(_l("Opening hours"), render_kw={"autocomplete": "off"})
    opening_notes = StringField(_l("Notes on the opening hours"))
    address = StringField(_l("Address"))
    contact_name = StringField(_l("Contact person"))
    contact_email = StringField(_l("E-mail"), render_kw={"type": "email", "autocomplete": "off"})
    contact_phone = StringField(_l("Phone"), render_kw={"type": "tel", "autocomplete": "off"})
    website = StringField(_l("Website"), render_kw={"autocomplete": "off"})
    cost = SelectField(_l("Cost"), validate_choice=False, choices=[
        SelectChoice("", ""), *(SelectChoice(cost.value, label) for cost, label in COST_LABELS.items())])
    cost_notes = StringField(_l("Notes on the cost or discount"))
    company_welfare_plan = BooleanField(_l("Part of a company's welfare plan"))
    languages = SelectMultipleField(_l("Languages spoken"), validate_choice=False,
                                    choices=[SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items()],
                                    widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    capacity = _number(_l("Capacity (places in all)"))
    places_available = _number(_l("Places available now"))
    waiting_list = _number(_l("People on the waiting list"))
    version = HiddenField()

    def offer(self, organisations, macro_areas, comuni, locale: str) -> ServiceForm:
        """The choices the person may make: their organisations, the taxonomy by macro-area, their comuni."""
        self.organisation_id.choices = [SelectChoice("", ""), *(
            SelectChoice(organisation.id, organisation.name) for organisation in organisations)]
        english = locale == "en"
        # Grouped by macro-area: the template writes one <optgroup> per group (WTForms would add an
        # empty one for the "choose" line).
        self.type_groups = [
            (area.label_en if english else area.label_it,
             [(kind.id, kind.label_en if english else kind.label_it) for kind in area.types])
            for area in macro_areas
        ]
        self.type_id.choices = [SelectChoice("", ""), *(
            SelectChoice(kind_id, label) for _, kinds in self.type_groups for kind_id, label in kinds)]
        self.comuni.choices = [SelectChoice(territory.id, f"{territory.name} ({territory.province})"
                                            if territory.province else territory.name) for territory in comuni]
        return self


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Name contains"))
    area = SelectField(_l("Macro-area"), coerce=row_id, validate_choice=False)
    organisation = SelectField(_l("Organisation"), coerce=row_id, validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False, choices=[
        SelectChoice("", _l("All")), SelectChoice("active", _l("Active")),
        SelectChoice("inactive", _l("Deactivated")), SelectChoice("stale", _l("To check"))])

    def offer(self, macro_areas, organisations, locale: str) -> FilterForm:
        english = locale == "en"
        self.area.choices = [SelectChoice("", _l("All")), *(
            SelectChoice(area.id, area.label_en if english else area.label_it) for area in macro_areas)]
        self.organisation.choices = [SelectChoice("", _l("All")), *(
            SelectChoice(organisation.id, organisation.name) for organisation in organisations)]
        return self


class VersionForm(FlaskForm):
    """The buttons' form (deactivate, reactivate, checked): the version the page showed."""

    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ACCEPTED})


class ConfirmImportForm(FlaskForm):
    upload = HiddenField(validators=[InputRequired(), Regexp(TOKEN_PATTERN)])
    checksum = HiddenField(validators=[InputRequired(), Regexp(CHECKSUM_PATTERN)])
