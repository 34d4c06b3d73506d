"""Every POST form of every page, as each role, with hostile values: never a 500, a clear
answer in Italian, and nothing saved when the answer is a refusal.

The forms are found as a browser finds them: each role opens every GET page of the demo app
(test_hostile_input's sweep), and each `<form method="post">` is read with its fields as the page
gave them (hidden version and one-time keys, the CSRF token, selected options, checked boxes).
Then, for each form, one field at a time receives hostile values (the others kept, so only that
field is wrong), and the form is also sent with a field given twice and with a field left out.
An error answer (4xx, or the form shown again with its errors) must leave every table as it was.
"""

from __future__ import annotations

import hashlib
import re
import html
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from sqlalchemy import event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from casework.models import Base, Pact, User
from tests.web.test_hostile_input import (  # noqa: F401 (demo_app is a fixture used by name)
    EACH_PARAMETER,
    HOSTILE_VALUES,
    USERS,
    _client,
    _demo_ids,
    _pages,
    demo_app,
)

# Append-only records and bookkeeping a refused request rightly writes: the access log (a read is
# logged), the administrative log (a refused attempt is logged), the server-side sessions (their
# last activity) and sign-in throttling. Everything else must be as it was after a refusal.
NOT_COMPARED = {"access_log_entry", "administrative_log_entry", "user_session", "login_attempt", "scheduler_lock"}

# Forms whose purpose is to end the session the sweep runs in: no value of theirs is read.
ENDS_THE_SESSION = {"/logout"}

ERROR_MARKERS = ('role="alert"', "invalid-feedback", 'class="alert')


@dataclass
class Form:
    page: str
    action: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) as a browser would send
    kinds: dict[str, str] = field(default_factory=dict)  # name -> input type / select / textarea

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.fields))

    @property
    def key(self) -> tuple[str, tuple[str, ...]]:
        """The form's shape: the same form for another record (a list's buttons) is swept once."""
        return re.sub(r"\d+", "#", urlsplit(self.action).path), tuple(sorted(self.names))


class _PostForms:
    """The POST forms of a page, with the values a browser would send if submitted untouched."""

    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.page, self.forms = page, []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, selected
        self._textarea: tuple[str, list[str]] | None = None
        self._button_taken = False
        outer = self

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                outer._start(tag, {name: value if value is not None else "" for name, value in attrs})

            def handle_endtag(self, tag):
                outer._end(tag)

            def handle_data(self, data):
                if outer._textarea is not None:
                    outer._textarea[1].append(data)

        self._parser = Parser(convert_charrefs=True)

    def feed(self, page_html: str) -> list[Form]:
        self._parser.feed(page_html)
        return self.forms

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        if tag == "form":
            if (attributes.get("method") or "get").lower() == "post":
                action = urlsplit(attributes.get("action") or "")
                self._form = Form(self.page, (action.path or urlsplit(self.page).path)
                                  + (f"?{action.query}" if action.query else ""))
                self._button_taken = False
            return
        form = self._form
        if form is None or attributes.get("disabled") is not None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                form.kinds.setdefault(name, kind)
                return
            if kind in ("submit", "image", "button", "reset", "file"):
                if kind == "submit" and not self._button_taken:
                    self._button_taken = True
                    form.fields.append((name, attributes.get("value", "")))
                    form.kinds[name] = kind
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            form.fields.append((name, attributes.get("value", default)))
            form.kinds[name] = kind
        elif tag == "button" and name and (attributes.get("type") or "submit") == "submit" and not self._button_taken:
            self._button_taken = True
            form.fields.append((name, attributes.get("value", "")))
            form.kinds[name] = "submit"
        elif tag == "select" and name:
            self._select = (name, [], [])
            form.kinds[name] = "select-multiple" if "multiple" in attributes else "select"
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            self._select[1].append(value)
            if "selected" in attributes:
                self._select[2].append(value)
        elif tag == "textarea" and name:
            self._textarea = (name, [])
            form.kinds[name] = "textarea"

    def _end(self, tag: str) -> None:
        form = self._form
        if tag == "form" and form is not None:
            self.forms.append(form)
            self._form = None
        elif tag == "select" and self._select is not None and form is not None:
            name, options, selected = self._select
            multiple = form.kinds.get(name) == "select-multiple"
            chosen = selected or ([] if multiple or not options else options[:1])
            form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form is not None:
            name, parts = self._textarea
            form.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None


