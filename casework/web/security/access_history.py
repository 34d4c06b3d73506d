"""A person's access history: who viewed, printed, exported or downloaded their data, when and
from which address. For administrators (any person, without case data) and the person's case
managers; reading it is itself logged (casework.security.access_history)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casework.models import Role
from casework.security import AccessHistoryRow, access_history
from casework.web import context, saving
from casework.web.roles import role_required

blueprint = Blueprint("access_history", __name__)

# Beyond any real history: a larger number in the address is read as the last page there is
# nothing on, not as an offset the database cannot take.
MAX_PAGE = 1_000_000
ACTION_LABELS = {
    "view": _l("viewed"),
    "print": _l("printed"),
    "export": _l("exported"),
    "download": _l("downloaded"),
    "restrict": _l("restricted the processing"),
    "lift_restriction": _l("lifted the restriction"),
}

# The log records which part of a page was opened in a few fixed words (casework.web.pacts,
# casework.web.people, casework.web.services): those read in the user's language; any other
# detail (a revision number, a file name, a cover) is shown as it was recorded.
DETAIL_LABELS = {
    "access history": _l("access history"),
    "history": _l("history of changes"),
    "timeline": _l("timeline"),
    "documents": _l("documents"),
    "workflow diagram": _l("workflow diagram"),
    "services form": _l("services form"),
}


def _what(row: AccessHistoryRow) -> str:
    if row.subject_type == "pact":
        what = _("pact no. %(num)d", num=row.subject_id or 0)
    elif row.subject_type == "document":
        what = _("document no. %(num)d", num=row.subject_id or 0)
    else:
        what = _("the person's record")
    detail = str(DETAIL_LABELS.get(row.detail, row.detail))
    return f"{what} · {detail}" if detail else what


def shown_access(row: AccessHistoryRow) -> dict[str, object]:
    """An access as the history pages show it: action and part of the record in words."""
    return {
        "at": row.at,
        "who": f"{row.who} ({row.username})" if row.who else _("unknown user"),
        "action": str(ACTION_LABELS.get(row.action, row.action)),
        "what": _what(row),
        "address": row.ip_address or _("not recorded"),
    }


@blueprint.get("/beneficiaries/<int:beneficiary_id>/access-history")
@role_required(Role.ADMIN, Role.CASE_MANAGER)
def show(beneficiary_id: int):
    page = request.args.get("page", 1, type=int)
    page = min(max(page, 1), MAX_PAGE)
    found = access_history(context.db(), context.actor(), beneficiary_id, page=page, now=context.now(),
                           ip_address=context.client_ip())
    if found is None:
        abort(404)
    saving.commit()  # the access log entry for reading the history
    person = found.beneficiary
    title = (_("Access history of %(name)s", name=f"{person.last_name} {person.first_name}") if person
             else _("Access history of person no. %(num)d", num=found.beneficiary_id))
    return render_template(
        "security/access_history.html", found=found, title=title, rows=[shown_access(row) for row in found.rows],
        record_url=None if person is None else url_for("beneficiaries.show", beneficiary_id=found.beneficiary_id),
    )
