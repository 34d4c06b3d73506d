"""The private calendar feed: subscribe, revoke, and the ICS feed itself.

The feed URL carries its own secret: calendar clients cannot sign in, so the feed view needs
no session (and, being a GET, no CSRF token). The secret is shown once, in the answer to
the request that created it, and never stored in the session cookie. Its address and the pact
links inside the feed start with the configured public address (`base_url`), never with the
request's Host header, which whoever sends the request chooses.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required

from casework.reminders import calendar_feed
from casework.web import context, saving

blueprint = Blueprint("calendar", __name__)


def _page(feed_url: str | None = None):
    has_feed = feed_url is not None or calendar_feed.has_feed_token(context.db(), context.actor())
    return render_template("reminders/calendar.html", has_feed=has_feed, feed_url=feed_url)


@blueprint.get("/calendar")
@login_required
def index():
    return _page()


@blueprint.post("/calendar/feed")
@login_required
def create():
    db = context.db()
    token = calendar_feed.create_feed_token(db, context.actor(), now=context.now())
    saving.commit()
    # Rendered, not redirected: the only time the secret is shown.
    return _page(feed_url=context.settings().base_url + url_for("calendar.feed", token=token))


@blueprint.post("/calendar/revoke")
@login_required
def revoke():
    db = context.db()
    calendar_feed.revoke_feed_tokens(db, context.actor(), now=context.now())
    saving.commit()
    flash(_("Your calendar link no longer works. Remove the subscription from your calendar app."), "success")
    return redirect(url_for("calendar.index"))


@blueprint.get("/calendar/<token>.ics")
def feed(token: str):
    db = context.db()
    now = context.now()
    user = calendar_feed.user_for_feed_token(db, token, now=now)
    if user is None:
        abort(404)
    config = context.settings()
    body = calendar_feed.ics_feed(db, user, now, registry=context.registry(), zone=config.zone,
                                  base_url=config.base_url)
    saving.commit()  # when the link was last used
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Disposition"] = 'inline; filename="casework.ics"'
    return response
