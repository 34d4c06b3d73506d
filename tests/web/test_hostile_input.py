"""Input no one should send, sent anyway: never a 500, a clear answer, nothing half-saved.

First the cases found from outside, each once (page numbers out of any range, a NUL in a
filter or a form, a date in year 1 or 9999); then a property-based sweep: every GET page of
the app, with the demo data, as each role, with hostile values for the parameters its own
filter forms and links declare. Both on SQLite and PostgreSQL (psycopg refuses a NUL).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.routing import AnyConverter, IntegerConverter

from casework.models import (
    Action,
    Base,
    Document,
    FollowUpContact,
    Goal,
    JournalEntry,
    Organisation,
    Pact,
    Service,
    Territory,
    User,
)
from casework.web.form_limits import YEARS_AHEAD
from tests.conftest import ZONE, _empty_all_tables
from tests.web.conftest import sign_in, submit


@pytest.fixture
def app(engine_app):
    return engine_app


def client_for(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def text(response) -> str:
    return response.get_data(as_text=True)


# --- Page numbers ----------------------------------------------------------------------

HOSTILE_PAGES = ["99999999999999999999", "-3", "abc", "9" * 5000]


@pytest.mark.parametrize("page", HOSTILE_PAGES)
@pytest.mark.parametrize(("url", "username", "shown"), [
    ("/admin/users", "admin", "Giulia Rossi"),
    ("/admin/log", "admin", None),
    ("/servizi/gestione", "admin", None),
    ("/servizi", "giulia", None),
    ("/beneficiaries", "giulia", "Bianchi"),
])
def test_a_page_number_out_of_any_range_is_the_first_or_last_page(app, people, url, username, shown, page):
    """One page of results here: whatever number is asked for, that page is shown, never a 500."""
    response = client_for(app, username).get(url, query_string={"page": page})
    assert response.status_code == 200
    if shown:
        assert shown in text(response)


# --- Characters no one types --------------------------------------------------------------

@pytest.mark.parametrize(("url", "username"), [
    ("/beneficiaries?stage=%00", "giulia"), ("/beneficiaries?q=a%00b", "giulia"), ("/servizi/gestione?q=%00", "admin"),
    ("/servizi?q=%00", "giulia"), ("/beneficiaries?q=a%01", "giulia"), ("/admin/users?role%00=x", "admin"),
])
def test_a_control_character_in_an_address_is_answered_400_in_italian(app, people, url, username):
    response = client_for(app, username).get(url)
    assert response.status_code == 400
    assert "Caratteri non ammessi" in text(response) and "Non è stato salvato nulla" in text(response)


def test_a_tab_in_a_search_is_only_a_space(app, people):
    assert client_for(app, "giulia").get("/beneficiaries?q=Bianchi%09").status_code == 200


def _contact(pact: Pact, **fields: str) -> dict[str, str]:
    # Now, to the minute: the pact was opened a moment ago, and no contact comes before it.
    now = datetime.now(ZONE).strftime("%Y-%m-%dT%H:%M")
    return {"contact-version": str(pact.version), "contact-contact_at": now, "contact-channel": "phone",
            "contact-notes": "sentita", "contact-next_contact_on": "", **fields}


def _contacts(db: Session, pact_id: int) -> int:
    return db.scalar(select(func.count()).select_from(FollowUpContact).where(FollowUpContact.pact_id == pact_id))


def test_a_nul_in_a_form_saves_nothing_and_says_why(app, db, people):
    client = client_for(app, "giulia")
    pact_id = people.pact.id
    version = people.pact.version
    response = submit(client, f"/pacts/{pact_id}/contacts", _contact(people.pact, **{"contact-notes": "sentita\x00"}),
                      form_page=f"/pacts/{pact_id}")
    assert response.status_code == 400 and "Caratteri non ammessi" in text(response)
    db.expire_all()
    assert _contacts(db, pact_id) == 0 and db.get(Pact, pact_id).version == version


def test_other_control_characters_in_a_text_are_stored_as_pasted(app, db, people):
    """A word processor's line break (a vertical tab) in a note is kept: the text can be stored."""
    client = client_for(app, "giulia")
    pact_id = people.pact.id
    response = submit(client, f"/pacts/{pact_id}/contacts", _contact(people.pact, **{"contact-notes": "a\x0bb"}),
                      form_page=f"/pacts/{pact_id}")
    assert response.status_code == 302
    db.expire_all()
    assert db.scalars(select(FollowUpContact.notes).where(FollowUpContact.pact_id == pact_id)).all() == ["a\x0bb"]


