"""Servizi del territorio: the directory's search and a service's page, for every signed-in role.

The directory holds no personal data; a service's page lists the referrals to it only of the
pacts the reader may see (casework.security.visible_service_referrals).
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy.orm import joinedload

from casework.models import (
    Pact,
    ServiceAccess,
    ServiceCost,
    ServiceReferral,
    ServiceReferralStatus,
)
from casework.security import visible_service_referrals
from casework.services import get_service, opening_table, search_choices, search_services
from casework.web import context
from casework.web.paging import page_number
from casework.web.services.directory_forms import LANGUAGE_LABELS, ServiceSearchForm

blueprint = Blueprint("services", __name__)

PER_PAGE = 20
ACCESS_LABELS = {ServiceAccess.FREE_ACCESS: _l("Free access"), ServiceAccess.BY_APPOINTMENT: _l("By appointment")}
COST_LABELS = {ServiceCost.FREE: _l("Free of charge"), ServiceCost.DISCOUNTED: _l("Discounted"),
               ServiceCost.PAID: _l("Paid")}
STATUS_LABELS = {
    ServiceReferralStatus.PROPOSED: _l("Proposed"), ServiceReferralStatus.REQUESTED: _l("Requested"),
    ServiceReferralStatus.ACCEPTED: _l("Accepted"), ServiceReferralStatus.REFUSED: _l("Refused"),
    ServiceReferralStatus.STARTED: _l("Started"), ServiceReferralStatus.COMPLETED: _l("Completed"),
    ServiceReferralStatus.DROPPED: _l("Dropped"),
}
WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))


def page_window(page: int, pages: int, *, around: int = 2) -> list[int | None]:
    """The page numbers to link: the first, the last and those around the current one; None
    marks a gap (a directory of thousands of services has hundreds of pages)."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    window: list[int | None] = []
    for number in shown:
        if window and number - (window[-1] or 0) > 1:
            window.append(None)
        window.append(number)
    return window


def _places(service) -> str:
    if service.places_available is not None:
        text = ngettext("%(num)d place available", "%(num)d places available", service.places_available)
    elif service.capacity is None:
        text = str(_l("No fixed limit"))
    else:
        text = str(_l("Not known"))
    if service.waiting_list:
        text += " · " + ngettext("%(num)d person waiting", "%(num)d people waiting", service.waiting_list)
    return text


@blueprint.get("/servizi")
@login_required
def index():
    db = context.db()
    locale = str(get_locale())
    form = ServiceSearchForm(formdata=request.args).offer(search_choices(db), locale)
    form.validate()
    found = search_services(db, form.query(), now=context.now(), zone=context.settings().zone,
                            page=page_number(), per_page=PER_PAGE)
    rows = [{
        "service": service,
        "type": service.service_type.label_en if locale == "en" else service.service_type.label_it,
        "comuni": ", ".join(comune.territory.name for comune in service.comuni),
        "access": ACCESS_LABELS[service.access], "cost": COST_LABELS[service.cost], "places": _places(service),
    } for service in found.items]
    kept = form.kept_arguments()
    return render_template("services/index.html", form=form, found=found, rows=rows, kept=kept,
                           window=page_window(found.page, found.pages), filtered=bool(kept))


@blueprint.get("/servizi/<int:service_id>")
@login_required
def show(service_id: int):
    db = context.db()
    service = get_service(db, service_id)
    if service is None:
        abort(404)
    locale = str(get_locale())
    referrals = db.scalars(
        visible_service_referrals(context.actor(), context.now())
        .where(ServiceReferral.service_id == service.id)
        .options(joinedload(ServiceReferral.pact).joinedload(Pact.beneficiary))
        .order_by(ServiceReferral.proposed_at.desc(), ServiceReferral.id.desc())
    ).all()
    label = (lambda item: item.label_en) if locale == "en" else (lambda item: item.label_it)
    return render_template(
        "services/show.html", service=service, type_label=label(service.service_type),
        area_label=label(service.service_type.macro_area),
        comuni=", ".join(comune.territory.name for comune in service.comuni),
        languages=", ".join(str(LANGUAGE_LABELS.get(item.language, item.language)) for item in service.languages),
        opening=[(WEEKDAYS[day], ", ".join(slots)) for day, slots in opening_table(service.opening_hours)],
        access=ACCESS_LABELS[service.access], cost=COST_LABELS[service.cost], places=_places(service),
        referrals=referrals, status_labels=STATUS_LABELS,
    )
