"""Keeping the services directory (administrators and supervisors): list, new, edit, deactivate,
confirm as checked, history, import and export.

Case managers get 403; a service outside the supervisor's territory, or none at all, 404. Bad
input answers 422 with the errors next to the fields; an edit over someone else's, 409 with the
person's input kept. An uploaded file is checked first (nothing written), kept, and imported
only when confirmed; the import writes every row or none.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, NotFound
from werkzeug.wrappers import Response

from casework.errors import Conflict, InvalidInput
from casework.models import Role, Service
from casework.services import directory as core
from casework.services import directory_files as files
from casework.services import directory_import as importing
from casework.services import directory_listing as listing
from casework.spreadsheets import UnreadableFile
from casework.web import context, saving, uploads
from casework.web.filters import local_date, request_locale, translated
from casework.web.paging import page_number
from casework.web.roles import role_required
from casework.web.services.manage_forms import (
    ACCESS_LABELS,
    COST_LABELS,
    ConfirmImportForm,
    FilterForm,
    ImportForm,
    ServiceForm,
    VersionForm,
)

blueprint = Blueprint("services_manage", __name__, url_prefix="/servizi/gestione")

KEEPERS = (Role.ADMIN, Role.SUPERVISOR)
PROBLEMS_SHOWN = 500
ERROR_MESSAGES = {
    "required": _l("Fill in this field."),
    "too_long": _l("This is too long."),
    "outside_territory": _l("Choose among those of your territory."),
    "inactive_organisation": _l("This organisation is deactivated: choose an active one."),
    "unknown_type": _l("Choose a type from the list."),
    "invalid_choice": _l("Choose one of the options."),
    "unknown_language": _l("Choose the languages from the list."),
    "invalid_hours": _l("Write the opening hours like \"lun 09:00-12:30; mer 14:00-18:00\"."),
    "closes_before_opens": _l("A closing time comes before its opening time."),
    "invalid_email": _l("This is not an e-mail address."),
    "invalid_website": _l("This is not a website address."),
    "not_whole_number": _l("Write a whole number, 0 or more."),
    "too_large": _l("Write a number up to 100,000."),
    "over_capacity": _l("There cannot be more places available than places in all."),
    "in_the_future": _l("This date is in the future."),
}
# What only a file can get wrong; %(value)s and %(row)s come from the problem.
IMPORT_MESSAGES = {
    "unknown_service": _l("No service with this id among those you manage."),
    "duplicate_row": _l("This service is already in row %(row)s."),
    "unknown_organisation": _l("No organisation with exactly this name among those you manage."),
    "unknown_comune": _l("Unknown ISTAT codes: %(value)s."),
    "invalid_yes_no": _l("Write \"sì\" or \"no\"."),
    "invalid_date": _l("Write the date as DD/MM/YYYY."),
    "missing_column": _l("The header row lacks this column."),
}
FIELD_LABELS = {
    "name": _l("Name of the service"), "organisation": _l("Organisation"), "type": _l("Type of service"),
    "description": _l("What it offers"), "target_group": _l("For whom"), "eligibility": _l("Requirements"),
    "access": _l("Access"), "opening_hours": _l("Opening hours"), "opening_notes": _l("Notes on the opening hours"),
    "address": _l("Address"), "contact_name": _l("Contact person"), "contact_email": _l("E-mail"),
    "contact_phone": _l("Phone"), "website": _l("Website"), "cost": _l("Cost"),
    "cost_notes": _l("Notes on the cost or discount"), "company_welfare_plan": _l("Part of a company's welfare plan"),
    "languages": _l("Languages spoken"), "comuni": _l("Comuni served"), "capacity": _l("Capacity (places in all)"),
    "places_available": _l("Places available now"), "waiting_list": _l("People on the waiting list"),
    "active": _l("Active"), "last_checked_on": _l("Last checked on"),
}


def _offered(form: ServiceForm, service: Service | None = None) -> ServiceForm:
    db, actor = context.db(), context.actor()
    comuni = core.comune_choices(db, actor)
    organisations = core.organisation_choices(db, actor)
    if service is not None:
        # What the service has beyond the actor's choices stays offered, or saving would drop it
        # unseen (a comune an administrator added, an organisation deactivated since).
        offered = {territory.id for territory in comuni}
        comuni += [link.territory for link in service.comuni if link.territory_id not in offered]
        if service.organisation not in organisations:
            organisations.append(service.organisation)
    return form.offer(organisations, core.type_choices(db), comuni, request_locale())


def _input(form: ServiceForm) -> core.ServiceInput:
    return core.ServiceInput(
        organisation_id=form.organisation_id.data, type_id=form.type_id.data, name=form.name.data or "",
        description=form.description.data or "", target_group=form.target_group.data or "",
        eligibility=form.eligibility.data or "", access=form.access.data or "",
        opening_hours=form.opening_hours.data or "", opening_notes=form.opening_notes.data or "",
        address=form.address.data or "", contact_name=form.contact_name.data or "",
        contact_email=form.contact_email.data or "", contact_phone=form.contact_phone.data or "",
        website=form.website.data or "", cost=form.cost.data or "", cost_notes=form.cost_notes.data or "",
        company_welfare_plan=bool(form.company_welfare_plan.data), languages=tuple(form.languages.data or ()),
        comuni=tuple(0 if value is None else value for value in form.comuni.data or ()),
        capacity=form.capacity.data or "", places_available=form.places_available.data or "",
        waiting_list=form.waiting_list.data or "",
    )


def _values_of(service: Service) -> dict[str, Any]:
    return {
        "name": service.name, "organisation_id": service.organisation_id, "type_id": service.type_id,
        "description": service.description, "target_group": service.target_group,
        "eligibility": service.eligibility, "access": service.access.value,
        "opening_hours": core.format_opening_hours(service.opening_hours or []),
        "opening_notes": service.opening_notes, "address": service.address, "contact_name": service.contact_name,
        "contact_email": service.contact_email, "contact_phone": service.contact_phone, "website": service.website,
        "cost": service.cost.value, "cost_notes": service.cost_notes,
        "company_welfare_plan": service.company_welfare_plan,
        "languages": [link.language for link in service.languages],
        "comuni": [link.territory_id for link in service.comuni],
        "capacity": "" if service.capacity is None else str(service.capacity),
        "places_available": "" if service.places_available is None else str(service.places_available),
        "waiting_list": str(service.waiting_list), "version": str(service.version),
    }


def _version(value: str | None) -> int | None:
    """The version the page showed; a missing or mangled one checks nothing the core cannot refuse."""
    try:
        return int(value or "")
    except ValueError:
        return 0


def _kept_or_404(service_id: int) -> Service:
    try:
        return core.get_service(context.db(), context.actor(), service_id)
    except core.ServiceNotFound:
        abort(404)


def _form_page(form: ServiceForm, service: Service | None, *, status: int = 200, conflict: bool = False):
    return render_template("services/manage/form.html", form=form, service=service, conflict=conflict), status


@blueprint.errorhandler(core.NotAllowed)
def _not_allowed(_error):
    return current_app.handle_http_exception(Forbidden())


@blueprint.errorhandler(core.ServiceNotFound)
def _not_found(_error):
    # The same page as for a service that does not exist: ids leak nothing.
    return current_app.handle_http_exception(NotFound())


# --- the list and its files -------------------------------------------------------------------

def _filters() -> tuple[FilterForm, listing.ServiceFilters]:
    db, actor = context.db(), context.actor()
    form = FilterForm(request.args).offer(core.type_choices(db), core.organisation_choices(
        db, actor, include_inactive=True), request_locale())
    state = form.state.data
    chosen = listing.ServiceFilters(
        text=form.q.data or "", macro_area_id=form.area.data or None, organisation_id=form.organisation.data or None,
        active={"active": True, "inactive": False}.get(state), stale=state == "stale")
    return form, chosen


def _row(row: listing.ServiceRow, english: bool) -> dict[str, Any]:
    service = row.service
    kind = service.service_type
    return {
        "id": service.id, "name": service.name, "organisation": service.organisation.name,
        "type": kind.label_en if english else kind.label_it,
        "area": kind.macro_area.label_en if english else kind.macro_area.label_it,
        "active": service.active, "checked_on": service.last_checked_on, "stale": row.stale,
        "version": service.version,
    }


@blueprint.get("")
@role_required(*KEEPERS)
def index():
    db, actor, clock = context.db(), context.actor(), context.clock()
    filters, chosen = _filters()
    found = listing.managed_services(db, actor, chosen, now=clock.now, zone=clock.zone,
                                     page=page_number())
    stale = listing.stale_services_count(db, actor, clock.now, clock.zone)
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    english = request_locale() == "en"
    return render_template("services/manage/index.html", found=found, rows=[_row(row, english) for row in found.rows],
                           filters=filters, query=query, stale=stale, buttons=VersionForm())


@blueprint.get("/esporta.<any(csv, xlsx):kind>")
@role_required(*KEEPERS)
def export(kind: str):
    db, actor, clock = context.db(), context.actor(), context.clock()
    _, chosen = _filters()
    services = listing.all_managed_services(db, actor, chosen, now=clock.now, zone=clock.zone)
    data = files.services_csv(services) if kind == "csv" else files.services_xlsx(services)
    name = f"servizi-{clock.now.astimezone(clock.zone):%Y-%m-%d}.{kind}"
    return send_file(io.BytesIO(data), as_attachment=True, download_name=name,
                     mimetype=files.CSV_TYPE if kind == "csv" else files.XLSX_TYPE)


# --- one service ------------------------------------------------------------------------------

@blueprint.route("/nuovo", methods=["GET", "POST"])
@role_required(*KEEPERS)
def new():
    db, clock = context.db(), context.clock()
    form = _offered(ServiceForm())
    if not form.validate_on_submit():
        return _form_page(form, None, status=422 if request.method == "POST" else 200)

    def invalid(error: InvalidInput):
        saving.show_errors(form, error, ERROR_MESSAGES)
        return _form_page(_offered(form), None)

    def done(service: Service) -> Response:
        flash(_("Service %(name)s added to the directory.", name=service.name), "success")
        return redirect(url_for("services_manage.index"))

    return saving.save(lambda: core.create_service(db, context.actor(), _input(form), now=clock.now, zone=clock.zone),
                       done=done, invalid=invalid)


@blueprint.route("/<int:service_id>/modifica", methods=["GET", "POST"])
@role_required(*KEEPERS)
def edit(service_id: int):
    db, clock = context.db(), context.clock()
    service = _kept_or_404(service_id)
    if request.method == "GET":
        return _form_page(_offered(ServiceForm(formdata=None, data=_values_of(service)), service), service)
    form = _offered(ServiceForm(), service)
    if not form.validate_on_submit():
        return _form_page(form, service, status=422)

    def reread() -> Service:
        saving.roll_back()
        return _kept_or_404(service_id)

    def invalid(error: InvalidInput):
        saving.show_errors(form, error, ERROR_MESSAGES)
        stored = reread()
        return _form_page(_offered(form, stored), stored)

    def conflict(error: Conflict):
        # Keep what the person typed; sending it again now overwrites knowingly.
        stored = reread()
        form.version.data = str(stored.version)
        flash(_("Someone else changed this service while you were working on it. Nothing was saved: "
                "check the service as saved now and send your changes again."), "warning")
        return _form_page(_offered(form, stored), stored, conflict=True)

    def done(saved: Service) -> Response:
        flash(_("Service %(name)s saved.", name=saved.name), "success")
        return redirect(url_for("services_manage.index"))

    return saving.save(lambda: core.update_service(
        db, context.actor(), service_id, _input(form), now=clock.now, zone=clock.zone,
        expected_version=_version(form.version.data)), done=done, invalid=invalid, conflict=conflict)


def _button(service_id: int, write, message) -> Any:
    _kept_or_404(service_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)

    def conflict(error: Conflict):
        saving.roll_back()
        stored = _kept_or_404(service_id)
        flash(_("Someone else changed this service meanwhile: nothing was done. Check it and try again."), "warning")
        return _form_page(_offered(ServiceForm(formdata=None, data=_values_of(stored)), stored), stored,
                          conflict=True)

    def done(service: Service) -> Response:
        flash(message(service), "success")
        return redirect(url_for("services_manage.index"))

    return saving.save(lambda: write(_version(form.version.data)), done=done, conflict=conflict)


@blueprint.post("/<int:service_id>/disattiva")
@role_required(*KEEPERS)
def deactivate(service_id: int):
    return _button(service_id, lambda version: core.deactivate_service(
        context.db(), context.actor(), service_id, now=context.now(), expected_version=version),
        lambda service: _("Service %(name)s deactivated: it is no longer offered in searches.", name=service.name))


@blueprint.post("/<int:service_id>/riattiva")
@role_required(*KEEPERS)
def reactivate(service_id: int):
    return _button(service_id, lambda version: core.reactivate_service(
        context.db(), context.actor(), service_id, now=context.now(), expected_version=version),
        lambda service: _("Service %(name)s is active again.", name=service.name))


@blueprint.post("/<int:service_id>/verificato")
@role_required(*KEEPERS)
def checked(service_id: int):
    clock = context.clock()
    return _button(service_id, lambda version: core.confirm_service_checked(
        context.db(), context.actor(), service_id, now=clock.now, zone=clock.zone, expected_version=version),
        lambda service: _("Service %(name)s confirmed as checked today.", name=service.name))


@blueprint.get("/<int:service_id>/storia")
@role_required(*KEEPERS)
def history(service_id: int):
    db = context.db()
    found = core.service_history(db, context.actor(), service_id)
    english = request_locale() == "en"
    types = {kind.code: kind.label_en if english else kind.label_it
             for area in core.type_choices(db) for kind in area.types}
    rows = [
        {"at": change.at, "actor": change.actor.full_name if change.actor else "",
         "field": FIELD_LABELS.get(change.field, change.field),
         "old": _shown(change.field, change.old_value, types), "new": _shown(change.field, change.new_value, types)}
        for change in found.changes
    ]
    return render_template("services/manage/history.html", service=found.service, rows=rows)


def _shown(field: str, value: str, types: dict[str, str]) -> str:
    """A stored history value as the reader expects it: dates dd/mm/yyyy, choices in words."""
    if not value:
        return ""
    if field == "last_checked_on":
        return local_date(date.fromisoformat(value))
    if field in ("active", "company_welfare_plan"):
        return _("Yes") if value == "True" else _("No")
    if field == "access":
        return str(next((label for access, label in ACCESS_LABELS.items() if access.value == value), value))
    if field == "cost":
        return str(next((label for cost, label in COST_LABELS.items() if cost.value == value), value))
    if field == "type":
        return types.get(value, value)
    return value


# --- import -----------------------------------------------------------------------------------

def _import_page(form: ImportForm, *, status: int = 200, name: str = "", report=None, confirm=None):
    problems = []
    if report is not None:
        problems = [{"row": problem.row, "column": problem.column, "value": problem.params.get("value", ""),
                     "message": _problem_message(problem)} for problem in report.problems[:PROBLEMS_SHOWN]]
    return render_template("services/manage/import.html", form=form, name=name, report=report, problems=problems,
                           confirm=confirm, limit_mb=context.settings().max_upload_mb,
                           columns=files.COLUMN_NAMES), status


def _problem_message(problem: importing.Problem) -> str:
    message = IMPORT_MESSAGES.get(problem.code) or ERROR_MESSAGES.get(problem.code) or _l(
        "This value is not accepted.")
    try:
        return str(message) % problem.params if "%(" in str(message) else str(message)
    except (KeyError, TypeError, ValueError):  # a problem without the details its message names
        return str(_l("This value is not accepted."))


def _check(name: str, data: bytes, *, dry_run: bool) -> importing.ImportReport:
    clock = context.clock()
    return importing.import_services(context.db(), context.actor(), data, name, now=clock.now, zone=clock.zone,
                                     dry_run=dry_run)


@blueprint.route("/importa", methods=["GET", "POST"])
@role_required(*KEEPERS)
def import_file():
    form = ImportForm()
    if request.method == "GET":
        return _import_page(form)
    if not form.validate_on_submit():
        return _import_page(form, status=422)
    upload = form.file.data
    name, data = Path(upload.filename or "").name, upload.read()
    try:
        report = _check(name, data, dry_run=True)
    except UnreadableFile as error:
        form.file.errors.append(translated(error.message, **error.params))
        return _import_page(form, status=422)
    finally:
        saving.roll_back()  # a dry run writes nothing
    confirm = None
    if report.ok:
        token, checksum = uploads.keep(name, data)
        confirm = ConfirmImportForm(upload=token, checksum=checksum)
    return _import_page(ImportForm(formdata=None), status=200 if report.ok else 422, name=name, report=report,
                        confirm=confirm)


@blueprint.post("/importa/conferma")
@role_required(*KEEPERS)
def confirm_import():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    found = uploads.kept(form.upload.data, form.checksum.data)
    if found is None:
        upload = ImportForm(formdata=None)
        upload.file.errors = [_("The file to import is no longer available or has changed: upload it again.")]
        return _import_page(upload, status=409)
    name, data = found

    def done(report: importing.ImportReport):
        uploads.forget(form.upload.data)
        if not report.written:  # the directory changed since the check: nothing was written
            return _import_page(ImportForm(formdata=None), status=422, name=name, report=report)
        return render_template("services/manage/imported.html", name=name, report=report)

    return saving.save(lambda: _check(name, data, dry_run=False), done=done)
