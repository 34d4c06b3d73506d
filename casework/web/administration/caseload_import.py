"""Bringing in an existing caseload (supervisors): template, upload and dry run, import.

The uploaded file is kept between the check and "Importa" (casework.web.uploads): a file that
changed (or another user's) is refused. Importing writes everything or nothing.
"""

from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, render_template, send_file
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField
from wtforms.validators import InputRequired, Regexp

from casework.administration import caseload_import as caseload
from casework.administration.caseload_import_template import build_template
from casework.models import Role
from casework.web import context, saving
from casework.web.roles import role_required
from casework.web.uploads import CHECKSUM_PATTERN as _CHECKSUM
from casework.web.uploads import TOKEN_PATTERN as _TOKEN
from casework.web.uploads import forget as _forget
from casework.web.uploads import keep as _keep
from casework.web.uploads import kept as _kept

blueprint = Blueprint("caseload_import", __name__)

ACCEPTED = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PROBLEMS_SHOWN = 500
ROWS_SHOWN = 200


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))],
                     render_kw={"accept": ACCEPTED})


class ConfirmForm(FlaskForm):
    upload = HiddenField(validators=[InputRequired(), Regexp(_TOKEN)])
    checksum = HiddenField(validators=[InputRequired(), Regexp(_CHECKSUM)])


def _locale() -> str:
    return str(get_locale() or "it")


def _upload_page(form: UploadForm, status: int = 200):
    return render_template("administration/caseload_import/upload.html", form=form,
                           limit_mb=context.settings().max_upload_mb), status


@blueprint.get("/import")
@role_required(Role.SUPERVISOR)
def index():
    return _upload_page(UploadForm())


@blueprint.get("/import/template.xlsx")
@role_required(Role.SUPERVISOR)
def template():
    data = build_template(context.db(), context.registry(), context.actor())
    return send_file(
        io.BytesIO(data), as_attachment=True, download_name="casework-importazione-casi.xlsx",
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _read(form: UploadForm) -> tuple[str, bytes, caseload.SourceTable] | None:
    upload = form.file.data
    name = Path(upload.filename or "").name
    data = upload.read()
    try:
        return name, data, caseload.read_table(name, data)
    except caseload.UnreadableFile as error:
        form.file.errors.append(caseload.unreadable_message(error, _locale()))
        return None


def _problem_rows(plan: caseload.CaseloadPlan) -> list[dict]:
    headers = dict(caseload.HEADERS)
    return [
        {"row": problem.row, "column": headers.get(problem.column, problem.column), "value": problem.value,
         "message": caseload.problem_message(problem, _locale())}
        for problem in plan.problems
    ]


@blueprint.post("/import")
@role_required(Role.SUPERVISOR)
def check():
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422)
    read = _read(form)
    if read is None:
        return _upload_page(form, 422)
    name, data, table = read
    plan = caseload.dry_run(context.db(), context.registry(), context.actor(), table, clock=context.clock(),
                            locale=_locale())
    saving.roll_back()  # a dry run writes nothing
    confirm = None
    if plan.ok:
        token, checksum = _keep(name, data)
        confirm = ConfirmForm(upload=token, checksum=checksum)
    return _dry_run_page(name, plan, confirm, status=200 if plan.ok else 422)


def _dry_run_page(name: str, plan: caseload.CaseloadPlan, confirm: ConfirmForm | None, *, status: int = 200):
    """Problems first (row, column, value, what is wrong), then the counts and the rows' plan."""
    problems = _problem_rows(plan)
    return render_template(
        "administration/caseload_import/dry_run.html", name=name, plan=plan, counts=plan.counts,
        problems=problems[:PROBLEMS_SHOWN], problem_total=len(problems), rows=plan.rows[:ROWS_SHOWN],
        row_total=len(plan.rows), confirm=confirm, upload_form=UploadForm(),
    ), status


@blueprint.post("/import/confirm")
@role_required(Role.SUPERVISOR)
def confirm():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    kept = _kept(form.upload.data, form.checksum.data)
    if kept is None:
        upload = UploadForm()
        upload.file.errors = [_("The file to import is no longer available or has changed: upload it again.")]
        return _upload_page(upload, 409)
    name, data = kept
    table = caseload.read_table(name, data)

    def write():
        return caseload.import_caseload(
            context.db(), context.registry(), context.actor(), table, clock=context.clock(), filename=name,
            ip_address=context.client_ip(), locale=_locale(),
        )

    def done(result):
        _forget(form.upload.data)
        _, summary = result
        return render_template("administration/caseload_import/done.html", name=name, summary=summary)

    def refused(error: caseload.CaseloadRefused):
        _forget(form.upload.data)
        return _dry_run_page(name, error.plan, None, status=422)

    return saving.save(write, done=done, refused={caseload.CaseloadRefused: refused})


@blueprint.errorhandler(caseload.ImportNotAllowed)
def _not_allowed(_error):
    abort(403)