# --- Dates no case carries ----------------------------------------------------------------

def _range_message() -> str:
    return f"Scegli una data tra il 01/01/1900 e il 31/12/{datetime.now(UTC).year + YEARS_AHEAD}."


@pytest.mark.parametrize(("field", "value"), [
    ("contact-contact_at", "0001-01-01T00:00"), ("contact-contact_at", "9999-12-31T23:59"),
    ("contact-contact_at", "1899-12-31T23:59"), ("contact-next_contact_on", "9999-12-31"),
    ("contact-next_contact_on", "0001-01-01"),
])
def test_a_contact_dated_out_of_range_is_refused_next_to_the_field(app, db, people, field, value):
    client = client_for(app, "giulia")
    pact_id = people.pact.id
    response = submit(client, f"/pacts/{pact_id}/contacts", _contact(people.pact, **{field: value}),
                      form_page=f"/pacts/{pact_id}")
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response) and _range_message() in text(response)
    db.expire_all()
    assert _contacts(db, pact_id) == 0


@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1899-12-31T23:59"])
def test_a_journal_entry_dated_out_of_range_is_refused_next_to_the_field(app, db, people, value):
    client = client_for(app, "giulia")
    pact_id = people.pact.id
    response = submit(client, f"/pacts/{pact_id}/journal", {
        "journal-kind": "note", "journal-at": value, "journal-text": "scritto nel passato remoto",
    }, form_page=f"/pacts/{pact_id}")
    assert response.status_code == 422
    assert 'id="journal-at-error"' in text(response) and _range_message() in text(response)
    assert "scritto nel passato remoto" in text(response)  # what was written is kept
    assert db.scalars(select(JournalEntry)).all() == []


def test_the_quick_contact_of_today_refuses_year_one(app, db, people):
    client = client_for(app, "giulia")
    pact_id = people.pact.id
    url = f"/oggi/patti/{pact_id}/contatto"
    form = {key: value for key, value in _contact(people.pact, **{"contact-contact_at": "0001-01-01T00:00"}).items()
            if key != "contact-version"}
    response = submit(client, url, form)
    assert response.status_code == 422 and _range_message() in text(response)
    assert _contacts(db, pact_id) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_the_log_filtered_on_year_one_says_the_range(app, people, day):
    response = client_for(app, "admin").get("/admin/log", query_string={"start": day, "end": day})
    assert response.status_code == 422 and _range_message() in text(response)


def test_every_date_field_of_every_form_is_bounded():
    """A date field added later gets the same check, or says here who checks its range."""
    import importlib
    import pkgutil

    from wtforms import DateField, DateTimeLocalField
    from wtforms.form import FormMeta

    import casework.web
    from casework.web.form_limits import SensibleDay
    from casework.web.people.forms import DayField
    from casework.web.reporting.forms import PeriodDayField

    # The core refuses these out of its own range (birth dates; indicator periods 1900–2999).
    checked_by_the_core = (DayField, PeriodDayField)
    unbounded = []
    for module_info in pkgutil.walk_packages(casework.web.__path__, "casework.web."):
        if not module_info.name.rsplit(".", 1)[-1].endswith("forms"):
            continue
        module = importlib.import_module(module_info.name)
        for form in vars(module).values():
            if not isinstance(form, FormMeta):
                continue
            for name, unbound in vars(form).items():
                kind = getattr(unbound, "field_class", None)
                if kind is None or not issubclass(kind, (DateField, DateTimeLocalField)):
                    continue
                if issubclass(kind, checked_by_the_core):
                    continue
                validators = unbound.kwargs.get("validators") or (unbound.args[1] if len(unbound.args) > 1 else [])
                if not any(isinstance(validator, SensibleDay) for validator in validators):
                    unbounded.append(f"{module_info.name}.{form.__name__}.{name}")
    assert unbounded == []


# --- Every page, every role, hostile parameters ------------------------------------------

