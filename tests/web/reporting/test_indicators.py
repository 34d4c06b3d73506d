"""The indicators page and the funder report, as a supervisor uses them, on both databases."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from casework.models import (
    AccessLogEntry,
    Beneficiary,
    Gender,
    GoalsAchieved,
    Programme,
    ProgrammeTarget,
    Role,
    Territory,
    TerritoryKind,
    User,
)
from casework.security.passwords import hash_password
from casework.web import context
from tests.reporting.test_indicators import TRIAL_WORKFLOW, Builder, at
from tests.web.conftest import PASSWORD, csrf_token, sign_in, static_url

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # Friday 20 March 2026, 10:00 in Rome


@pytest.fixture
def app(engine, tmp_path, monkeypatch):
    """The web app on the `engine` fixture's database, with the trial workflow and a fixed clock."""
    from casework.web import create_app

    workflows = tmp_path / "workflows"
    workflows.mkdir()
    (workflows / "percorso_prova.yaml").write_text(TRIAL_WORKFLOW, encoding="utf-8")
    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False), "workflows_path": str(workflows),
    })
    monkeypatch.setattr(context, "now", lambda: NOW)
    yield app
    app.extensions["casework"]["engine"].dispose()


@pytest.fixture
def town(db):
    """A supervisor's union with a programme of three pacts, and a programme elsewhere."""
    area = Territory(name="Unione NET", kind=TerritoryKind.UNIONE)
    settimo = Territory(name="Settimo Torinese", kind=TerritoryKind.COMUNE, istat_code="001265", parent=area)
    lodi_area = Territory(name="Ambito di Lodi", kind=TerritoryKind.AMBITO)
    digest = hash_password(PASSWORD)

    def user(username: str, role: Role, territory: Territory) -> User:
        return User(username=username, full_name=username.title() + " Rossi", email=f"{username}@example.org",
                    password_hash=digest, role=role, territory=territory)

    supervisor, manager = user("elena", Role.SUPERVISOR, area), user("giulia", Role.CASE_MANAGER, area)
    admin = user("admin", Role.ADMIN, area)
    tilde = Programme(code="TILDE", name="TILDE Settimo", funder="Fondazione Cariplo", territory=area,
                      starts_on=date(2025, 1, 1), workflow_name="percorso_prova", targets=[
                          ProgrammeTarget(indicator="beneficiaries", value=Decimal(2)),
                          ProgrammeTarget(indicator="share_women", value=Decimal("0.80")),
                      ])
    lodi = Programme(code="CHANCE", name="CHANCE Lodi", funder="-", territory=lodi_area,
                     starts_on=date(2025, 1, 1), workflow_name="percorso_prova")
    maria = Beneficiary(first_name="Maria", last_name="Bianchi", gender=Gender.FEMALE, comune=settimo)
    luca = Beneficiary(first_name="Luca", last_name="Verdi", gender=Gender.MALE, comune=settimo)
    db.add_all([area, settimo, lodi_area, supervisor, manager, admin, tilde, lodi, maria, luca])
    db.flush()
    build = Builder(db, manager)
    # Maria: referred 2 February, screened on the 12th (10 days), closed with work found in March.
    first = build.pact(maria, tilde, at(2026, 2, 3), closed=True, path=[
        ("screening", at(2026, 2, 5)), ("co_design", at(2026, 2, 14)), ("activation", at(2026, 2, 20)),
        ("follow_up", at(2026, 2, 25)), ("closed", at(2026, 3, 10))])
    build.referral(first, date(2026, 2, 2))
    build.screening(first, at(2026, 2, 12))
    build.outcome(first, "work_entered", GoalsAchieved.FULLY)
    # Luca: opened in March, still at the referral.
    build.pact(luca, tilde, at(2026, 3, 2))
    db.commit()
    return {"tilde": tilde, "lodi": lodi, "settimo": settimo}


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def text_of(html: str) -> str:
    """The page's words, tags and repeated spaces removed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_supervisor_sees_the_indicators_of_the_year_so_far(app, town):
    response = client_for(app, "elena").get("/indicators")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text_of(page)
    # The period defaults to 1 January to today, written as Italians do.
    assert 'value="01/01/2026"' in page and 'value="20/03/2026"' in page
    assert "All programmes · All territories · from 01/01/2026 to 20/03/2026" in words
    # Two people reached, half of them women; the funnel and the days to screening.
    assert "People reached 2" in words
    assert "Women 1 50%" in words
    assert "Referral 2 100%" in words and "Screening 1 50%" in words
    assert "First screening completed 1 10.0 10.0" in words
    assert "Entered work 1 100%" in words
    # Each chart is an image with a name, its numbers written on it.
    assert page.count('role="img"') == 10
    assert '<title id="chart-gender-title">People reached by gender</title>' in page
    # No programme chosen: targets wait for one, and there is no funder report to print.
    assert "Choose a programme to compare its targets with the results." in words
    assert "/indicators/report" not in page


def test_with_a_programme_targets_are_marked_met_or_not_in_words(app, town):
    client = client_for(app, "elena")
    tilde = town["tilde"]
    page = client.get(f"/indicators?programme={tilde.id}&start=01/01/2026&end=31/03/2026").get_data(as_text=True)
    words = text_of(page)
    assert "People reached 2 2 ✓ Met" in words
    assert "Share of women 80% 50% ✗ Not met" in words
    assert f'href="/indicators/report?start=2026-01-01&amp;end=2026-03-31&amp;programme={tilde.id}"' in page


def test_other_roles_may_not_open_the_indicators(app, town):
    for username in ("giulia", "admin"):
        client = app.test_client()
        assert sign_in(client, username).status_code == 302
        assert client.get("/indicators").status_code == 403
        assert client.get(f"/indicators/report?programme={town['tilde'].id}").status_code == 403


@pytest.mark.parametrize("query, field, message", [
    ("start=31/02/2026&end=20/03/2026", "start", "Write the date as dd/mm/yyyy, e.g. 17/05/1990."),
    ("start=&end=20/03/2026", "start", "Enter a date as dd/mm/yyyy."),
    ("start=01/03/2026&end=01/02/2026", "end", "The end of the period cannot come before its start."),
    ("start=01/01/0001&end=20/03/2026", "start", "Choose a date between 1900 and 2999."),
])
def test_a_bad_period_is_explained_next_to_the_field(app, town, query, field, message):
    response = client_for(app, "elena").get(f"/indicators?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert re.search(rf'id="{field}-error"[^>]*>{re.escape(message)}<', page)
    assert 'role="img"' not in page  # no figures for a period that does not make sense


def test_a_programme_the_supervisor_does_not_oversee_is_refused(app, town):
    client = client_for(app, "elena")
    for programme in (town["lodi"].id, "abc"):
        response = client.get(f"/indicators?programme={programme}")
        assert response.status_code == 400
        assert re.search(r'id="programme-error"[^>]*>', response.get_data(as_text=True))
    assert "Choose one of the programmes in the list." in client.get(
        f"/indicators?programme={town['lodi'].id}").get_data(as_text=True)


def test_the_funder_report_prints_a_programme_and_is_logged(app, db, town):
    tilde = town["tilde"]
    client = client_for(app, "elena")
    response = client.get(f"/indicators/report?programme={tilde.id}&start=2026-01-01&end=2026-03-31")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    words = text_of(page)
    assert "Funder report" in words and "TILDE Settimo" in words
    assert "Funder Fondazione Cariplo" in words
    assert "Period from 01/01/2026 to 31/03/2026" in words
    assert "Produced on 20/03/2026 10:00 by Elena Rossi" in words  # Rome time
    assert "People reached 2 2 ✓ Met" in words
    assert key_figures(page)[0] == "People reached 2 target 2 (100% reached) Details : People reached"
    assert f'href="{static_url(app, "print.css")}"' in page and 'role="img"' in page
    logged = db.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "export")).all()
    assert [(entry.subject_type, entry.subject_id, entry.detail) for entry in logged] == [
        ("programme", tilde.id, "funder report 2026-01-01..2026-03-31, all territories"),
    ]


def test_the_funder_report_needs_a_programme(app, town):
    response = client_for(app, "elena").get("/indicators/report?start=2026-01-01&end=2026-03-31")
    assert response.status_code == 400
    assert re.search(r'id="programme-error"[^>]*>Choose a programme to produce its funder report\.<',
                     response.get_data(as_text=True))


def test_export_links_appear_once_the_export_pages_exist(app, town):
    if "exports.indicators_xlsx" not in app.view_functions:
        # Stand-ins with the endpoints the exports pages have.
        app.add_url_rule("/exports/indicators.xlsx", endpoint="exports.indicators_xlsx", view_func=lambda: "")
        app.add_url_rule("/exports/indicators/<key>.csv", endpoint="exports.indicator_csv", view_func=lambda key: "")
    page = client_for(app, "elena").get(f"/indicators?programme={town['tilde'].id}&start=2026-01-01&end=2026-03-31")
    html = page.get_data(as_text=True)
    query = f"start=2026-01-01&amp;end=2026-03-31&amp;programme={town['tilde'].id}"
    assert f'href="/exports/indicators.xlsx?{query}"' in html
    assert f'href="/exports/indicators/gender.csv?{query}"' in html


def test_without_the_export_pages_there_are_no_export_links(app, town):
    app.view_functions.pop("exports.indicators_xlsx", None)
    html = client_for(app, "elena").get("/indicators").get_data(as_text=True)
    assert "XLSX" not in html and "CSV" not in html


def key_figures(page: str) -> list[str]:
    """Each key figure's words: label, figure, what it is measured against."""
    start = page.index('<dl class="key-figures">')
    block = page[start:page.index("</dl>", start)]
    return [text_of(item).strip() for item in re.split(r'<div class="key-figure"[^>]*>', block)[1:]]


