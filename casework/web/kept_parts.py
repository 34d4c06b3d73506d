"""The main part of a busy page, drawn once and kept while the case data stays as it was.

Oggi and the pact page are read far more often than the data under them changes, and most of
their time goes into drawing them (hundreds of translated texts, dates and addresses), not
into the database. Their main part is kept per process in a `FigureCache`: under the data
version it was drawn at, for the same viewer as loaded by the request, the same locale and
the same address arguments, until the instant the part says it holds (the end of the local
day, the next deadline). The page around it (menu, notifications, flashed messages) is drawn
at every request.

Forms inside a kept part carry the session's CSRF token. While a part is drawn the token is a
marker unique to this process, and each request showing the part puts its own token in the
marker's place: a part drawn for one session is never sent with another session's token.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app, g, request
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy.orm import Session

from casework.figure_cache import FigureCache, viewer_key
from casework.reminders import end_of_local_day
from casework.web import context

_TOKEN_MARKER = f"kept-part-csrf-{secrets.token_hex(16)}"


@dataclass(frozen=True)
class KeptPart:
    html: Markup
    title: str = ""
    facts: dict[str, object] = field(default_factory=dict)  # what the view needs besides the HTML

    def shown(self) -> KeptPart:
        """The part with this request's CSRF token in place of the marker."""
        if _TOKEN_MARKER not in self.html:
            return self
        return KeptPart(Markup(str(self.html).replace(_TOKEN_MARKER, generate_csrf())), self.title, self.facts)


def kept_part(
    parts: FigureCache[KeptPart], key: Hashable, draw: Callable[[], tuple[KeptPart, datetime | None]], *,
    session: Session | None = None,
) -> KeptPart:
    """The part kept under `key` for this viewer and locale, or `draw()`n and kept. `draw`
    returns the part and the instant until which it holds (None: until the data changes).
    `session`: the one `draw` reads from, when not the request's own (the indicators' replica)."""
    actor = context.actor()
    full_key = (key, viewer_key(actor), str(get_locale()), context.settings().zone.key)
    part = parts.get(session or context.db(), full_key, lambda: _drawn_with_marker(draw), now=context.now())
    return part.shown()


def address_key() -> Hashable:
    """What a page drawn from its address depends on: the endpoint and every argument, in order."""
    return request.endpoint, tuple(request.args.items(multi=True))


def end_of_today() -> datetime:
    """Deadlines fall due at the end of a local day, and the lists tell late from due by the day:
    until then only a change of data changes them."""
    zone = context.settings().zone
    return end_of_local_day(context.now().astimezone(zone).date(), zone)


def _drawn_with_marker(draw: Callable[[], tuple[KeptPart, datetime | None]]) -> tuple[KeptPart, datetime | None]:
    token_name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    earlier = g.pop(token_name, None)
    setattr(g, token_name, _TOKEN_MARKER)
    try:
        part, holds_until = draw()
    finally:
        g.pop(token_name, None)
        if earlier is not None:
            setattr(g, token_name, earlier)
    return KeptPart(Markup(part.html), str(part.title), part.facts), holds_until
