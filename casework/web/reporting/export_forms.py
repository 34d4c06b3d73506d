"""The export page's form for the pact list.

A GET form (a download changes nothing but the access log), so it carries no CSRF token.
The indicators and the dataset are scoped with the indicators page's own filter form
(casework.web.reporting.forms): one reading of programme, territory, start and end.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField

from casework.reporting.exports import ExportChoices, programme_label

ALL = ""


def optional_id(value: object) -> int | str | None:
    """"" (all) becomes None, a record number an int; anything else stays text, matches no
    choice and is refused as "Not a valid choice" (friendlier than "could not coerce")."""
    if value in (None, ALL):
        return None
    text = str(value).strip()
    return int(text) if text.isdigit() else text


def optional_code(value: object) -> str | None:
    return None if value in (None, ALL) else str(value)


class PactExportForm(FlaskForm):
    class Meta:
        csrf = False

    # Explicit ids: the scope form on the same page has a "programme" field too.
    programme = SelectField(_l("Programme"), coerce=optional_id, id="pacts-programme")
    stage = SelectField(_l("Stage"), coerce=optional_code, id="pacts-stage")
    case_manager = SelectField(_l("Case manager"), coerce=optional_id, id="pacts-case-manager")
    status = SelectField(_l("Open or closed"), coerce=optional_code, id="pacts-status", choices=[
        SelectChoice(ALL, _l("Open and closed")), SelectChoice("open", _l("Open only")),
        SelectChoice("closed", _l("Closed only")),
    ])


def _options(everything, pairs) -> list[SelectChoice]:
    return [SelectChoice(ALL, everything), *(SelectChoice(value, label) for value, label in pairs)]


def pact_export_form(choices: ExportChoices, formdata=None) -> PactExportForm:
    form = PactExportForm(formdata=formdata)
    programmes = ((programme.id, programme_label(programme)) for programme in choices.programmes)
    form.programme.choices = _options(_l("All programmes"), programmes)
    form.stage.choices = _options(_l("All stages"), choices.stages)
    form.case_manager.choices = _options(_l("All case managers"), choices.case_managers)
    return form