def test_the_page_opens_with_key_figures_in_words_then_the_contents(app, town):
    tilde = town["tilde"]
    page = client_for(app, "elena").get(
        f"/indicators?programme={tilde.id}&start=01/01/2026&end=31/03/2026").get_data(as_text=True)
    # Maria and Luca reached against a target of 2; Luca's pact is still open on 31 March; Maria's pact
    # was never signed and had no deadlines.
    assert key_figures(page) == [
        "People reached 2 target 2 (100% reached) Details : People reached",
        "Share of women 50% 1 woman of 2 people reached Details : Share of women",
        "Pacts open 1 on 31/03/2026 Details : Pacts open",
        "Deadlines met on time — no deadline fell due in the period Details : Deadlines met on time",
        "Median days to signature — no pact signed yet Details : Median days to signature",
    ]
    assert '<meter class="key-figure-meter" aria-hidden="true" min="0" value="2" max="2">' in page
    assert page.index('id="key-figures"') < page.index('id="contents"') < page.index('id="table-targets"')
    # The contents link every table's section, and each figure links the table that details it.
    contents = page[page.index('id="contents"'):page.index("</nav>", page.index('id="contents"'))]
    assert re.findall(r'href="#table-(\w+)"', contents) == [
        "targets", "reached", "gender", "age_band", "migrant_background", "comune", "funnel", "durations",
        "deadlines", "outcomes", "goals_achieved", "withdrawals", "trend",
    ]
    for key in ("targets", "gender", "reached", "deadlines", "durations"):
        assert f'id="table-{key}"' in page


