"""The territory tree, edited by administrators: ambiti, unioni and consorzi; comuni chosen from
the ISTAT list (searched on the server); renaming and moving; each comune's own holidays; removing
a territory nothing uses. Other roles get 403, an unknown territory 404; bad input answers 422
with the errors next to the fields, nothing saved."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from casework.administration import comuni
from casework.administration import territories as core
from casework.errors import InvalidInput
from casework.models import Role, Territory, TerritoryKind
from casework.web import context, saving
from casework.web.administration.territory_forms import (
    TERRITORY_KINDS,
    ComuneForm,
    EditForm,
    GroupForm,
    HolidaysForm,
    parent_options,
)
from casework.web.roles import role_required

blueprint = Blueprint("territories", __name__)

ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "invalid_kind": _l("Choose ambito, union of comuni or consortium."),
    "unknown_parent": _l("Choose a territory from the list."),
    "parent_is_comune": _l("A comune cannot contain other territories: choose an ambito, union or consortium."),
    "cycle": _l("A territory cannot be moved inside itself or inside one of the territories it contains."),
    "unknown_istat_code": _l("This is not the ISTAT code of a comune: search for the comune and choose it."),
    "duplicate_comune": _l("This comune is already in the tree."),
    "patron_incomplete": _l("Give both the month and the day, or neither."),
    "impossible_day": _l("This day does not exist in that month."),
    "invalid_closure_day": _l("Write one day a line as dd/mm/yyyy, e.g. 02/11/2026."),
    "too_many_closure_days": _l("Write at most %(count)d closure days.", count=core.MAX_CLOSURE_DAYS),
    "not_a_comune": _l("Only a comune has holidays of its own."),
}
TOP = _l("(top of the tree)")


def _show_errors(form, error: InvalidInput) -> None:
    saving.show_errors(form, error, ERROR_MESSAGES)


def _territory_or_404(territory_id: int) -> Territory:
    territory = context.db().get(Territory, territory_id)
    if territory is None:
        abort(404)
    return territory


@blueprint.get("/admin/territories")
@role_required(Role.ADMIN)
def index():
    return render_template("administration/territories/index.html", rows=core.territory_tree(context.db()),
                           kinds=TERRITORY_KINDS, label=core.label)


def _page(template: str, status: int = 200, **values):
    return render_template(f"administration/territories/{template}", kinds=TERRITORY_KINDS, **values), status


@blueprint.route("/admin/territories/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new():
    db = context.db()
    form = GroupForm()
    form.parent_id.choices = parent_options(core.parent_choices(db), top_label=TOP)
    if request.method == "GET" and request.args.get("parent"):
        form.parent_id.data = form.parent_id.coerce(request.args["parent"])
    if not form.validate_on_submit():
        return _page("new.html", 422 if request.method == "POST" else 200, form=form)

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        form.parent_id.choices = parent_options(core.parent_choices(db), top_label=TOP)
        return render_template("administration/territories/new.html", form=form, kinds=TERRITORY_KINDS)

    def done(territory: Territory) -> Response:
        flash(_("Territory %(name)s created.", name=territory.name), "success")
        return redirect(url_for("territories.index"))

    return saving.save(lambda: core.create_territory(
        db, context.actor(), name=form.name.data or "", kind=form.kind.data, parent_id=form.parent_id.data,
        now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.route("/admin/territories/comuni/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_comune():
    db = context.db()
    query = (request.values.get("q") or "").strip()[:100]
    province = (request.values.get("province") or "").strip()[:2].upper()
    found = comuni.search_comuni(query, province)
    form = ComuneForm()
    form.istat_code.choices = [SelectChoice(c.istat_code, f"{c.label} · {c.region} · ISTAT {c.istat_code}")
                               for c in found]
    form.parent_id.choices = parent_options(core.parent_choices(db))
    if request.method == "GET" and request.args.get("parent"):
        form.parent_id.data = form.parent_id.coerce(request.args["parent"])
    values = {"form": form, "query": query, "province": province, "provinces": comuni.provinces(),
              "searched": bool(query or province), "found": found}
    if not form.validate_on_submit():
        return _page("new_comune.html", 422 if request.method == "POST" else 200, **values)

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        form.parent_id.choices = parent_options(core.parent_choices(db))
        return render_template("administration/territories/new_comune.html", kinds=TERRITORY_KINDS, **values)

    def done(territory: Territory) -> Response:
        flash(_("Comune %(name)s added.", name=core.label(territory)), "success")
        return redirect(url_for("territories.index"))

    return saving.save(lambda: core.add_comune(
        db, context.actor(), istat_code=form.istat_code.data or "", parent_id=form.parent_id.data,
        now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.route("/admin/territories/<int:territory_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit(territory_id: int):
    db = context.db()
    territory = _territory_or_404(territory_id)
    is_comune = territory.kind == TerritoryKind.COMUNE
    form = EditForm(formdata=None, data={"name": territory.name, "parent_id": territory.parent_id,
                                         "public_board": territory.public_board}) \
        if request.method == "GET" else EditForm()

    def offer() -> None:
        form.parent_id.choices = parent_options(core.parent_choices(db, territory),
                                                top_label=None if is_comune else TOP)

    offer()
    if request.method == "GET" or not form.validate_on_submit():
        return _page("edit.html", 200 if request.method == "GET" else 422, form=form, territory=territory,
                     uses=core.territory_uses(db, territory.id))

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        fresh = _territory_or_404(territory_id)
        form.parent_id.choices = parent_options(core.parent_choices(db, fresh), top_label=None if is_comune else TOP)
        return render_template("administration/territories/edit.html", form=form, territory=fresh,
                               uses=core.territory_uses(db, fresh.id), kinds=TERRITORY_KINDS)

    def done(saved: Territory) -> Response:
        flash(_("Territory %(name)s saved.", name=saved.name), "success")
        return redirect(url_for("territories.index"))

    return saving.save(lambda: core.update_territory(
        db, context.actor(), territory_id, name=form.name.data or "", parent_id=form.parent_id.data,
        public_board=form.public_board.data, now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


def _closure_text(territory: Territory) -> str:
    return "\n".join(closure.day.strftime("%d/%m/%Y") for closure in territory.closure_days)


@blueprint.route("/admin/territories/<int:territory_id>/holidays", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def holidays(territory_id: int):
    db = context.db()
    territory = _territory_or_404(territory_id)
    if territory.kind != TerritoryKind.COMUNE:
        abort(404)
    if request.method == "GET":
        form = HolidaysForm(formdata=None, data={
            "patron_month": territory.patron_month, "patron_day": territory.patron_day,
            "closure_days": _closure_text(territory)})
        return _page("holidays.html", form=form, territory=territory)
    form = HolidaysForm()
    if not form.validate_on_submit():
        return _page("holidays.html", 422, form=form, territory=territory)

    def invalid(error: InvalidInput):
        _show_errors(form, error)
        if "patron_day" in error.errors:
            form.patron_month.errors = []  # one message for the pair, next to the day
        return render_template("administration/territories/holidays.html", form=form,
                               territory=_territory_or_404(territory_id), kinds=TERRITORY_KINDS)

    def done(saved: Territory) -> Response:
        flash(_("The holidays of %(name)s are saved: its deadlines skip them from now on.", name=saved.name),
              "success")
        return redirect(url_for("territories.index"))

    return saving.save(lambda: core.set_comune_holidays(
        db, context.actor(), territory_id, patron_month=form.patron_month.data, patron_day=form.patron_day.data,
        closure_days=form.closure_days.data or "", now=context.now(), ip_address=context.client_ip(),
    ), done=done, invalid=invalid)


@blueprint.post("/admin/territories/<int:territory_id>/delete")
@role_required(Role.ADMIN)
def delete(territory_id: int):
    db = context.db()
    territory = _territory_or_404(territory_id)
    name = territory.name

    def in_use(error: InvalidInput) -> Response:
        flash(_("%(name)s cannot be removed: people, programmes, users, organisations or other territories "
                "belong to it. Move them first.", name=name), "error")
        return redirect(url_for("territories.edit", territory_id=territory_id))

    def done(label: str) -> Response:
        flash(_("Territory %(name)s removed.", name=label), "success")
        return redirect(url_for("territories.index"))

    return saving.save(lambda: core.delete_territory(
        db, context.actor(), territory_id, now=context.now(), ip_address=context.client_ip(),
    ), done=done, refused={InvalidInput: in_use})