HOSTILE_VALUES = st.one_of(
    st.sampled_from([
        "", " ", "   ", "\t", "0", "-1", "-99999999999999999999", "99999999999999999999", str(2**31), str(2**63),
        "1e309", "NaN", "inf", "1.5", "0x10", "abc", "true", "[]", "0001-01-01", "9999-12-31", "2025-02-30",
        "31/02/2025", "01/01/0001", "31/12/9999", "2025-13-45", "\x00", "a\x00b", "\x01", "\x7f", "\u202e",
        "\u200b", "\ufeff", "x" * 5000, "9" * 5000, "😀", "' OR 1=1 --", "<script>", "../../etc/passwd",
    ]),
    st.text(max_size=40),  # any unicode, control characters included
    st.integers().map(str),
    st.dates(min_value=date(1, 1, 1)).map(lambda day: day.isoformat()),
    st.dates(min_value=date(1, 1, 1)).map(lambda day: f"{day:%d/%m}/{day.year:04d}"),
)
# The forms' sweep takes the first three of these for every field: the blank, the spaces and the
# number no column holds come first.
EACH_PARAMETER = ("", "   ", "99999999999999999999", "-1", "abc", "0001-01-01", "31/12/9999", "a\x00b", "x" * 5000)
USERS = (None, "admin", "c.bonetto", "e.gribaudo")  # anonymous, each role (demo accounts)
# Routes whose path holds something other than an id: tokens no one guesses, files, report keys;
# and the readiness probe, which rightly answers 503 here (a schema made without migrations).
NOT_SWEPT = {"static", "assets.bootstrap_italia", "calendar.feed", "passwords.invitation", "passwords.reset",
             "exports.indicator_csv", "service_mapping.table_csv", "pacts.move_page", "health.ready"}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def demo_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app with the demo data, loaded once for the module on each database."""
    from casework.demo.loader import load_demo
    from casework.services import seed_taxonomy
    from casework.web import create_app

    folder: Path = tmp_path_factory.mktemp("hostile")
    engine = None
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'demo.sqlite3'}"
    else:
        engine = request.getfixturevalue("_postgres_schema_engine")
        _empty_all_tables(engine)
        url = engine.url.render_as_string(hide_password=False)
    app = create_app(overrides={"env": "testing", "secret_key": "h" * 48, "instance_path": str(folder / "instance"),
                                "database_url": url})
    casework = app.extensions["casework"]
    if engine is None:  # the PostgreSQL database has its schema already
        Base.metadata.create_all(casework["engine"])
    with casework["session_factory"]() as session:
        load_demo(session, casework["registry"], now=datetime.now(UTC), zone=casework["settings"].zone)
        seed_taxonomy(session)
        # The demo publishes no board: one territory's, so the public pages are swept too.
        session.scalars(select(Territory).where(Territory.name == "Unione NET")).one().public_board = True
        session.commit()
    yield app
    casework["engine"].dispose()
    if engine is not None:
        _empty_all_tables(engine)


def _demo_ids(session: Session) -> dict[str, int]:
    """A real id for each kind of path argument: the case manager's own, where they have one."""
    manager = session.scalars(select(User).where(User.username == "e.gribaudo")).one()
    pact = session.scalars(select(Pact).where(Pact.case_manager_id == manager.id, Pact.id.in_(
        select(Action.pact_id))).order_by(Pact.id)).first()
    assert pact is not None

    def first(query):
        return session.scalar(query.limit(1))

    board = first(select(Territory.id).where(Territory.public_board.is_(True)))
    assert board is not None
    return {
        "pact_id": pact.id, "beneficiary_id": pact.beneficiary_id, "user_id": manager.id,
        "goal_id": first(select(Goal.id).where(Goal.pact_id == pact.id)),
        "action_id": first(select(Action.id).where(Action.pact_id == pact.id)),
        "document_id": first(select(Document.id).order_by(Document.id)) or 1,
        "territory_id": board,
        "service_id": first(select(Service.id).order_by(Service.id)),
        "organisation_id": first(select(Organisation.id).order_by(Organisation.id)),
        "programme_id": pact.programme_id,
    }


