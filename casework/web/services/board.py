"""Bacheca pubblica dei servizi: a territory's active services for anyone, with no sign-in.

No session is opened and no cookie set for a visitor: the language comes from the address
(`?lang=en`, kept by every link of the board), the search form is a GET with no CSRF token.
A board that is off answers 404, exactly as a territory that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from babel.dates import get_day_names
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from casework.administration import office_identity
from casework.i18n import gettext as core_gettext
from casework.models import Service
from casework.models.labels import SERVICE_ACCESS, SERVICE_COSTS
from casework.services import LANGUAGES, ServiceQuery, opening_table, search_services
from casework.services.board import Board, board_service, public_board
from casework.web import context
from casework.web.form_limits import row_id
from casework.web.paging import page_number

blueprint = Blueprint("public_board", __name__)

PER_PAGE = 20
MAX_TEXT = 100


class BoardSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that only reads, for visitors with no session

    q = StringField(_l("Search"), validators=[Length(max=MAX_TEXT, message=_l("Write at most %(max)d characters."))],
                    render_kw={"autocomplete": "off", "type": "search"})
    area = SelectField(_l("Macro-area"), choices=[], default="", invalid_choice_message=_l("Choose one of the options."))
    comune = SelectField(_l("Comune"), coerce=row_id, choices=[],
                         invalid_choice_message=_l("Choose one of the options."))

    def offer(self, board: Board, locale: str) -> BoardSearchForm:
        self.area.choices = [SelectChoice("", _l("All macro-areas")), *(
            SelectChoice(area.code, area.label_it if locale == "it" else area.label_en)
            for area in board.macro_areas)]
        self.comune.choices = [SelectChoice("", _l("All comuni")),
                               *(SelectChoice(str(comune.id), comune.name) for comune in board.comuni)]
        return self


@dataclass(frozen=True)
class Detail:
    label: str
    text: str


@dataclass(frozen=True)
class ShownService:
    """What the board shows of a service, already in words."""

    id: int
    name: str
    organisation: str
    kind: str  # "macro-area · type"
    description: str
    details: list[Detail]
    url: str
    website: str


def _locale() -> str:
    return str(get_locale())


def _lang_args() -> dict[str, str]:
    """The language chosen in the address, for every link of the board to keep it."""
    lang = request.args.get("lang")
    return {"lang": lang} if lang in ("it", "en") else {}


def _board_or_404(territory_id: int) -> Board:
    board = public_board(context.db(), territory_id)
    if board is None:
        abort(404)
    return board


def _hours(service: Service, locale: str) -> str:
    days = get_day_names("wide", locale=locale)
    parts = [f"{days[day]} {' '.join(slots)}" for day, slots in opening_table(service.opening_hours)]
    return "; ".join(part for part in [", ".join(parts), service.opening_notes] if part)


def _languages(service: Service, locale: str) -> str:
    return ", ".join(core_gettext(locale, LANGUAGES[spoken.language]) if spoken.language in LANGUAGES
                     else spoken.language for spoken in service.languages)


def _shown(service: Service, territory_id: int, locale: str) -> ShownService:
    kind = service.service_type
    type_label = kind.label_it if locale == "it" else kind.label_en
    area_label = kind.macro_area.label_it if locale == "it" else kind.macro_area.label_en
    cost = core_gettext(locale, SERVICE_COSTS[service.cost])
    contacts = " · ".join(part for part in (service.contact_phone, service.contact_email) if part)
    details = [
        Detail(_("For whom"), service.target_group),
        Detail(_("Who can use it"), service.eligibility),
        Detail(_("How to access"), core_gettext(locale, SERVICE_ACCESS[service.access])),
        Detail(_("Opening hours"), _hours(service, locale)),
        Detail(_("Address"), service.address),
        Detail(_("Contacts"), contacts),
        Detail(_("Cost"), f"{cost} – {service.cost_notes}" if service.cost_notes else cost),
        Detail(_("Languages spoken"), _languages(service, locale)),
        Detail(_("Comuni served"), ", ".join(served.territory.name for served in service.comuni)),
    ]
    return ShownService(
        id=service.id, name=service.name, organisation=service.organisation.name, kind=f"{area_label} · {type_label}",
        description=service.description, details=[detail for detail in details if detail.text],
        url=url_for("public_board.service", territory_id=territory_id, service_id=service.id, **_lang_args()),
        website=service.website if service.website.startswith(("https://", "http://")) else "",
    )


def _page_links(territory_id: int, form: BoardSearchForm, page: int, pages: int) -> dict[str, str]:
    args: dict[str, Any] = {**_lang_args()}
    for name in ("q", "area", "comune"):
        if form[name].data:
            args[name] = form[name].data
    links = {}
    if page > 1:
        links["previous"] = url_for("public_board.board", territory_id=territory_id, page=page - 1, **args)
    if page < pages:
        links["next"] = url_for("public_board.board", territory_id=territory_id, page=page + 1, **args)
    return links


def _switch_url(lang: str, **values: Any) -> str:
    args = {key: value for key, value in request.args.items() if key != "lang"}
    return url_for(request.endpoint, **request.view_args, **args, lang=lang, **values)


def _render(template: str, board: Board, status: int = 200, **values: Any):
    identity = office_identity(context.db())
    return render_template(
        f"services/board/{template}", board=board, office_name=identity.ente_name,
        board_url=url_for("public_board.board", territory_id=board.territory.id, **_lang_args()),
        switch={"it": _switch_url("it"), "en": _switch_url("en")}, lang_args=_lang_args(), **values,
    ), status


@blueprint.errorhandler(404)
def not_found(error: Exception):
    # The board's own page, not the application's: that one opens a session for its language form.
    return render_template("services/board/not_found.html", office_name=office_identity(context.db()).ente_name), 404


@blueprint.get("/bacheca/<int:territory_id>")
def board(territory_id: int):
    found = _board_or_404(territory_id)
    locale = _locale()
    form = BoardSearchForm(formdata=request.args).offer(found, locale)
    page = page_number()
    if not form.validate():
        return _render("index.html", found, 400, form=form, services=[], total=0, links={}, page=1, pages=1)
    result = search_services(
        context.db(),
        ServiceQuery(text=(form.q.data or "").strip(), macro_area=form.area.data or "", comune_id=form.comune.data,
                     territory_ids=(found.territory.id,)),
        now=context.now(), zone=context.settings().zone, page=page, per_page=PER_PAGE,
    )
    services = [_shown(service, found.territory.id, locale) for service in result.items]
    return _render("index.html", found, form=form, services=services, total=result.total,
                   links=_page_links(found.territory.id, form, result.page, result.pages), page=result.page,
                   pages=result.pages)


@blueprint.get("/bacheca/<int:territory_id>/servizi/<int:service_id>")
def service(territory_id: int, service_id: int):
    found = _board_or_404(territory_id)
    shown = board_service(context.db(), found, service_id)
    if shown is None:
        abort(404)
    return _render("service.html", found, service=_shown(shown, found.territory.id, _locale()))