def post_forms(page: str, page_html: str) -> list[Form]:
    return _PostForms(page).feed(page_html)


# --- Database snapshot ------------------------------------------------------------------

def _compared_tables() -> list[str]:
    return sorted(set(Base.metadata.tables) - NOT_COMPARED)


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Per table: its row count and a digest of its rows (read in key order)."""
    result = {}
    with engine.connect() as connection:
        for name in _compared_tables():
            table = Base.metadata.tables[name]
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.blake2b(digest_size=16)
            count = 0
            for row in connection.execute(select(table).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
                count += 1
            result[name] = (count, digest.hexdigest())
    return result


class WriteWatch:
    """Whether a statement that can change a compared table ran: without one the snapshot is not
    retaken (reading every table after each of some thousand answers would be the sweep's cost)."""

    def __init__(self, engine: Engine):
        self.engine, self.wrote = engine, False
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, connection, cursor, statement, parameters, context, executemany):
        head = statement.lstrip()[:12].upper()
        if head.startswith(("INSERT", "UPDATE", "DELETE")):
            target = statement.split(None, 3)[2 if head.startswith(("INSERT", "DELETE")) else 1].strip('"')
            if target not in NOT_COMPARED:
                self.wrote = True

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


# --- Italian answers ------------------------------------------------------------------

def _english_messages() -> list[str]:
    """The app's and WTForms' English sentences whose Italian differs: none may reach a page."""
    folder = Path(__file__).resolve().parents[2] / "casework/web/translations/it/LC_MESSAGES/messages.po"
    with folder.open("rb") as file:
        catalog = read_po(file)
    found = []
    for message in catalog:
        if not message.id or not isinstance(message.id, str) or not message.string:
            continue
        for part in message.id.split("%"):  # the words between placeholders
            part = part.split(")", 1)[-1] if part.startswith("(") else part
            if len(part) >= 20 and " " in part and part not in message.string:
                found.append(part.strip())
    return found


ENGLISH = _english_messages()


def _answer_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def assert_italian_refusal(response, where: str) -> None:
    """In Italian, and saying something: a refused form shows its errors (422); any other refusal is
    a page of its own (the CSRF page, the generic 400 page, 403, 404, 409) with its heading."""
    body = _answer_text(response)
    if response.mimetype != "text/html":
        return  # a file or a JSON answer carries no page to read
    assert 'lang="it"' in body, where
    if response.status_code == 422 or response.status_code < 400:
        assert any(marker in body for marker in ERROR_MARKERS), f"{where}: no error shown"
    else:
        assert "<h1" in body, where
    untranslated = [message for message in ENGLISH if message in body]
    assert untranslated == [], f"{where}: {untranslated}"


# --- The sweep ---------------------------------------------------------------------------

def pages_with_forms(app: Flask) -> list[str]:
    """Every GET page with demo ids, and the case manager's pact in each state: a pact's forms
    (referral, screening, goals, actions, contacts, outcome) are shown in the state they belong to."""
    with app.extensions["casework"]["session_factory"]() as session:
        ids = _demo_ids(session)
        return [path for _endpoint, path in _pages(app, ids)] + _one_pact_per_state(session)


def _one_pact_per_state(session: Session) -> list[str]:
    manager = select(User.id).where(User.username == "e.gribaudo").scalar_subquery()
    rows = session.execute(select(Pact.state, Pact.id, Pact.beneficiary_id).where(Pact.case_manager_id == manager)
                           .order_by(Pact.state, Pact.id)).all()
    first: dict[str, tuple[int, int]] = {}
    for state, pact_id, person_id in rows:
        first.setdefault(state, (pact_id, person_id))
    return [page for pact_id, person_id in first.values()
            for page in (f"/pacts/{pact_id}", f"/beneficiaries/{person_id}")]


