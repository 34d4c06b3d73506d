"""Oggi (Today): the case manager's starting page, and its quick actions.

Each quick action (a follow-up contact, a reminder put off) is its own page without
JavaScript (GET shows the form, POST records it); with JavaScript the same form opens in a
dialog on Oggi (static/today.js) and posts to the same address. Either way the person comes
back to the Oggi page they left, with a confirmation.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from markupsafe import Markup
from werkzeug.wrappers import Response

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache
from casework.models import ContactChannel, Pact, Role
from casework.pacts import log_contact
from casework.pacts.today import RECENT_DAYS, next_overdue_pact_id, todays_work
from casework.reminders import MAX_SNOOZE_REASON, deadline_label, service_names, snooze_deadline
from casework.services import stale_services_count
from casework.web import context, saving
from casework.web.filters import local_date
from casework.web.kept_parts import KeptPart, kept_part
from casework.web.pacts.forms import error_message
from casework.web.pacts.today_forms import (
    QuickContactForm,
    SnoozeForm,
    quick_contact_form,
    snooze_form,
)
from casework.web.roles import role_required

blueprint = Blueprint("home", __name__)

SNOOZE_ERRORS = {
    "not_in_future": _l("Choose a day after today."),
    "too_long": _l("At most %(max)d characters.", max=MAX_SNOOZE_REASON),
    "not_a_current_deadline": _l("This deadline has changed meanwhile: go back to the list and look at it again."),
}


@blueprint.get("/")
@login_required
def today():
    if context.actor().role == Role.ADMIN:
        return redirect(url_for("admin.failed_mail"))  # an administrator sees no case data
    if request.args.get("q"):  # Oggi's own search box of old: the header's search answers now
        return redirect(url_for("search.results", q=request.args["q"]))
    requested_page = request.args.get("page", 1, type=int)
    can_act = context.actor().role == Role.CASE_MANAGER
    part = kept_part(_PARTS, ("oggi", requested_page), lambda: _draw_work(requested_page, can_act))
    return render_template("pacts/today.html", part=part, can_act=can_act)


_PARTS: FigureCache[KeptPart] = FigureCache(size=128)


def _draw_work(requested_page: int, can_act: bool) -> tuple[KeptPart, datetime]:
    work = todays_work(context.db(), context.actor(), context.registry(), now=context.now(), locale=_locale(),
                       zone=context.settings().zone, page=requested_page)
    here = url_for("home.today", page=work.page if work.page > 1 else None)
    # A supervisor keeps the directory: services not checked for a year are flagged here.
    stale_services = 0 if can_act else stale_services_count(
        context.db(), context.actor(), context.now(), context.settings().zone)
    html = render_template(
        "pacts/today/_work.html", work=work, here=here, can_act=can_act, stale_services=stale_services,
        page_links=_page_links(work.page, work.pages), recent_days=RECENT_DAYS,
        contact_form=_blank_contact(here) if can_act else None, snooze_form=_blank_snooze(here) if can_act else None,
    )
    return KeptPart(Markup(html)), work.holds_until


def _page_links(page: int, pages: int) -> list[tuple[int, str]]:
    """(page number, its address) for the first, the last and those around the current page."""
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    return [(number, url_for("home.today", page=number if number > 1 else None)) for number in shown]


@blueprint.get("/oggi/prossimo-in-ritardo")
@login_required
def next_overdue() -> Response:
    """The overdue pact after the one given (`dopo`), in Oggi's order; Oggi itself when there is none."""
    found = next_overdue_pact_id(context.db(), context.actor(), now=context.now(), zone=context.settings().zone,
                                 after=request.args.get("dopo", type=int))
    if found is None:
        flash(_("No other pact is overdue."), "info")
        return redirect(url_for("home.today"))
    return redirect(url_for("pacts.show", pact_id=found))


# --- quick actions -------------------------------------------------------------------------