def test_without_a_target_the_key_figures_say_so(app, db, town):
    client = client_for(app, "elena")
    every = client.get("/indicators?start=01/01/2026&end=31/03/2026").get_data(as_text=True)
    assert key_figures(every)[0] == ("People reached 2 choose a programme to compare with its target "
                                     "Details : People reached")
    assert "<meter" not in every
    tilde = town["tilde"]
    for target in list(tilde.targets):
        db.delete(target)
    db.commit()
    page = client.get(f"/indicators?programme={tilde.id}&start=01/01/2026&end=31/03/2026").get_data(as_text=True)
    assert key_figures(page)[0] == "People reached 2 no target set Details : People reached"


def test_the_key_figures_in_italian(app, town):
    client = app.test_client()
    assert sign_in(client, "elena").status_code == 302
    page = client.get(f"/indicators?programme={town['tilde'].id}&start=01/01/2026&end=31/03/2026")
    figures = key_figures(page.get_data(as_text=True))
    assert figures[0] == "Persone raggiunte 2 obiettivo 2 (100% raggiunto) Dettagli : Persone raggiunte"
    assert figures[1] == "Quota di donne 50% 1 donna su 2 persone raggiunte Dettagli : Quota di donne"
    assert figures[2] == "Patti aperti 1 al 31/03/2026 Dettagli : Patti aperti"


def test_the_page_reads_a_fixed_number_of_queries_whatever_the_data(app, db, town, engine):
    from sqlalchemy import event

    client = client_for(app, "elena")
    statements: list[str] = []

    def count(*args):
        statements.append(args[2])

    def queries(period: str) -> int:
        statements.clear()
        listened = app.extensions["casework"]["engine"]
        event.listen(listened, "before_cursor_execute", count)
        try:
            assert client.get(f"/indicators?programme={town['tilde'].id}&{period}").status_code == 200
        finally:
            event.remove(listened, "before_cursor_execute", count)
        return len(statements)

    assert queries("start=01/01/2024&end=31/01/2024") == queries("start=01/01/2026&end=31/03/2026")
