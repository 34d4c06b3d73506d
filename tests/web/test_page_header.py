"""The header of every page is drawn once and kept (casework/web/page_header.py): what a user
notices is only that it is always right. Their own name and unread count, in their language, the
current page marked, the search words they typed, a language switch that brings them back to
the very address they were on, and forms that carry their own session's token. SQLite and
PostgreSQL."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask

from casework.models import User
from casework.reminders.notifications import notify
from casework.web import context
from tests.web.conftest import CSRF, csrf_token, sign_in

BADGE = re.compile(r'id="unread-count"[^>]*>(\d+)<')
NEXT = re.compile(r'name="next" value="([^"]*)"')
SEARCHED = re.compile(r'id="header-search" name="q"[^>]*value="([^"]*)"')


@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _signed_in(app: Flask, username: str, *, locale: str = "en"):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    token = csrf_token(client, "/account")
    assert client.post("/language", data={"locale": locale, "csrf_token": token}).status_code == 302
    return client


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _badge(page: str) -> int | None:
    found = BADGE.search(page)
    return int(found.group(1)) if found else None


def test_the_kept_header_carries_this_request_s_token_address_and_words(app, db, people):
    first = _signed_in(app, "giulia")
    second = _signed_in(app, "giulia")  # the same person on another computer
    one, two = _page(first, "/"), _page(second, "/")
    assert "header-csrf" not in one + two and "header-next" not in one + two
    assert set(CSRF.findall(one)).isdisjoint(CSRF.findall(two))
    # Signing out from the kept header's form works with the session's own token.
    signed_out = second.post("/logout", data={"csrf_token": CSRF.search(two).group(1)})
    assert signed_out.status_code == 302 and second.get("/").status_code == 302
    assert first.get("/").status_code == 200

    # The language switch brings each page back to its own address, query included.
    for url in (f"/pacts/{people.pact.id}", "/beneficiaries?q=Bianchi", "/beneficiaries?q=Rossi&page=1"):
        assert html.unescape(NEXT.search(_page(first, url)).group(1)).rstrip("?") == url

    # The search box keeps the words of the results page it is on, escaped, and only there.
    searched = _page(first, "/cerca?q=" + "Bianchi%22%3E%3Cscript%3E")
    assert html.unescape(SEARCHED.search(searched).group(1)) == 'Bianchi"><script>'
    assert "<script>" not in searched.split('id="header-search"', 1)[1].split(">", 1)[0]
    assert SEARCHED.search(_page(first, "/cerca?q=Rossi")).group(1) == "Rossi"
    assert SEARCHED.search(_page(first, "/")).group(1) == ""


def test_the_header_follows_the_unread_count_the_name_the_page_and_the_language(app, db, people):
    client = _signed_in(app, "giulia")
    assert _badge(_page(client, "/")) is None
    notify(db, people.manager, {"it": "Nuovo", "en": "New"}, now=context.now())
    db.commit()
    assert _badge(_page(client, "/")) == 1  # a notification changes no case data, the count still moves

    db.get(User, people.manager.id).full_name = "Giulia Ferraris Bianco"
    db.commit()
    assert "Giulia Ferraris Bianco" in _page(client, "/")

    today = _page(client, "/")
    listed = _page(client, "/beneficiaries")
    assert re.search(r'class="nav-link active" href="/"\s+aria-current="page"', today)
    assert re.search(r'class="nav-link active" href="/beneficiaries"\s+aria-current="page"', listed)
    assert re.search(r'class="nav-link " href="/"', listed)  # Oggi no longer the current one

    english = _page(client, "/")
    italian = _page(_signed_in(app, "giulia", locale="it"), "/")
    assert "Sign out" in english and "Esci" in italian and "Sign out" not in italian


def test_each_role_gets_its_own_menu_and_a_visitor_none(app, db, people):
    manager = _page(_signed_in(app, "giulia"), "/account")
    administrator = _page(_signed_in(app, "admin"), "/account")
    assert 'id="header-search"' in manager and 'id="header-search"' not in administrator
    assert manager.count('class="nav-item') != administrator.count('class="nav-item')
    visitor = app.test_client().get("/login").get_data(as_text=True)
    assert 'id="main-menu"' not in visitor and "Sign out" not in visitor
