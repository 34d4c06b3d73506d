"""Cover for an absence: a supervisor names a colleague who follows an absent case manager's
pacts for a while, and may end the cover early. Other roles get 403; a cover outside the
supervisor's territory is 404."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from casework.administration import covers as core
from casework.errors import InvalidInput
from casework.models import Role, User
from casework.security import visible_case_managers
from casework.web import context, saving
from casework.web.people.forms import DayField
from casework.web.roles import role_required
from casework.web.form_limits import row_id

blueprint = Blueprint("covers", __name__)

ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "outside_territory": _l("Choose a case manager of your territory."),
    "same_person": _l("Choose a colleague other than the absent case manager."),
    "already_covering": _l("This colleague already covers this case manager in these days."),
    "ends_before_starts": _l("The end date cannot be before the start date."),
    "in_past": _l("The cover would be over already: choose an end date from today on."),
    "too_long": _l("This is too long."),
    "already_ended": _l("This cover has ended already."),
}


class CoverForm(FlaskForm):
    absent_user_id = SelectField(_l("Absent case manager"), coerce=row_id, validate_choice=False)
    covering_user_id = SelectField(_l("Colleague who covers"), coerce=row_id, validate_choice=False)
    starts_on = DayField(_l("From"))
    ends_on = DayField(_l("To (inclusive)"))
    reason = TextAreaField(_l("Reason (optional)"), render_kw={"rows": 2})

    def offer(self, managers: list[User]) -> CoverForm:
        choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(str(user.id), user.full_name) for user in managers]
        self.absent_user_id.choices = choices
        self.covering_user_id.choices = choices
        return self

    def cover_input(self) -> core.CoverInput:
        return core.CoverInput(self.absent_user_id.data, self.covering_user_id.data, self.starts_on.data,
                               self.ends_on.data, self.reason.data or "")


class EndForm(FlaskForm):
    pass


def _managers() -> list[User]:
    return list(context.db().scalars(visible_case_managers(context.actor()).order_by(User.full_name)))


@blueprint.get("/covers")
@role_required(Role.SUPERVISOR)
def index():
    rows = core.list_covers(context.db(), context.actor(), now=context.now())
    return render_template("supervision/covers/index.html", rows=rows, end_form=EndForm())


@blueprint.route("/covers/new", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def new():
    form = CoverForm().offer(_managers())
    if not form.validate_on_submit():
        return render_template("supervision/covers/new.html", form=form), 422 if request.method == "POST" else 200

    def invalid(error: InvalidInput):
        saving.show_errors(form, error, ERROR_MESSAGES)
        form.offer(_managers())
        return render_template("supervision/covers/new.html", form=form)

    def done(cover):
        flash(_("%(colleague)s covers %(absent)s from %(start)s to %(end)s.",
                colleague=cover.covering_user.full_name, absent=cover.absent_user.full_name,
                start=cover.starts_on.strftime("%d/%m/%Y"), end=cover.ends_on.strftime("%d/%m/%Y")), "success")
        return redirect(url_for("covers.index"))

    return saving.save(lambda: core.create_cover(
        context.db(), context.actor(), form.cover_input(), clock=context.clock(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.post("/covers/<int:cover_id>/end")
@role_required(Role.SUPERVISOR)
def end(cover_id: int):
    if core.get_cover(context.db(), context.actor(), cover_id) is None:
        abort(404)

    def refused(error: InvalidInput):
        flash(str(ERROR_MESSAGES["already_ended"]), "error")
        return redirect(url_for("covers.index"))

    def done(cover):
        flash(_("The cover has ended."), "success")
        return redirect(url_for("covers.index"))

    return saving.save(lambda: core.end_cover(
        context.db(), context.actor(), cover_id, now=context.now(), ip_address=context.client_ip(),
    ), done=done, refused={InvalidInput: refused, core.CoverNotFound: lambda _error: abort(404)})


@blueprint.app_context_processor
def _covering_now():
    """`covering_now()` for Oggi: whom the signed-in case manager covers today."""

    def covering_now() -> list[core.CoveringNow]:
        if not current_user.is_authenticated:
            return []
        return core.covering_now(context.db(), context.actor(), now=context.now())

    return {"covering_now": covering_now}