@blueprint.route("/oggi/patti/<int:pact_id>/contatto", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER)
def quick_contact(pact_id: int):
    pact = context.visible_pact(pact_id)
    if request.method == "GET":
        return _contact_page(pact, _blank_contact(_next_path(request.args.get("next"))))
    form = quick_contact_form(request.form)
    if not form.validate():
        return _contact_page(pact, form), 422
    zone = context.settings().zone

    def invalid(error: InvalidInput):
        for name, code in error.errors.items():
            target = form[name] if name in form else form.contact_at
            target.errors = [*target.errors, error_message(code)]
        return _contact_page(pact, form)

    def done(_contact: object) -> Response:
        flash(_("Contact recorded for %(name)s.", name=pact.beneficiary.full_name), "success")
        return redirect(_next_path(form.next.data))

    return saving.save(lambda: log_contact(
        context.db(), context.registry(), pact,
        contact_at=form.contact_at.data.replace(tzinfo=zone).astimezone(timezone.utc),
        channel=ContactChannel(form.channel.data), notes=form.notes.data or "",
        next_contact_on=form.next_contact_on.data, actor=context.actor(), clock=context.clock(),
    ), done=done, invalid=invalid)


@blueprint.route("/oggi/patti/<int:pact_id>/rimanda", methods=["GET", "POST"])
@role_required(Role.CASE_MANAGER)
def snooze(pact_id: int):
    pact = context.visible_pact(pact_id)
    if request.method == "GET":
        return _snooze_page(pact, _blank_snooze(_next_path(request.args.get("next")), pact))
    form = snooze_form(request.form, first_day=_tomorrow())
    if not form.validate():
        for message in form.rule_id.errors:  # a hidden field has no place for its error: above the form
            flash(str(message), "error")
        return _snooze_page(pact, form), 422
    settings = context.settings()

    def invalid(error: InvalidInput):
        # The deadline is a hidden field: that error goes above the form.
        saving.show_errors(form, error, SNOOZE_ERRORS,
                           field_for=lambda name: None if name == "rule_id" else getattr(form, name, None))
        return _snooze_page(pact, form)

    def done(_snooze: object) -> Response:
        flash(_("Reminder for %(name)s put off until %(day)s: the deadline itself has not moved.",
                name=pact.beneficiary.full_name, day=local_date(form.until_on.data)), "success")
        return redirect(_next_path(form.next.data))

    return saving.save(lambda: snooze_deadline(
        context.db(), pact, form.rule_id.data, until_on=form.until_on.data, reason=form.reason.data or "",
        actor=context.actor(), now=context.now(), zone=settings.zone, reminder_hour=settings.reminder_hour,
    ), done=done, invalid=invalid)


def _contact_page(pact: Pact, form: QuickContactForm):
    return render_template("pacts/today/contact.html", pact=pact, form=form, **_about(pact))


def _snooze_page(pact: Pact, form: SnoozeForm):
    return render_template("pacts/today/snooze.html", pact=pact, form=form, **_about(pact))


def _about(pact: Pact) -> dict[str, object]:
    """What the form page says about the pact: its stage and the deadline the action is about."""
    definition = context.registry().engine_for(pact).definition
    locale = _locale()
    due = pact.next_deadline_at
    return {
        "stage_label": definition.label_of("state", pact.state, locale),
        "deadline_label": deadline_label(definition, pact.next_deadline_label, locale,
                                         service_names(context.db(), [pact.next_deadline_label])) if due else "",
        "deadline_on": due.astimezone(context.settings().zone).date() if due else None,
        "back": _next_path(request.values.get("next")),
    }


def _blank_contact(next_path: str) -> QuickContactForm:
    now = context.now().astimezone(context.settings().zone).replace(second=0, microsecond=0, tzinfo=None)
    return quick_contact_form(None, contact_at=now, next=next_path)


def _blank_snooze(next_path: str, pact: Pact | None = None) -> SnoozeForm:
    return snooze_form(None, first_day=_tomorrow(), until_on=_tomorrow(), next=next_path,
                       rule_id=pact.next_deadline_label if pact is not None else "")


def _tomorrow():
    return context.now().astimezone(context.settings().zone).date() + timedelta(days=1)


def _next_path(value: str | None) -> str:
    """Where to go back: a path of this site (never another site's address), else Oggi."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return url_for("home.today")


def _locale() -> str:
    return str(get_locale())
