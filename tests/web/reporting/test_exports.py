"""The export page and its downloads, as a supervisor, a case manager, an administrator and nobody."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from casework.models import AccessLogEntry, Beneficiary, Gender, Programme, Territory, TerritoryKind
from casework.pacts import operations as ops
from casework.reporting import dataset_fields, export_files, pseudonymised
from casework.reporting.indicators import compute
from casework.reporting.period import IndicatorScope
from tests.conftest import ZONE
from tests.web.conftest import csrf_token, sign_in

SECRET = "t" * 48  # the app fixture's secret key
TODAY = datetime.now(UTC).astimezone(ZoneInfo("Europe/Rome")).date()
START = date(TODAY.year, 1, 1)
DOWNLOADS = ("/exports/pacts.csv", "/exports/pacts.xlsx", "/exports/pseudonymised.csv", "/exports/pseudonymised.xlsx",
             "/exports/indicators.xlsx", "/exports/indicators/gender.csv")
PAGES = ("/exports", "/exports/pseudonymised/fields", *DOWNLOADS)


@pytest.fixture
def app(engine, tmp_path):
    """The web app on the `engine` fixture's database: SQLite, and PostgreSQL when configured."""
    from casework.web import create_app

    app = create_app(overrides={
        "env": "testing", "secret_key": SECRET, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False),
    })
    yield app
    app.extensions["casework"]["engine"].dispose()


@pytest.fixture
def hidden(app, db, people):
    """A restricted case nobody assigned Elena to, and a pact in another territory."""
    registry = app.extensions["casework"]["registry"]
    clock = ops.Clock(datetime.now(UTC), ZONE)
    lucia = Beneficiary(first_name="Lucia", last_name="Zanardelli", gender=Gender.FEMALE,
                        codice_fiscale="ZNRLCU80A41L219Y", comune=people.beneficiary.comune)
    lodi_area = db.scalars(select(Territory).where(Territory.name == "Ambito di Lodi")).one()
    lodi = Territory(name="Lodi", kind=TerritoryKind.COMUNE, istat_code="098031", parent=lodi_area)
    paolo = Beneficiary(first_name="Paolo", last_name="Lontano", gender=Gender.MALE, comune=lodi,
                        codice_fiscale="LNTPLA70A01E648Z")
    lodi_programme = Programme(code="CHANCE", name="CHANCE", funder="Fondazione Cariplo", territory=lodi_area,
                               starts_on=date(2025, 1, 1), workflow_name="chance_dispersione")
    db.add_all([lucia, lodi, paolo, lodi_programme])
    db.flush()
    manager = db.merge(people.manager)
    ops.open_pact(db, registry, beneficiary=lucia, programme=db.merge(people.restricted), case_manager=manager,
                  actor=manager, clock=clock)
    ops.open_pact(db, registry, beneficiary=paolo, programme=lodi_programme, case_manager=manager,
                  actor=manager, clock=clock)
    db.commit()
    return lodi_programme


def signed_in(app, username: str, locale: str = "en"):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    # Any page carries the language switch; the error page does too, for those who get one.
    client.post("/language", data={"locale": locale, "csrf_token": csrf_token(client, "/exports")})
    return client


