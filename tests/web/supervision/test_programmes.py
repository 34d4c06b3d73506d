"""Programme pages: the territorial manager (elena) lists, creates and edits programmes.

Tried by every role: elena's colleague supervisor of another territory (paolo), a case
manager (giulia) and an administrator. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from casework.models import Base, Programme, Territory, User
from casework.supervision import programmes as core
from tests.conftest import ZONE, _empty_all_tables
from tests.web.conftest import csrf_token, sign_in, submit


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The real app on SQLite and, when configured, on PostgreSQL (overrides tests/web's SQLite-only one)."""
    from casework.web import create_app

    postgres = request.getfixturevalue("_postgres_schema_engine") if request.param == "postgresql" else None
    if postgres is not None:
        _empty_all_tables(postgres)
        url = postgres.url.render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"), "database_url": url,
    })
    if postgres is None:
        Base.metadata.create_all(app.extensions["casework"]["engine"])  # PostgreSQL's schema exists already
    yield app
    app.extensions["casework"]["engine"].dispose()
    if postgres is not None:
        _empty_all_tables(postgres)


class _FormReader(HTMLParser):
    """The values a browser would send for the page's form with the given action."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.values = action, False, {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and attributes.get("name"):
            if attributes.get("type") != "checkbox" or "checked" in attributes:
                self.values[attributes["name"]] = attributes.get("value") or ("y" if attributes.get("type") == "checkbox" else "")
        elif tag == "select":
            self._select = attributes["name"]
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in attributes:
            self.values[self._select] = attributes.get("value", "")
        elif tag == "textarea":
            self._textarea = attributes["name"]
            self.values[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_values(html: str, action: str) -> dict[str, str]:
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.values, f"no form posting to {action}"
    # Like a browser: the line break that opens a textarea is not part of its value.
    return {name: re.sub(r"^\r?\n", "", value) for name, value in reader.values.items()}


def signed_in(client, username: str):
    sign_in(client, username)
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def page(response) -> str:
    return response.get_data(as_text=True)


def error_of(html: str, field_id: str) -> str:
    """The error shown under the field, or "" when there is none."""
    match = re.search(rf'<div id="{re.escape(field_id)}-error"[^>]*>(.*?)</div>', html, re.DOTALL)
    return match.group(1).strip() if match else ""


def unione_id(db) -> int:
    return db.scalar(select(Territory.id).where(Territory.name == "Unione NET"))


def femminili(db, **changes) -> dict[str, str]:
    return {
        "code": "FEMMINILI_PLURALI", "name": "Femminili Plurali", "funder": "Compagnia di San Paolo",
        "description": "Percorsi per donne", "territory_id": str(unione_id(db)), "starts_on": "01/11/2023",
        "ends_on": "31/10/2025", "workflow_name": "patto_personalizzato", "no_contact_days": "21",
        "targets-0-indicator": "beneficiaries", "targets-0-other_code": "", "targets-0-value": "300",
        "targets-0-description": "",
        "targets-1-indicator": "share_women", "targets-1-other_code": "", "targets-1-value": "80%",
        "targets-1-description": "Almeno l'80% donne",
        "targets-2-indicator": "", "targets-2-other_code": "", "targets-2-value": "", "targets-2-description": "",
        "targets-3-indicator": "_other", "targets-3-other_code": "self_employment_training",
        "targets-3-value": "30", "targets-3-description": "Formazione all'autoimprenditoria",
        **changes,
    }


def reread(db, programme_id: int) -> Programme:
    db.expire_all()
    return db.get(Programme, programme_id)


def programme_count(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Programme))


def targets_of(db, programme_id: int) -> list[tuple[str, Decimal, str]]:
    return sorted((t.indicator, t.value, t.description) for t in reread(db, programme_id).targets)


def urls(programme_id: int) -> list[str]:
    return ["/programmes", "/programmes/new", f"/programmes/{programme_id}/edit", f"/programmes/{programme_id}/history"]


# --- who may open the pages ---------------------------------------------------------------

def test_the_pages_need_a_signed_in_user(client_and_people):
    client, people = client_and_people
    for url in urls(people.programme.id):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("username", ["giulia", "admin"])
def test_case_managers_and_administrators_are_refused(client_and_people, db, username):
    client, people = client_and_people
    signed_in(client, username)
    for url in urls(people.programme.id):
        assert client.get(url).status_code == 403, url
    assert submit(client, "/programmes/new", femminili(db), form_page="/").status_code == 403
    edit = submit(client, f"/programmes/{people.programme.id}/edit", femminili(db, code="TILDE"), form_page="/")
    assert edit.status_code == 403
    assert programme_count(db) == 2
    assert reread(db, people.programme.id).name == "TILDE"
    assert "/programmes" not in page(client.get("/"))  # no menu entry


def test_a_programme_of_another_territory_is_not_found(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "paolo")
    assert "TILDE" not in page(client.get("/programmes"))
    for url in urls(people.programme.id)[2:]:
        assert client.get(url).status_code == 404, url
    response = submit(client, f"/programmes/{people.programme.id}/edit",
                      femminili(db, code="TILDE", name="Preso da Lodi"), form_page="/")
    assert response.status_code == 404
    assert reread(db, people.programme.id).name == "TILDE"


# --- the list -----------------------------------------------------------------------------

def test_the_list_shows_the_supervisors_programmes(client_and_people, db):
    client, people = client_and_people
    programme = reread(db, people.programme.id)
    programme.funder = "Fondazione Cariplo"
    programme.ends_on = date(2026, 6, 30)
    db.commit()
    signed_in(client, "elena")
    html = page(client.get("/programmes"))
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL)
    tilde = next(row for row in rows if ">TILDE<" in row)
    cells = [" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tilde, re.DOTALL)]
    assert cells[:6] == ["TILDE TILDE", "Unione NET", "Personalised pact", "01/01/2025 to 30/06/2026",
                         "Fondazione Cariplo", "1"]
    assert f'href="/programmes/{people.programme.id}/edit"' in tilde
    ricomincio = next(row for row in rows if "Ricomincio da me" in row)
    assert "Restricted cases" in ricomincio
    assert 'href="/programmes/new"' in html


def test_targets_are_summarised_in_the_list(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "elena")
    assert submit(client, "/programmes/new", femminili(db)).status_code == 302
    html = page(client.get("/programmes"))
    assert "People reached: <strong>300</strong>" in html
    assert "Share of women: <strong>80%</strong>" in html
    assert "Formazione all&#39;autoimprenditoria: <strong>30</strong>" in html
    assert "not measured by Casework" in html


# --- creating -----------------------------------------------------------------------------

def test_a_supervisor_creates_a_programme(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "elena")
    new_page = page(client.get("/programmes/new"))
    assert "Personalised pact" in new_page and "CHANCE - school dropout prevention" in new_page
    assert "Unione NET (union of comuni)" in new_page and "— Settimo Torinese (comune)" in new_page
    assert "Ambito di Lodi" not in new_page  # paolo's territory is not offered
    assert new_page.count('name="targets-') == 4 * 5

    response = submit(client, "/programmes/new", femminili(db, **{"targets-1-value": "0,80",
                                                                  "retention_months": "120"}))
    assert response.status_code == 302 and response.headers["Location"] == "/programmes"
    assert "Programme Femminili Plurali created." in page(client.get("/programmes"))
    created = db.scalar(select(Programme).where(Programme.code == "FEMMINILI_PLURALI"))
    assert (created.name, created.funder, created.territory_id, created.starts_on, created.ends_on,
            created.workflow_name, created.no_contact_days, created.restricted) == (
        "Femminili Plurali", "Compagnia di San Paolo", unione_id(db), date(2023, 11, 1), date(2025, 10, 31),
        "patto_personalizzato", 21, False)
    assert created.retention_months == 120
    assert targets_of(db, created.id) == [
        ("beneficiaries", Decimal(300), ""),
        ("self_employment_training", Decimal(30), "Formazione all'autoimprenditoria"),
        ("share_women", Decimal("0.8"), "Almeno l'80% donne"),
    ]


# Each group is one submission: every wrong field must show its own message at once.
BAD_INPUT_GROUPS = {
    "checked by Casework": [
        ("code", "femminili", "Use only capital letters, digits and underscores"),
        ("funder", "", "Fill in this field."),
        ("ends_on", "31/10/2023", "The end date cannot be before the start date."),
        ("workflow_name", "welfare_generico", "Choose one of the workflows in the list."),
        ("no_contact_days", "0", "Write at least 1 day."),
        ("targets-0-value", "-5", "The value cannot be negative."),
        ("targets-1-value", "1,5", "A share is between 0 and 1 (e.g. 0.80) or a percentage up to 100%."),
        ("targets-3-other_code", "Self Employment", "Write the code in lower case"),
    ],
    "checked by Casework, more": [
        ("code", "TILDE", "Another programme already has this code."),
        ("name", "  ", "Fill in this field."),
        ("territory_id", "", "Fill in this field."),
        ("starts_on", "", "Fill in this field."),
        ("no_contact_days", "400", "Write at most 365 days."),
        ("retention_months", "0", "Write a number of months from 1 to 600, or leave it empty."),
        ("targets-0-value", "10,5", "A number of people is a whole number."),
        ("targets-1-indicator", "beneficiaries", "This indicator already has a target above."),
        ("targets-3-description", "", "Describe this target"),
    ],
    "missing in target rows": [
        ("targets-0-value", "", "Fill in this field."),
        ("targets-1-value", "120%", "A share is between 0 and 1"),
        ("targets-2-description", "senza indicatore", ""),
        ("targets-2-value", "4", ""),
        ("targets-2-indicator", "", "Fill in this field."),
        ("targets-3-other_code", "", "Fill in this field."),
    ],
    "not understood by the form": [
        ("starts_on", "novembre 2023", "Write the date as dd/mm/yyyy"),
        ("no_contact_days", "trenta", "Write a whole number, e.g. 30."),
        ("targets-0-value", "1.500", "Write the number without a thousands separator"),
        ("targets-0-other_code", "corsi", "To use a code of your own, choose “Another indicator” in the list."),
        ("targets-1-value", "tanti", "Write a number, e.g. 300 or 0.80."),
        ("targets-3-indicator", "unknown", "Choose one of the indicators in the list."),
    ],
    "too large for the database": [
        ("targets-0-value", "1" * 40, "This number is too large."),
        ("territory_id", "99999999999999999999", ""),
    ],
}


@pytest.mark.parametrize("group", list(BAD_INPUT_GROUPS))
def test_each_bad_input_is_shown_next_to_its_field(client_and_people, db, group):
    client, _ = client_and_people
    signed_in(client, "elena")
    wrong = BAD_INPUT_GROUPS[group]
    response = submit(client, "/programmes/new", femminili(db, **{name: value for name, value, _ in wrong}))
    html = page(response)
    assert response.status_code == 422
    for field_id, typed, message in wrong:
        if message:
            assert message in error_of(html, field_id), field_id
        if typed.strip() and not field_id.endswith(("indicator", "territory_id", "workflow_name")):
            assert f'value="{typed}"' in html or f">{typed}<" in html, field_id  # the typed input is kept
    assert programme_count(db) == 2


def test_a_territory_outside_the_supervisors_is_refused(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "elena")
    lodi = db.scalar(select(Territory.id).where(Territory.name == "Ambito di Lodi"))
    for territory_id in (str(lodi), "not-a-number"):
        response = submit(client, "/programmes/new", femminili(db, territory_id=territory_id))
        assert response.status_code == 422
        assert error_of(page(response), "territory_id") == "Choose your territory or one below it."
    assert programme_count(db) == 2


# --- editing ------------------------------------------------------------------------------

def test_the_edit_form_opens_with_the_stored_programme(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "elena")
    submit(client, "/programmes/new", femminili(db))
    created = db.scalar(select(Programme).where(Programme.code == "FEMMINILI_PLURALI"))
    url = f"/programmes/{created.id}/edit"
    values = form_values(page(client.get(url)), url)
    assert {name: values[name] for name in ("code", "name", "starts_on", "ends_on", "territory_id", "workflow_name",
                                            "no_contact_days", "description")} == {
        "code": "FEMMINILI_PLURALI", "name": "Femminili Plurali", "starts_on": "01/11/2023", "ends_on": "31/10/2025",
        "territory_id": str(unione_id(db)), "workflow_name": "patto_personalizzato", "no_contact_days": "21",
        "description": "Percorsi per donne"}
    rows = {(values[f"targets-{i}-indicator"], values[f"targets-{i}-other_code"], values[f"targets-{i}-value"])
            for i in range(5)}
    assert rows == {("beneficiaries", "", "300"), ("share_women", "", "0.8"),
                    ("_other", "self_employment_training", "30"), ("", "", "")}
    assert "targets-4-value" in values and "targets-5-value" not in values  # two empty rows to add more


def test_an_edit_is_saved_and_kept_in_the_history(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "elena")
    url = f"/programmes/{people.programme.id}/edit"
    typed = form_values(page(client.get(url)), url)
    response = submit(client, url, {**typed, "funder": "Fondazione Cariplo", "ends_on": "31/12/2026",
                                    "no_contact_days": "14"})
    assert response.status_code == 302
    assert "Programme TILDE saved." in page(client.get("/programmes"))
    saved = reread(db, people.programme.id)
    assert (saved.funder, saved.ends_on, saved.no_contact_days) == ("Fondazione Cariplo", date(2026, 12, 31), 14)

    history = page(client.get(f"/programmes/{people.programme.id}/history"))
    assert re.search(r'<th scope="row">Funder</th>\s*<td>—</td>\s*<td>Fondazione Cariplo</td>', history)
    assert re.search(r'<th scope="row">Ends on</th>\s*<td>—</td>\s*<td>31/12/2026</td>', history)
    assert "Elena Rossi" in history

    again = submit(client, url, form_values(page(client.get(url)), url))
    assert again.status_code == 302
    assert "Nothing was changed." in page(client.get("/programmes"))


def test_targets_are_updated_and_removed(client_and_people, db):
    client, _ = client_and_people
    signed_in(client, "elena")
    submit(client, "/programmes/new", femminili(db))
    created = db.scalar(select(Programme).where(Programme.code == "FEMMINILI_PLURALI"))
    url = f"/programmes/{created.id}/edit"
    typed = form_values(page(client.get(url)), url)
    row = {typed[f"targets-{i}-indicator"]: i for i in range(3)}
    changes = {
        f"targets-{row['share_women']}-value": "85%",
        f"targets-{row['beneficiaries']}-indicator": "", f"targets-{row['beneficiaries']}-value": "",
        f"targets-{row['beneficiaries']}-description": "",
        "targets-4-indicator": "share_migrant_background", "targets-4-value": "1",
    }
    assert submit(client, url, {**typed, **changes}).status_code == 302
    assert targets_of(db, created.id) == [
        ("self_employment_training", Decimal(30), "Formazione all'autoimprenditoria"),
        ("share_migrant_background", Decimal(1), ""),
        ("share_women", Decimal("0.85"), "Almeno l'80% donne"),
    ]
    history = page(client.get(f"/programmes/{created.id}/history"))
    assert "beneficiaries: 300" in history and "share_women: 0.85 (Almeno l&#39;80% donne)" in history


def test_the_workflow_of_a_programme_with_pacts_cannot_change(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "elena")
    url = f"/programmes/{people.programme.id}/edit"
    typed = form_values(page(client.get(url)), url)
    response = submit(client, url, {**typed, "workflow_name": "chance_dispersione", "name": "TILDE 2"})
    assert response.status_code == 422
    assert "the workflow can no longer change" in error_of(page(response), "workflow_name")
    assert 'value="TILDE 2"' in page(response)
    saved = reread(db, people.programme.id)
    assert (saved.workflow_name, saved.name) == ("patto_personalizzato", "TILDE")


def test_lifting_a_restriction_over_existing_pacts_is_refused(client_and_people, db, app):
    client, people = client_and_people
    from casework.pacts import operations as ops

    ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=people.beneficiary,
                  programme=people.restricted, case_manager=people.manager, actor=people.manager,
                  clock=ops.Clock(datetime.now(UTC), ZONE))
    db.commit()
    signed_in(client, "elena")
    url = f"/programmes/{people.restricted.id}/edit"
    typed = form_values(page(client.get(url)), url)
    assert typed["restricted"] == "y"
    response = submit(client, url, {name: value for name, value in typed.items() if name != "restricted"})
    assert response.status_code == 422
    assert "lifting the restriction" in error_of(page(response), "restricted")
    assert reread(db, people.restricted.id).restricted is True


def test_an_edit_over_someone_elses_is_refused_and_keeps_the_typed_input(client_and_people, db, app):
    client, people = client_and_people
    signed_in(client, "elena")
    url = f"/programmes/{people.programme.id}/edit"
    typed = {**form_values(page(client.get(url)), url), "name": "TILDE – seconda annualità"}
    # Meanwhile another supervisor of the territory changes the funder.
    programme = reread(db, people.programme.id)
    core.update_programme(
        db, app.extensions["casework"]["registry"], db.get(User, people.supervisor.id), programme.id,
        core.ProgrammeInput(code="TILDE", name="TILDE", funder="Fondazione Cariplo", territory_id=programme.territory_id,
                            starts_on=programme.starts_on, workflow_name=programme.workflow_name),
        now=datetime.now(UTC))
    db.commit()

    response = submit(client, url, typed)
    html = page(response)
    assert response.status_code == 409
    assert "Someone else changed this programme" in html
    assert 'value="TILDE – seconda annualità"' in html  # what was typed
    assert "Fondazione Cariplo" in html  # what is stored now
    assert reread(db, people.programme.id).name == "TILDE"

    # Sent again knowingly, from the page that showed the conflict, it is saved.
    response = submit(client, url, form_values(html, url))
    assert response.status_code == 302
    saved = reread(db, people.programme.id)
    assert (saved.name, saved.funder) == ("TILDE – seconda annualità", "—")


def test_a_form_without_its_fingerprint_is_not_saved_blindly(client_and_people, db):
    client, people = client_and_people
    signed_in(client, "elena")
    url = f"/programmes/{people.programme.id}/edit"
    typed = form_values(page(client.get(url)), url)
    response = submit(client, url, {**typed, "fingerprint": "", "name": "TILDE bis"})
    assert response.status_code == 409
    assert reread(db, people.programme.id).name == "TILDE"


def test_in_italian_numbers_and_labels_follow_the_language(client_and_people, db):
    client, _ = client_and_people
    sign_in(client, "elena")  # Italian is the default language
    submit(client, "/programmes/new", femminili(db, **{"targets-1-value": "0,75"}))
    created = db.scalar(select(Programme).where(Programme.code == "FEMMINILI_PLURALI"))
    listed = page(client.get("/programmes"))
    assert "Patto personalizzato" in listed and "Quota di donne: <strong>75%</strong>" in listed
    url = f"/programmes/{created.id}/edit"
    values = form_values(page(client.get(url)), url)
    assert "0,75" in {values[f"targets-{i}-value"] for i in range(3)}
