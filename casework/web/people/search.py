"""The header search: a results page that works without JavaScript, and the suggestions the
search box shows as the user types (JSON, read by static/search.js)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from casework.errors import InvalidInput
from casework.figure_cache import FigureCache
from casework.people import beneficiaries as people
from casework.people import search as finder
from casework.web import context
from casework.web.filters import local_date
from casework.web.kept_parts import KeptPart, address_key, end_of_today, kept_part

blueprint = Blueprint("search", __name__)

RESULTS_PAGE = 50
MESSAGES = {
    "required": _l("Write a name, a codice fiscale, a phone number or a pact number."),
    "too_short": _l("Write at least %(num)d letters or digits.", num=finder.MIN_LENGTH),
    "too_long": _l("Write at most %(num)d characters.", num=finder.MAX_LENGTH),
}


@blueprint.before_request
def _only_people_managers():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not people.may_manage_people(context.actor()):
        abort(403)  # administrators manage accounts and see no case data
    return None


def _find(text: str, limit: int) -> tuple[finder.SearchResults | None, str]:
    """The results, or None and the message saying what to type."""
    try:
        found = finder.search(context.db(), context.registry(), context.actor(), text, now=context.now(),
                              locale=str(get_locale()), limit=limit)
    except InvalidInput as error:
        return None, str(MESSAGES.get(error.errors.get("q", ""), MESSAGES["required"]))
    return found, ""


@blueprint.get("/cerca")
def results():
    return render_template("people/search.html", part=kept_part(_RESULTS, address_key(), _draw_results))


_RESULTS: FigureCache[KeptPart] = FigureCache(size=128)


def _draw_results() -> tuple[KeptPart, datetime]:
    text = request.args.get("q", "")
    found, message = _find(text, RESULTS_PAGE) if "q" in request.args else (None, "")
    html = render_template("people/_search_main.html", query=text, found=found, message=message)
    return KeptPart(Markup(html)), end_of_today()


@blueprint.get("/cerca/suggerimenti")
def suggestions():
    found, message = _find(request.args.get("q", ""), finder.SUGGESTIONS)
    if found is None:
        return jsonify(items=[], message=message, more=False)
    items = [
        {"kind": "person", "url": url_for("beneficiaries.show", beneficiary_id=person.beneficiary_id),
         "label": person.name, "detail": _person_detail(person)}
        for person in found.people
    ] + [
        {"kind": "pact", "url": url_for("pacts.show", pact_id=pact.pact_id),
         "label": str(_l("Pact no. %(number)d · %(person)s", number=pact.pact_id, person=pact.person)),
         "detail": f"{pact.programme} · {pact.stage}"}
        for pact in found.pacts
    ]
    if not items:
        message = str(_l("Nobody you can see matches “%(text)s”.", text=found.text))
    else:
        message = ngettext("%(num)d result.", "%(num)d results.", len(items))
        if found.more:
            message += " " + str(_l("There are more: type more of the name, or open all the results."))
    return jsonify(items=items, message=message, more=found.more)


def _person_detail(person: finder.PersonFound) -> str:
    parts = [person.codice_fiscale, local_date(person.birth_date) if person.birth_date else "", person.comune]
    return " · ".join(part for part in parts if part)