def log_entries(db) -> list[AccessLogEntry]:
    db.expire_all()
    return list(db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export").order_by(AccessLogEntry.id)))


def csv_rows(response) -> list[dict[str, str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def scope_query(**values) -> str:
    params = {"programme": "", "territory": "", "start": START.isoformat(), "end": TODAY.isoformat(), **values}
    return "&".join(f"{name}={value}" for name, value in params.items())


def test_anonymous_visitors_are_sent_to_sign_in(app, people):
    client = app.test_client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), url


@pytest.mark.parametrize("username", ["giulia", "admin"])
def test_only_supervisors_may_export(app, people, db, username):
    client = signed_in(app, username)
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert log_entries(db) == []


def test_the_export_page_offers_both_forms_and_the_field_documentation(app, people):
    client = signed_in(app, "elena")
    page = client.get("/exports").get_data(as_text=True)
    for text in ('id="pacts-programme"', 'id="pacts-stage"', 'id="pacts-case-manager"', 'id="pacts-status"',
                 'name="programme"', 'name="territory"', f'value="{START:%d/%m/%Y}"', f'value="{TODAY:%d/%m/%Y}"',
                 'formaction="/exports/pacts.csv"', 'formaction="/exports/pacts.xlsx"',
                 'formaction="/exports/pseudonymised.csv"', 'formaction="/exports/pseudonymised.xlsx"',
                 'formaction="/exports/indicators.xlsx"', 'href="/exports/pseudonymised/fields"',
                 f'<option value="{people.programme.id}">TILDE</option>', "Giulia Rossi", "Unione NET"):
        assert text in page, text
    assert "TILDE — TILDE" not in page  # the programme is named once
    assert "pseudonyms will change every time it restarts" not in page  # a secret key is configured
    fields = client.get("/exports/pseudonymised/fields").get_data(as_text=True)
    for field in dataset_fields.DATASET_FIELDS:
        assert f">{field.key}<" in fields.replace("&lt;", "<").replace("&gt;", ">"), field.key
    assert "Risks of re-identification" in fields


def test_the_stage_filter_offers_only_the_stages_of_programmes_overseen(app, people, hidden):
    # Elena oversees TILDE (the personalised pact); CHANCE, on its own workflow, is Paolo's in Lodi.
    page = signed_in(app, "elena").get("/exports").get_data(as_text=True)
    stage_select = page[page.index('id="pacts-stage"'):page.index("</select>", page.index('id="pacts-stage"'))]
    assert '<option value="patto_personalizzato:referral">Referral</option>' in stage_select
    assert "chance_dispersione" not in stage_select and "Engagement" not in stage_select
    theirs = signed_in(app, "paolo").get("/exports").get_data(as_text=True)
    assert 'value="chance_dispersione:referral"' in theirs and "patto_personalizzato" not in theirs
    # A stage of a workflow the supervisor does not oversee is refused next to the field.
    refused = signed_in(app, "elena").get("/exports/pacts.csv?stage=chance_dispersione:referral")
    assert refused.status_code == 400 and "Not a valid choice" in refused.get_data(as_text=True)


def test_the_page_and_files_speak_italian(app, people):
    client = app.test_client()
    sign_in(client, "elena")
    page = client.get("/exports").get_data(as_text=True)
    assert 'lang="it"' in page and "Giulia Rossi" in page
    book = load_workbook(io.BytesIO(client.get("/exports/pacts.xlsx").data))
    assert book.sheetnames == ["Informazioni", "Patti"]
    assert book["Patti"]["E2"].value == "Segnalazione"


def test_a_supervisor_downloads_the_pacts_of_their_territory_only(app, db, people, hidden):
    client = signed_in(app, "elena")
    response = client.get("/exports/pacts.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="casework-pacts-all-{TODAY.isoformat()}.csv"'
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert [(row["beneficiary"], row["codice_fiscale"], row["programme"], row["stage"]) for row in rows] == [
        ("Maria Bianchi", "BNCMRA85D43I703I", "TILDE", "Referral"),
    ]
    assert b"Zanardelli" not in response.data and b"Lontano" not in response.data
    (entry,) = log_entries(db)
    assert entry.user_id == people.supervisor.id and entry.subject_type == "export"
    assert entry.detail == "pacts.csv rows=1 programme=all stage=all case_manager=all status=all"


def test_the_pacts_csv_is_streamed_with_its_session_open_until_the_last_chunk(app, db, people):
    client = signed_in(app, "elena", locale="it")
    pool = app.extensions["casework"]["engine"].pool
    response = client.get("/exports/pacts.csv", buffered=False)
    assert response.status_code == 200 and response.is_streamed
    assert "Content-Length" not in response.headers
    chunks = iter(response.response)
    first = next(chunks)  # the header and the one pact; the generator waits after it
    # The access-log entry is committed before the file goes out.
    assert [entry.detail for entry in log_entries(db)] == [
        "pacts.csv rows=1 programme=all stage=all case_manager=all status=all"]
    db.rollback()  # the test's own connection back to the pool
    assert pool.checkedout() == 1  # the request's, reading the pacts
    rest = list(chunks)
    response.close()
    assert pool.checkedout() == 0  # closed once the last chunk was sent
    assert rest == []
    manager, pact = people.manager.full_name, people.pact
    deadline = pact.next_deadline_at.astimezone(ZONE).date().isoformat() if pact.next_deadline_at else ""
    opened = pact.opened_at.astimezone(ZONE).date().isoformat()
    assert first == (
        b"\xef\xbb\xbfpact_id,beneficiary,codice_fiscale,programme,stage,case_manager,priority,opened_on,closed_on,"
        b"next_deadline_on,last_contact_on,outcome\r\n"
        + f"{pact.id},Maria Bianchi,BNCMRA85D43I703I,TILDE,Segnalazione,{manager},,{opened},,{deadline},,\r\n".encode()
    )


def test_the_supervisor_of_another_territory_gets_only_the_pacts_of_theirs(app, db, people, hidden):
    response = signed_in(app, "paolo").get("/exports/pacts.csv")
    assert [row["beneficiary"] for row in csv_rows(response)] == ["Paolo Lontano"]


def test_pacts_xlsx_with_filters(app, db, people):
    client = signed_in(app, "elena")
    response = client.get(f"/exports/pacts.xlsx?programme={people.programme.id}&stage=patto_personalizzato:referral"
                          f"&case_manager={people.manager.id}&status=open")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == export_files.XLSX_TYPE
    assert response.headers["Content-Disposition"] == f'attachment; filename="casework-pacts-TILDE-{TODAY.isoformat()}.xlsx"'
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["About", "Pacts"]
    assert [cell.value for cell in book["Pacts"][2]][1:4] == ["Maria Bianchi", "BNCMRA85D43I703I", "TILDE"]
    closed = client.get(f"/exports/pacts.csv?programme={people.programme.id}&status=closed")
    assert csv_rows(closed) == []
    assert [entry.detail.split()[0] for entry in log_entries(db)] == ["pacts.xlsx", "pacts.csv"]


@pytest.mark.parametrize(("query", "message"), [
    ("programme=abc", "Not a valid choice"),
    ("status=archived", "Not a valid choice"),
    ("stage=nowhere", "Not a valid choice"),
])
def test_bad_pact_filters_show_the_error_next_to_the_field(app, db, people, query, message):
    response = signed_in(app, "elena").get(f"/exports/pacts.csv?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The file could not be prepared" in page and message in page and "invalid-feedback" in page
    assert log_entries(db) == []


@pytest.mark.parametrize(("url", "message"), [
    ("/exports/pseudonymised.csv?start=10/03/2026&end=01/03/2026", "The end of the period cannot come before its start."),
    ("/exports/pseudonymised.xlsx?start=someday&end=2026-03-01", "Write the date as dd/mm/yyyy"),
    ("/exports/indicators.xlsx?start=2026-01-01&end=", "Enter a date as dd/mm/yyyy."),
    ("/exports/indicators/gender.csv?territory=x", 'id="territory-error"'),
    ("/exports/pseudonymised.csv?start=0001-01-01&end=2026-03-01", "Choose a date between 1900 and 2999."),
    ("/exports/pseudonymised.xlsx?start=2026-01-01&end=9999-12-31", "Choose a date between 1900 and 2999."),
    ("/exports/pseudonymised.csv?start=1990-01-01&end=2026-03-01", "The period can last at most 10 years."),
])
def test_bad_scopes_show_the_error_next_to_the_field(app, db, people, url, message):
    """The scope is read by the indicators page's own filter form: its messages."""
    response = signed_in(app, "elena").get(url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "The file could not be prepared" in page
    assert log_entries(db) == []


@pytest.mark.parametrize(("url", "message"), [
    ("/exports/pseudonymised.csv", "Choose one of the programmes in the list."),
    ("/exports/indicators.xlsx", "Choose one of the programmes in the list."),
    ("/exports/pacts.csv", "Not a valid choice"),
])
def test_a_programme_of_another_territory_is_not_an_option(app, db, people, hidden, url, message):
    response = signed_in(app, "elena").get(f"{url}?{scope_query(programme=hidden.id)}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert log_entries(db) == []


def test_the_pseudonymised_dataset_names_nobody_and_keeps_its_pseudonyms(app, db, people, hidden):
    client = signed_in(app, "elena")
    first = client.get(f"/exports/pseudonymised.csv?{scope_query()}")
    assert first.status_code == 200
    assert first.headers["Content-Disposition"] == (
        f'attachment; filename="casework-pseudonymised-all-{START.isoformat()}-{TODAY.isoformat()}.csv"'
    )
    for word in (b"Maria", b"Bianchi", b"BNCMRA85D43I703I", b"Zanardelli", b"Lontano", b"1985"):
        assert word not in first.data
    (row,) = csv_rows(first)
    # The pseudonym key comes from the configured secret key.
    key = pseudonymised.pseudonym_key(SECRET)
    assert row["person"] == pseudonymised.pseudonym(key, "beneficiary", people.beneficiary.id)
    assert (row["programme"], row["gender"], row["opened_month"]) == ("TILDE", "female", f"{TODAY:%Y-%m}")
    again = client.get(f"/exports/pseudonymised.xlsx?{scope_query()}")
    book = load_workbook(io.BytesIO(again.data))
    dataset = book.worksheets[1]
    assert [cell.comment.text for cell in dataset[1]][:2] == ["person", "pact"]
    assert dataset["A2"].value == row["person"] and dataset["B2"].value == row["pact"]
    assert [entry.detail.split()[0] for entry in log_entries(db)] == ["pseudonymised.csv", "pseudonymised.xlsx"]


def test_indicator_downloads_match_compute(app, db, people):
    client = signed_in(app, "elena")
    registry = app.extensions["casework"]["registry"]
    scope = IndicatorScope(programme_id=people.programme.id, territory_id=None, start=START, end=TODAY)
    response = client.get(f"/exports/indicators.xlsx?{scope_query(programme=people.programme.id)}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="casework-indicators-TILDE-{START.isoformat()}-{TODAY.isoformat()}.xlsx"'
    )
    report = compute(db, registry, db.merge(people.supervisor), scope, now=datetime.now(UTC), locale="en", zone=ZONE)
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.worksheets) == len(report.tables) + 1
    for table, sheet in zip(report.tables, book.worksheets[1:]):
        assert [cell.comment.text for cell in sheet[1]] == [column.key for column in table.columns]
        counts = [index for index, column in enumerate(table.columns) if column.kind == "count"]
        read = [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2)]
        assert [tuple(row[i] for i in counts) for row in read] == [tuple(row[i] for i in counts) for row in table.rows]
    reached = report.table("reached")
    assert reached.rows and 1 in reached.rows[0]  # Maria is reached: the comparison compared real figures

    gender = client.get(f"/exports/indicators/gender.csv?{scope_query(programme=people.programme.id)}")
    assert gender.status_code == 200
    assert [tuple(row.values()) for row in csv_rows(gender)] == [
        tuple("" if value is None else str(value) for value in row) for row in report.table("gender").rows
    ]
    assert client.get(f"/exports/indicators/nothing.csv?{scope_query()}").status_code == 404
    assert [entry.detail.split()[0] for entry in log_entries(db)] == ["indicators.xlsx", "indicator:gender.csv"]


def shown_rows(page: str, table_key: str) -> list[tuple[str, ...]]:
    """The rows of one table of the indicators page: the row header, then each figure as shown."""
    section = page[page.index(f'id="table-{table_key}"'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r'<th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', section, re.DOTALL)
    return [
        (unescape(header), *(unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.DOTALL)))
        for header, cells in rows
    ]


def as_shown(value, kind: str) -> str:
    """A figure as the indicators page writes it in English: counts plain, shares as percentages."""
    if value is None:
        return "—"
    if kind == "share":
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return str(value)


def test_the_indicators_page_shows_the_figures_of_the_download(app, db, people, hidden):
    client = signed_in(app, "elena")
    query = scope_query(programme=people.programme.id)
    page = client.get(f"/indicators?{query}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/exports/indicators.xlsx?" in html  # the page links to this very file
    book = load_workbook(io.BytesIO(client.get(f"/exports/indicators.xlsx?{query}").data))
    # The file has one sheet per table, in the order of the tables.
    scope = IndicatorScope(programme_id=people.programme.id, territory_id=None, start=START, end=TODAY)
    tables = compute(db, app.extensions["casework"]["registry"], people.supervisor, scope,
                     now=datetime.now(UTC), locale="en", zone=ZONE).tables
    sheets = dict(zip((table.key for table in tables), book.worksheets[1:]))
    compared = 0
    for table_key in ("reached", "gender", "age_band", "migrant_background"):
        sheet = sheets[table_key]
        keys = [cell.comment.text for cell in sheet[1]]
        kinds = {column.key: column.kind for table in tables if table.key == table_key for column in table.columns}
        figures = [index for index, key in enumerate(keys) if kinds[key] in ("count", "share")]
        expected = [
            (row[keys.index("label")], *(as_shown(row[index], kinds[keys[index]]) for index in figures))
            for row in sheet.iter_rows(min_row=2, values_only=True)
        ]
        assert shown_rows(html, table_key) == expected, table_key
        compared += len(expected)
    assert compared >= 10
