"""The header of every page (account, notifications, main menu, search box), drawn once and kept.

On the busiest pages the header cost as much to draw as the page's own kept part: the role's
menu, a few dozen translated texts and addresses, at every request. What it shows depends only
on who is signed in as the header shows them (name and role), the language, the page (the
current menu entry), the unread count and whether it has the search box, and all of these are
the key: an entry is never out of date, so nothing has to forget it, and each process keeps a
bounded number, the least recently used dropped first. What differs from one request to the
next (the session's CSRF token, the address to come back to after a change of language, the
words searched) is drawn as markers that each request replaces with its own values, escaped as
the template would have.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from casework.models import Role
from casework.web.context import header_user
from casework.web.reminders.notifications import unread_notifications

KEPT_HEADERS = 512
_MARKER = secrets.token_hex(16)
_CSRF_MARKER = f"header-csrf-{_MARKER}"
_NEXT_MARKER = f"header-next-{_MARKER}"
_QUERY_MARKER = f"header-query-{_MARKER}"
_SEARCHING = (Role.CASE_MANAGER, Role.SUPERVISOR)
_EXTENSION = "casework_headers"  # in app.extensions: that application's kept headers


class _KeptHeaders:
    """One application's headers (an application's addresses and menu are its own)."""

    def __init__(self) -> None:
        self.drawn: OrderedDict[Hashable, str] = OrderedDict()
        self.lock = threading.Lock()


def has_search_box() -> bool:
    signed_in = header_user()
    return signed_in is not None and signed_in.role in _SEARCHING and "search.results" in current_app.view_functions


def page_header() -> Markup:
    signed_in = header_user()
    unread = unread_notifications() if signed_in is not None else None
    search = has_search_box()
    # The script root: behind a proxy that mounts Casework under a prefix, addresses carry it.
    key = (signed_in, str(get_locale()), request.endpoint, request.script_root, unread, search)
    kept: _KeptHeaders | None = current_app.extensions.get(_EXTENSION)
    if kept is None:
        kept = current_app.extensions.setdefault(_EXTENSION, _KeptHeaders())
    with kept.lock:
        drawn = kept.drawn.get(key)
        if drawn is not None:
            kept.drawn.move_to_end(key)
    if drawn is None:
        drawn = render_template(
            "_header.html", signed_in=signed_in, unread=unread, search=search,
            csrf_marker=_CSRF_MARKER, next_marker=_NEXT_MARKER, query_marker=_QUERY_MARKER,
        )
        with kept.lock:
            kept.drawn[key] = drawn
            while len(kept.drawn) > KEPT_HEADERS:
                kept.drawn.popitem(last=False)
    return Markup(
        drawn.replace(_CSRF_MARKER, str(escape(generate_csrf())))
        .replace(_NEXT_MARKER, str(escape(request.full_path)))
        .replace(_QUERY_MARKER, str(escape(request.args.get("q", ""))))
    )