def discover(app: Flask, client: FlaskClient, pages: list[str]) -> dict[tuple, Form]:
    found: dict[tuple, Form] = {}
    for path in pages:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in post_forms(path, response.get_data(as_text=True)):
            if urlsplit(form.action).path not in ENDS_THE_SESSION:
                found.setdefault(form.key, form)
    return found


def _fresh(client: FlaskClient, form: Form) -> Form | None:
    """The form as its page shows it now (a save moves its version and one-time key on)."""
    response = client.get(form.page)
    if response.status_code != 200:
        return None
    return next((candidate for candidate in post_forms(form.page, response.get_data(as_text=True))
                 if candidate.key == form.key), None)


@dataclass
class Sweep:
    app: Flask
    client: FlaskClient
    username: str
    watch: WriteWatch
    before: dict = field(default_factory=dict)
    submissions: int = 0
    refusals: int = 0
    failures: list[str] = field(default_factory=list)

    def send(self, form: Form, pairs: list[tuple[str, str]], what: str) -> Form | None:
        """POST `pairs` to the form's action; check the answer; the form to use next (or None)."""
        self.watch.wrote = False
        self.submissions += 1
        try:
            response = self.client.post(form.action, data=MultiDict(pairs))
            response.get_data()
        except Exception as error:  # noqa: BLE001 - the testing app raises what would be a 500
            self.failures.append(f"{self.username} POST {form.action} from {form.page} ({what}): {error!r}\n"
                                 f"    {pairs!r}")
            self.client.application.extensions["casework"]["engine"].dispose()
            return form
        where = f"{self.username} POST {form.action} from {form.page} ({what}): {response.status_code}"
        if response.status_code >= 500:
            self.failures.append(f"{where}\n    {pairs!r}")
            return form
        engine = self.app.extensions["casework"]["engine"]
        refused = response.status_code >= 400 or (
            response.status_code == 200 and any(marker in _answer_text(response) for marker in ERROR_MARKERS[:2]))
        if refused:
            self.refusals += 1
            try:
                assert_italian_refusal(response, where)
            except AssertionError as error:
                self.failures.append(f"not a clear Italian answer: {error}")
            if self.watch.wrote:
                after = snapshot(engine)
                changed = sorted(name for name in after if after[name] != self.before[name])
                if changed:
                    self.failures.append(f"{where}: changed {changed}\n    {pairs!r}")
                    self.before = after
            return form
        if self.watch.wrote:  # saved: the data moves on, and so does the form
            self.before = snapshot(engine)
            return _fresh(self.client, form)
        return form

    def form(self, form: Form, examples: int) -> None:
        current: Form | None = form
        for name in dict.fromkeys([*form.names, *form.kinds]):  # unchecked boxes too
            if current is None:
                return
            if name.endswith("csrf_token"):  # refused before any field is read: blank and missing suffice
                current = self.send(current, [(key, "" if key == name else kept) for key, kept in current.fields],
                                    f"{name} blank")
                if current is not None:
                    current = self.send(current, [(key, kept) for key, kept in current.fields if key != name],
                                        f"{name} missing")
                continue

            def with_value(value: str, name: str = name) -> None:
                nonlocal current
                if current is None:
                    return
                pairs = [(key, value if key == name else kept) for key, kept in current.fields]
                # Only the first of a multiple choice is hostile; a field the page left out is added.
                if name not in current.names:
                    pairs.append((name, value))
                seen = False
                sent = []
                for key, kept in pairs:
                    if key == name:
                        if seen:
                            continue
                        seen = True
                    sent.append((key, kept))
                current = self.send(current, sent, f"{name}={value[:40]!r}")

            for value in EACH_PARAMETER[:examples]:
                with_value(value)

            @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
            @given(HOSTILE_VALUES)
            def hostile(value: str) -> None:
                with_value(value)

            hostile()
            if current is None:
                return
            # The same field twice (a hostile value after the page's own), then left out.
            current = self.send(current, [*current.fields, (name, "99999999999999999999")], f"{name} twice")
            if current is None:
                return
            current = self.send(current, [(key, kept) for key, kept in current.fields if key != name],
                                f"{name} missing")


