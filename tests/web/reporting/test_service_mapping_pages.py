"""The mapping of the services page, its downloads and its section on the indicators pages, on both databases.

Data set: tests/reporting/test_service_mapping.py (8 referrals seen by the Unione's supervisor,
acceptance 4 of 6, completion 1 of 3, median 10 days, 2 gaps)."""

from __future__ import annotations

import csv
import html as markup
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select

from casework.models import AccessLogEntry
from casework.security.passwords import hash_password
from casework.web import context
from tests.reporting.test_service_mapping import WORKFLOW, Town
from tests.web.conftest import PASSWORD, sign_in

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
Q1 = "start=01/01/2026&end=31/03/2026"


@pytest.fixture
def app(engine, tmp_path, monkeypatch):
    from casework.web import create_app

    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "percorso_mappa.yaml").write_text(WORKFLOW, encoding="utf-8")
    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False), "workflows_path": str(workflows),
    })
    monkeypatch.setattr(context, "now", lambda: NOW)
    yield app
    app.extensions["casework"]["engine"].dispose()


@pytest.fixture
def town(app):
    with app.extensions["casework"]["session_factory"]() as session:
        town = Town(session)
        digest = hash_password(PASSWORD)
        for user in (town.supervisor, town.manager, town.admin, town.lodi_supervisor):
            user.password_hash = digest
        session.commit()
        yield town


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def text_of(html: str) -> str:
    return markup.unescape(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def figures(html: str) -> list[str]:
    return [text_of(block) for block in re.findall(r'<div class="key-figure" id="[^"]+">(.*?)</div>', html, re.DOTALL)]


def test_the_supervisor_sees_key_figures_tables_and_charts(app, town):
    page = client_for(app, "elena").get(f"/mappatura?{Q1}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert figures(html) == [
        "Invii ai servizi 8 aggiunti nel periodo Dettagli : Invii ai servizi",
        "Tasso di accettazione 66,7% accettati: 4 su 6 con risposta Dettagli : Tasso di accettazione",
        "Tasso di conclusione 33,3% conclusi: 1 su 3 avviati Dettagli : Tasso di conclusione",
        ("Mediana giorni dalla richiesta all'avvio 10,0 giorni di calendario "
         "Dettagli : Mediana giorni dalla richiesta all'avvio"),
        "Scoperture 2 comuni e aree di bisogno con bisogni ma senza servizi o senza posti Dettagli : Scoperture",
    ]
    for title in ("Invii ai servizi per macro-area", "Scoperture: bisogni senza servizi attivi o senza posti",
                  "Rifiuti per motivo", "Accettazione e conclusione per servizio"):
        assert f">{title}</h2>" in html
        assert f'<caption class="visually-hidden">{title}</caption>' in html
    assert 'id="chart-gaps"' in html and 'id="chart-macro_areas"' in html
    gaps = html[html.index('id="table-gaps"'):html.index('id="table-demand"')]
    assert "Settimo Torinese: Casa" in gaps and "Nessun posto" in gaps and "Volpiano: Salute" in gaps
    # No person is named on the page.
    assert "Anna" not in html and "Prova" not in html


def test_filters_narrow_the_figures_and_bad_ones_are_shown_next_to_the_field(app, town):
    client = client_for(app, "elena")
    volpiano = client.get(f"/mappatura?{Q1}&territory={town.volpiano.id}").get_data(as_text=True)
    assert figures(volpiano)[0].startswith("Invii ai servizi 2 ")
    bad = client.get("/mappatura?start=31/03/2026&end=01/01/2026")
    assert bad.status_code == 400
    assert "La fine del periodo non può precederne l&#39;inizio." in bad.get_data(as_text=True)
    other = client.get(f"/mappatura?{Q1}&territory={town.lodi.id}")
    assert other.status_code == 400


@pytest.mark.parametrize("username, status", [("giulia", 403), ("amministra", 403), ("paolo", 200)])
def test_roles(app, town, username, status):
    # Administrators see no case data: the mapping counts referrals and screenings, so it is not theirs.
    page = client_for(app, username).get(f"/mappatura?{Q1}")
    assert page.status_code == status
    if username == "paolo":
        assert figures(page.get_data(as_text=True))[0].startswith("Invii ai servizi 1 ")


def test_anonymous_visitors_are_sent_to_sign_in(app, town):
    assert app.test_client().get(f"/mappatura?{Q1}").status_code == 302


def test_exports_hold_the_page_figures_and_are_logged(app, town):
    client = client_for(app, "elena")
    reply = client.get(f"/mappatura/services.csv?{Q1}")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["service_id", "label", "organisation", "count", "answered", "accepted", "acceptance",
                       "started", "completed", "completion", "median_days", "n"]
    assert rows[1][1:] == ["Tirocini (Associazione Due)", "Associazione Due", "4", "3", "3", "1.0", "3", "1",
                           "0.3333333333333333", "10.0", "3"]
    workbook = load_workbook(io.BytesIO(client.get(f"/mappatura/mappatura-servizi.xlsx?{Q1}").data))
    assert workbook.sheetnames == ["Informazioni", "Per stato", "Per macro-area", "Per comune", "Per servizio",
                                   "Rifiuti", "Invii interrotti", "Scoperture", "Bisogni e servizi"]
    gaps = [[cell.value for cell in row] for row in workbook["Scoperture"].iter_rows(min_row=2)]
    assert [row[:3] + row[4:8] for row in gaps] == [
        ["001265", "Settimo Torinese", "casa", 2, 1, 0, "no_places"],
        ["001314", "Volpiano", "salute", 1, 0, 0, "no_service"],
    ]
    assert client.get(f"/mappatura/nothing.csv?{Q1}").status_code == 404
    with app.extensions["casework"]["session_factory"]() as session:
        details = session.scalars(select(AccessLogEntry.detail).where(AccessLogEntry.action == "export")).all()
    assert any(detail.startswith("service_mapping:services.csv rows=3") for detail in details)
    assert any(detail.startswith("service_mapping.xlsx rows=") for detail in details)
    assert client_for(app, "giulia").get(f"/mappatura/services.csv?{Q1}").status_code == 403


def test_the_indicators_and_the_funder_report_carry_the_services_section(app, town):
    client = client_for(app, "elena")
    html = client.get(f"/indicators?{Q1}&programme={town.tilde.id}").get_data(as_text=True)
    section = html[html.index('id="services-summary"'):]
    assert ">Servizi del territorio<" in section
    assert "66,7%" in section and "33,3%" in section and "10,0" in section
    assert f'href="/mappatura?start=2026-01-01&amp;end=2026-03-31&amp;programme={town.tilde.id}"' in section
    report = client.get(f"/indicators/report?{Q1}&programme={town.tilde.id}").get_data(as_text=True)
    assert ">Servizi del territorio<" in report and "Scoperture" in report


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_data(app, town):
    client = client_for(app, "elena")
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries(period: str) -> int:
        statements.clear()
        engine = app.extensions["casework"]["engine"]
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/mappatura?{period}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    assert queries("start=01/01/2024&end=31/01/2024") == queries(Q1) == queries(Q1 + f"&programme={town.tilde.id}") - 1
