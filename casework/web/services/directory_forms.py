"""The directory's search form: read from the address (GET), so results can be linked and
bookmarked; a choice that is no longer offered is flagged next to its field and ignored."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from casework.services import LANGUAGES, SearchChoices, ServiceQuery
from casework.web.filters import lazy_labels
from casework.web.form_limits import row_id

MAX_TEXT = 100
LANGUAGE_LABELS = lazy_labels(LANGUAGES)


class ServiceSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a search changes nothing: its address must stay linkable

    q = StringField(_l("Words"), render_kw={"maxlength": MAX_TEXT, "type": "search"})
    area = SelectField(_l("Macro-area"), choices=[], default="",
                       invalid_choice_message=_l("Choose a macro-area from the list."))
    type = SelectField(_l("Type of service"), choices=[], default="",
                       invalid_choice_message=_l("Choose a type from the list."))
    comune = SelectField(_l("Comune"), coerce=row_id, choices=[], default=None,
                         invalid_choice_message=_l("Choose a comune from the list."))
    language = SelectField(_l("Language spoken"), default="", choices=[
        SelectChoice("", _l("Any")), *(SelectChoice(code, label) for code, label in LANGUAGE_LABELS.items())],
        invalid_choice_message=_l("Choose a language from the list."))
    open_now = BooleanField(_l("Open now"))
    free = BooleanField(_l("Free of charge"))
    places = BooleanField(_l("With places available"))

    def offer(self, choices: SearchChoices, locale: str) -> ServiceSearchForm:
        def label(item: Any) -> str:
            return item.label_en if locale == "en" else item.label_it

        self.area.choices = [SelectChoice("", _l("Any")), *(SelectChoice(a.code, label(a)) for a in choices.areas)]
        # Types grouped by macro-area (an <optgroup> each).
        grouped: dict[str, list[tuple[str, str]]] = {"": [("", str(_l("Any")))]}
        for area in choices.areas:
            grouped[label(area)] = [(kind.code, label(kind)) for kind in area.types]
        self.type.choices = grouped
        self.comune.choices = [SelectChoice("", _l("All")), *(SelectChoice(str(i), name) for i, name in choices.comuni)]
        return self

    def query(self, **fixed: Any) -> ServiceQuery:
        """The filters the form holds, leaving out each field it flagged."""
        def kept(field: Any, value: Any, empty: Any) -> Any:
            return empty if field.errors else value

        return ServiceQuery(
            text=(self.q.data or "")[:MAX_TEXT], macro_area=kept(self.area, self.area.data or "", ""),
            service_type=kept(self.type, self.type.data or "", ""),
            comune_id=kept(self.comune, self.comune.data, None), language=kept(self.language, self.language.data or "", ""),
            open_now=bool(self.open_now.data), free_only=bool(self.free.data), with_places=bool(self.places.data),
            **fixed,
        )

    def kept_arguments(self) -> dict[str, Any]:
        """The valid filters as address arguments, for the pagination links."""
        values = {"q": self.q.data or "", "area": self.area.data or "", "type": self.type.data or "",
                  "comune": self.comune.data or "", "language": self.language.data or "",
                  "open_now": "y" if self.open_now.data else "", "free": "y" if self.free.data else "",
                  "places": "y" if self.places.data else ""}
        return {name: value for name, value in values.items() if value and not self[name].errors}