def test_the_discovery_finds_the_forms_of_each_role(demo_app):
    """A broken discovery would sweep nothing: the known forms must be among those found.

    Before the sweep (pytest runs a module's tests in their order, on each database): the sweep
    changes the demo data it shares with this test, down to deactivating accounts."""
    with demo_app.extensions["casework"]["session_factory"]() as session:
        ids = _demo_ids(session)
    pages = pages_with_forms(demo_app)
    found = {username: discover(demo_app, _client(demo_app, username), pages) for username in USERS}
    shapes = {username: {action for action, _names in forms} for username, forms in found.items()}
    assert {"/pacts/#/contacts", "/pacts/#/journal", "/pacts/#/goals", "/beneficiaries/#/edit"} <= shapes["e.gribaudo"], \
        shapes["e.gribaudo"]
    assert {"/admin/users/#", "/admin/users/new"} <= shapes["admin"] and "/login" in shapes[None]
    assert sum(len(forms) for forms in found.values()) >= 60, {name: len(forms) for name, forms in found.items()}
    contact = next(form for form in found["e.gribaudo"].values() if form.key[0] == "/pacts/#/contacts")
    assert {"csrf_token", "contact-version", "contact-contact_at", "contact-notes"} <= set(contact.names)
    person = next(form for form in found["e.gribaudo"].values() if form.key[0] == "/beneficiaries/#/edit")
    assert person.action == f"/beneficiaries/{ids['beneficiary_id']}/edit" and "version" in person.names


def test_no_form_answers_500_to_hostile_values(demo_app):
    casework = demo_app.extensions["casework"]
    pages = pages_with_forms(demo_app)
    watch = WriteWatch(casework["engine"])
    started = time.monotonic()
    totals = {"forms": 0, "submissions": 0, "refusals": 0}
    failures: list[str] = []
    try:
        # The case manager first, the administrator last: a supervisor's or an administrator's form
        # may deactivate the case manager's account, and the administrator's any other.
        for username in (None, "e.gribaudo", "c.bonetto", "admin"):
            client = _client(demo_app, username)
            forms = discover(demo_app, client, pages)
            sweep = Sweep(demo_app, client, username or "anonymous", watch, before=snapshot(casework["engine"]))
            for form in forms.values():
                fresh = _fresh(client, form)
                if fresh is not None:
                    sweep.form(fresh, examples=3)
                    totals["forms"] += 1
            totals["submissions"] += sweep.submissions
            totals["refusals"] += sweep.refusals
            failures += sweep.failures
    finally:
        watch.close()
    print(f"\nhostile forms: {totals}, {time.monotonic() - started:.0f}s")
    assert failures == [], "\n".join(failures)  # all of them at once: one run names every cause
    assert totals["forms"] >= 40 and totals["refusals"] > totals["submissions"] // 3, totals


def test_the_form_reader_sends_what_a_browser_sends():
    forms = post_forms("/p", (
        '<form method="get"><input name="q"></form>'
        '<form method="post" action="/save?x=1"><input type="hidden" name="csrf_token" value="t">'
        '<input name="a" value="1"><input type="checkbox" name="b" value="y"><input type="checkbox" name="c" checked>'
        '<select name="s"><option value="1">1</option><option value="2" selected>2</option></select>'
        '<select name="m" multiple><option value="u">u</option></select><textarea name="t">\nhi &amp; bye</textarea>'
        '<input name="off" disabled value="z"><button name="go" value="ok">Vai</button><button name="no">x</button>'
        '</form>'))
    assert len(forms) == 1 and forms[0].action == "/save?x=1"
    assert forms[0].fields == [("csrf_token", "t"), ("a", "1"), ("c", "on"), ("s", "2"), ("t", "hi & bye"),
                               ("go", "ok")]
    assert forms[0].names[-1] == "go" and "b" not in forms[0].names