class _DeclaredParameters(HTMLParser):
    """Per address, the names GET forms send to it and links to it carry in their query: a page's
    own filters, and those of another page's form (the header's search box, the export buttons)."""

    def __init__(self, path: str, names: dict[str, set[str]]):
        super().__init__()
        self.path, self.names, self._target = path, names, None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            get = (attributes.get("method") or "get").lower() == "get"
            self._target = (urlsplit(attributes.get("action") or "").path or self.path) if get else None
        elif tag in ("input", "select", "textarea", "button") and self._target and attributes.get("name"):
            self.names.setdefault(self._target, set()).add(attributes["name"])
        elif tag == "a" and attributes.get("href"):
            link = urlsplit(attributes["href"])
            if link.query and (link.path.startswith("/") or not link.path):
                self.names.setdefault(link.path or self.path, set()).update(
                    name for name, _ in parse_qsl(link.query, keep_blank_values=True))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._target = None


def _pages(app: Flask, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(endpoint, path) of every GET route, its path filled with demo ids."""
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if "GET" not in rule.methods or rule.endpoint in NOT_SWEPT:
            continue
        values = {}
        for name, converter in rule._converters.items():
            if isinstance(converter, IntegerConverter):
                values[name] = ids[name]
            elif isinstance(converter, AnyConverter):
                values[name] = min(converter.items)
            else:
                raise TypeError(f"{rule.endpoint}: no demo value for <{name}>; fill it or add it to NOT_SWEPT")
        with app.test_request_context():
            from flask import url_for

            pages.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return pages


def _client(app: Flask, username: str | None) -> FlaskClient:
    client = app.test_client()
    if username is not None:
        response = submit(client, "/login", {"username": username, "password": f"casework-demo-{username}"})
        assert response.status_code == 302, username
    return client


def test_no_page_answers_500_to_hostile_parameters(demo_app):
    with demo_app.extensions["casework"]["session_factory"]() as session:
        ids = _demo_ids(session)
    pages = _pages(demo_app, ids)
    swept = []
    for username in USERS:
        client = _client(demo_app, username)
        declared: dict[str, set[str]] = {}
        answering = []
        for endpoint, path in pages:
            plain = client.get(path)
            plain.get_data()
            assert plain.status_code < 500, (username, path)
            if plain.status_code != 200:
                continue  # refused or redirected before any parameter is read
            answering.append((endpoint, path))
            if plain.mimetype == "text/html":
                _DeclaredParameters(path, declared).feed(text(plain))
        for endpoint, path in answering:
            names = sorted(declared.get(path, set()) - {"csrf_token"})
            swept.append((username, endpoint, tuple(names)))
            _sweep(client, path, names, username)
    # The sweep reached the filters of each role (a broken discovery would sweep nothing).
    reached = {(username, endpoint) for username, endpoint, names in swept if names}
    assert {("admin", "users.index"), ("admin", "admin_log.index"), ("c.bonetto", "caseload.pacts"),
            ("c.bonetto", "indicators.index"), ("c.bonetto", "exports.pacts"), ("e.gribaudo", "beneficiaries.index"),
            ("e.gribaudo", "services.index"), ("e.gribaudo", "search.results")} <= reached, swept


def _sweep(client: FlaskClient, path: str, names: list[str], username: str | None) -> None:
    # `page` and `next` are read by several views without a form field of their own.
    names = sorted({*names, "page", "next"})

    def get(pairs: list[tuple[str, str]]) -> None:
        query = urlencode(pairs)
        response = client.get(path, query_string=query)
        response.get_data()  # a streamed file fails while it is read, not before
        assert response.status_code < 500, f"{username} GET {path}?{query}"

    # Each parameter alone with the values that broke pages before: found every time, not by chance.
    for name in names:
        for value in EACH_PARAMETER:
            get([(name, value)])

    @settings(max_examples=12, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(st.tuples(st.sampled_from(names), HOSTILE_VALUES), max_size=6))
    def together(pairs: list[tuple[str, str]]) -> None:  # mixed, repeated and missing parameters
        get(pairs)

    together()


def test_the_discovery_reads_forms_and_links():
    declared: dict[str, set[str]] = {}
    _DeclaredParameters("/list", declared).feed(
        '<form method="get"><input name="q"><select name="area"></select><button>Cerca</button></form>'
        '<form method="post"><input name="secret"></form><a href="/list?page=2&amp;q=x">2</a>'
        '<form action="/cerca"><input name="q"></form><a href="/other?nope=1">x</a><a href="?done=1">y</a>')
    assert declared == {"/list": {"q", "area", "page", "done"}, "/cerca": {"q"}, "/other": {"nope"}}
