"""The administrative log, for administrators: who changed which account, territory,
organisation, programme or setting, when and from where. Read only: nothing here alters it."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from casework.models import AdministrativeLogEntry, Role, User
from casework.security import AdminLogFilters, admin_log
from casework.web import context
from casework.web.administration.user_forms import SUBJECT_TYPE_LABELS, LogFilterForm
from casework.web.paging import page_number
from casework.web.roles import role_required

blueprint = Blueprint("admin_log", __name__)

PER_PAGE = 50
# What an entry's action code means; a code without a label here is shown as it is.
ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "delete": _l("removed"),
    "invite": _l("invited"),
    "accept_invitation": _l("chose a password from the invitation"),
    "reset_password": _l("chose a new password from a reset link"),
    "send_invitation": _l("invitation sent again"),
    "send_reset_link": _l("password link sent"),
    "deactivate": _l("deactivated"),
    "reactivate": _l("reactivated"),
    "sign_in": _l("signed in"),
    "sign_in_failed": _l("sign-in refused"),
    "sign_in_throttled": _l("sign-in attempt too soon after failures"),
    "sign_in_password_accepted": _l("password accepted, code asked"),
    "second_factor_failed": _l("second factor refused"),
    "second_factor_throttled": _l("second factor attempt too soon after failures"),
    "enable_second_factor": _l("second factor enabled"),
    "disable_second_factor": _l("second factor turned off"),
    "restrict_processing": _l("restricted the processing"),
    "lift_restriction": _l("lifted the restriction"),
}


def _actors() -> list[User]:
    """Everyone who appears in the log as its author."""
    authors = select(AdministrativeLogEntry.actor_id).where(AdministrativeLogEntry.actor_id.is_not(None)).distinct()
    return list(context.db().scalars(select(User).where(User.id.in_(authors)).order_by(User.full_name)))


@blueprint.get("/admin/log")
@role_required(Role.ADMIN)
def index():
    form = LogFilterForm(request.args).offer(_actors())
    form.validate()
    start, end = form.dates()
    zone = context.settings().zone
    actor_id = request.args.get("actor", type=int)
    filters = AdminLogFilters(
        actor_id=actor_id if actor_id and 0 < actor_id < 2**31 else None,
        subject_type=form.subject_type.data if form.subject_type.data in SUBJECT_TYPE_LABELS else None,
        start=datetime.combine(start, time(), zone) if start else None,
        end=datetime.combine(end + timedelta(days=1), time(), zone) if end else None,  # the whole last day
    )
    found = admin_log(context.db(), filters, page=page_number(), per_page=PER_PAGE)
    if found.page > found.pages:  # past the end (an altered address): the last page, as other lists show
        found = admin_log(context.db(), filters, page=found.pages, per_page=PER_PAGE)
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("administration/log.html", found=found, form=form, query=query,
                           subject_labels=SUBJECT_TYPE_LABELS, action_labels=ACTION_LABELS), 200 if not form.errors else 422
