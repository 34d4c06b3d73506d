"""Forms of the caseload review: the filters (GET, no CSRF: they change nothing) and the
reassignment (POST), which carries the version of each pact the supervisor selected."""

from __future__ import annotations

import re
from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    ValidationError,
)

from casework.config import NO_PRIORITY
from casework.models.labels import PRIORITIES
from casework.supervision.caseload import CaseloadChoices, CaseloadFilters, DeadlineFilter, Option
from casework.supervision.reassignment import MAX_REASON
from casework.web.filters import lazy
from casework.web.form_limits import OptionalInput, row_id

# As the pact page writes them ("Media", "Non ancora valutata"): one way on every page.
PRIORITY_LABELS = {
    **{priority.value: lazy(words) for priority, words in PRIORITIES.items()},
    NO_PRIORITY: _l("Not assessed yet"),
}
DEADLINE_LABELS = {
    DeadlineFilter.OVERDUE.value: _l("Overdue"),
    DeadlineFilter.THIS_WEEK.value: _l("Due this week"),
}

# What the drill-down writes in each checkbox: "<pact id>:<version read>" (ASCII digits only).
SELECTION = re.compile(r"(?P<pact>[0-9]{1,9}):(?P<version>[0-9]{1,9})")
# Far beyond any caseload, small enough that the page's OFFSET stays a normal integer.
MAX_PAGE = 100_000


def _choices(options: Iterable[Option], everything: str) -> list[SelectChoice]:
    return [SelectChoice("", everything), *(SelectChoice(option.value, option.label) for option in options)]


class CaseloadFilterForm(FlaskForm):
    class Meta:
        csrf = False

    programme = SelectField(_l("Programme"), validators=[OptionalInput()])
    comune = SelectField(_l("Comune of residence"), validators=[OptionalInput()])
    stage = SelectField(_l("Stage"), validators=[OptionalInput()])
    priority = SelectField(_l("Priority"), validators=[OptionalInput()])

    def offer(self, choices: CaseloadChoices) -> CaseloadFilterForm:
        self.programme.choices = _choices(choices.programmes, str(_l("All programmes")))
        self.comune.choices = _choices(choices.comuni, str(_l("All comuni")))
        self.stage.choices = _choices((Option(s.state, s.label) for s in choices.stages), str(_l("All stages")))
        self.priority.choices = _choices((Option(value, str(label)) for value, label in PRIORITY_LABELS.items()),
                                         str(_l("All priorities")))
        return self

    def filters(self) -> CaseloadFilters:
        """The filters given; one whose value was refused (its field has errors) is not applied."""
        def accepted(field) -> str | None:
            return field.data or None if not field.errors else None

        return CaseloadFilters(
            programme_id=row_id(accepted(self.programme)), comune_id=row_id(accepted(self.comune)),
            stage=accepted(self.stage), priority=accepted(self.priority),
        )

    def query_args(self) -> dict[str, str]:
        """The accepted filters as URL arguments, for links that keep them."""
        return {field.name: field.data for field in (self.programme, self.comune, self.stage, self.priority)
                if field.data and not field.errors}


class DrillDownForm(CaseloadFilterForm):
    manager = SelectField(_l("Case manager"), validators=[OptionalInput()])
    deadline = SelectField(_l("Deadline"), validators=[OptionalInput()])
    flagged = BooleanField(_l("Only pacts without a recent contact"))
    page = IntegerField(validators=[OptionalInput(), NumberRange(min=1, max=MAX_PAGE)])

    def offer(self, choices: CaseloadChoices) -> DrillDownForm:
        super().offer(choices)
        self.manager.choices = _choices((*choices.managers, *choices.other_holders), str(_l("All case managers")))
        self.deadline.choices = _choices((Option(value, str(label)) for value, label in DEADLINE_LABELS.items()),
                                         str(_l("Any deadline")))
        return self

    @property
    def manager_id(self) -> int | None:
        return row_id(self.manager.data) if not self.manager.errors else None

    @property
    def deadline_filter(self) -> DeadlineFilter | None:
        return DeadlineFilter(self.deadline.data) if self.deadline.data and not self.deadline.errors else None

    @property
    def page_number(self) -> int:
        return self.page.data if self.page.data and not self.page.errors else 1

    def query_args(self) -> dict[str, str]:
        args = super().query_args()
        if self.manager_id is not None:
            args["manager"] = str(self.manager_id)
        if self.deadline_filter is not None:
            args["deadline"] = self.deadline_filter.value
        if self.flagged.data:
            args["flagged"] = "y"
        return args


class ReassignForm(FlaskForm):
    # Each selected pact as "<id>:<version read>": the version travels with the choice.
    pacts = SelectMultipleField(_l("Pacts to reassign"), choices=[], validate_choice=False)
    to_manager = SelectField(_l("New case manager"),
                             validators=[InputRequired(_l("Choose the case manager who takes the pacts over."))])
    reason = TextAreaField(
        _l("Reason for the reassignment"), render_kw={"rows": 3},
        validators=[DataRequired(_l("Write why the pacts are reassigned.")),
                    Length(max=MAX_REASON, message=_l("The reason is too long: at most 2,000 characters."))],
    )

    def offer(self, managers: Iterable[Option]) -> ReassignForm:
        self.to_manager.choices = _choices(managers, str(_l("Choose a case manager")))
        return self

    def validate_pacts(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError(str(_l("Select at least one pact.")))
        if self.selection is None:
            raise ValidationError(str(_l("This form is out of date: reload the page and select the pacts again.")))

    @property
    def selection(self) -> dict[int, int] | None:
        """Pact id -> version read; None if a value is not of the form the page writes."""
        chosen: dict[int, int] = {}
        for value in self.pacts.data or []:
            found = SELECTION.fullmatch(value)
            if found is None:
                return None
            chosen[int(found["pact"])] = int(found["version"])
        return chosen

    @property
    def to_manager_id(self) -> int | None:
        chosen = self.to_manager.data or ""
        return int(chosen) if re.fullmatch(r"[0-9]{1,9}", chosen) else None


def selection_value(pact_id: int, version: int) -> str:
    return f"{pact_id}:{version}"


def filter_form(args, choices: CaseloadChoices) -> CaseloadFilterForm:
    form = CaseloadFilterForm(formdata=args).offer(choices)
    form.validate()
    return form


def drill_down_form(args, choices: CaseloadChoices) -> DrillDownForm:
    form = DrillDownForm(formdata=args).offer(choices)
    form.validate()
    return form


def reassign_form(managers: Iterable[Option], **kwargs) -> ReassignForm:
    return ReassignForm(prefix="reassign", **kwargs).offer(managers)
