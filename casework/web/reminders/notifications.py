"""In-app notifications: the list, mark done, snooze; the unread count in every page's header."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from casework.errors import InvalidInput
from casework.reminders import notifications
from casework.reminders.notifications import NotificationView
from casework.web import context, saving
from casework.web.filters import local_datetime
from casework.web.reminders.forms import SnoozeForm, snooze_form

blueprint = Blueprint("notifications", __name__)

SNOOZE_ERRORS = {"not_in_future": _l("Choose a date and time in the future.")}
# A new snooze form proposes tomorrow at this local hour.
SNOOZE_HOUR = 9


@dataclass(frozen=True)
class Row:
    """One notification on the list, with its snooze form and what state it is in."""

    item: NotificationView
    form: SnoozeForm
    status: str  # "" (waiting), "done", "resolved" or "snoozed"
    status_label: str

    @property
    def actionable(self) -> bool:
        return self.status in ("", "snoozed")


# --- the unread count in the header ---------------------------------------------------------


_UNREAD = "unread_notifications"  # in `g`: read once per request


@blueprint.app_context_processor
def _header_globals() -> dict[str, Any]:
    return {"unread_notifications": unread_notifications}


def unread_notifications() -> int | None:
    """The signed-in user's unread count, once per request; None for anonymous visitors."""
    if context.rendering_error_page() or not current_user.is_authenticated:
        return None  # an error page loads nothing: the database may be what failed
    if _UNREAD not in g:
        try:
            remember_unread_count(notifications.unread_count(context.db(), context.actor(), context.now()))
        except SQLAlchemyError:
            # An error page after a database failure still renders, without the count.
            remember_unread_count(None)
    return g.get(_UNREAD)


def remember_unread_count(count: int | None) -> None:
    """The count as read along with the session (casework.web.session_security)."""
    setattr(g, _UNREAD, count)


# --- the list ---------------------------------------------------------------------------------


def _show_done() -> bool:
    return request.args.get("done") == "1"


def _list_url(show_done: bool) -> str:
    return url_for("notifications.index", done="1" if show_done else None)


def _default_until() -> datetime:
    local = context.now().astimezone(context.settings().zone)
    return datetime.combine(local.date() + timedelta(days=1), time(SNOOZE_HOUR))


def _status(item: NotificationView) -> tuple[str, str]:
    if item.done:
        return "done", _("Done")
    if item.resolved:
        return "resolved", _("No longer needed: the deadline was met or the pact moved on")
    if item.snoozed_until is not None and item.snoozed_until > context.now():
        return "snoozed", _("Snoozed until %(time)s", time=local_datetime(item.snoozed_until))
    return "", ""


def _page(show_done: bool, *, failed: SnoozeForm | None = None, failed_id: int | None = None, status: int = 200):
    items = notifications.list_notifications(
        context.db(), context.registry(), context.actor(), now=context.now(), include_done=show_done,
        locale=str(get_locale()),
    )
    if failed_id is not None and failed_id not in {item.id for item in items}:
        if not show_done:
            return _page(True, failed=failed, failed_id=failed_id, status=status)
        abort(404)  # not one of the user's notifications: nothing to show the error next to
    default = {"until": _default_until()}
    rows = []
    for item in items:
        form = failed if item.id == failed_id and failed is not None else snooze_form(item.id, formdata=None,
                                                                                       data=default)
        rows.append(Row(item, form, *_status(item)))
    return render_template("reminders/notifications.html", rows=rows, show_done=show_done,
                           list_url=_list_url(show_done)), status


@blueprint.get("/notifications")
@login_required
def index():
    return _page(_show_done())


@blueprint.post("/notifications/<int:notification_id>/done")
@login_required
def mark_done(notification_id: int):
    db = context.db()
    if not notifications.mark_done(db, context.actor(), notification_id, now=context.now()):
        abort(404)
    saving.commit()
    flash(_("Notification marked as done."), "success")
    return redirect(_list_url(_show_done()))


@blueprint.post("/notifications/<int:notification_id>/snooze")
@login_required
def snooze(notification_id: int):
    db = context.db()
    form = snooze_form(notification_id)
    if not form.validate_on_submit():
        saving.roll_back()
        return _page(_show_done(), failed=form, failed_id=notification_id, status=422)
    until = form.until.data.replace(tzinfo=context.settings().zone)

    def invalid(error: InvalidInput):
        for code in error.errors.values():
            message = SNOOZE_ERRORS.get(code, _l("This value is not accepted."))
            form.until.errors = [*form.until.errors, str(message)]
        return _page(_show_done(), failed=form, failed_id=notification_id)

    def done(found: bool) -> Response:
        if not found:
            abort(404)
        flash(_("Notification snoozed until %(time)s.", time=local_datetime(until)), "success")
        return redirect(_list_url(_show_done()))

    return saving.save(lambda: notifications.snooze(db, context.actor(), notification_id, until=until,
                                                    now=context.now()), done=done, invalid=invalid)


@blueprint.post("/notifications/done")
@login_required
def mark_all_done():
    db = context.db()
    count = notifications.mark_all_done(db, context.actor(), now=context.now())
    saving.commit()
    flash(ngettext("%(num)d notification marked as done.", "%(num)d notifications marked as done.", count),
          "success")
    return redirect(_list_url(_show_done()))
