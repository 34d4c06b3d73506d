"""What every form shares: the error summary and its links, the marks on wrong fields, the
script that focuses and counts, and the page for a file too large."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from casework.web.form_limits import TextLimit
from tests.web.conftest import csrf_token, sign_in, static_url


class NoteForm(FlaskForm):
    class Meta:
        csrf = False

    title = StringField("Title", validators=[TextLimit(10)])
    body = TextAreaField("Body", validators=[TextLimit(20)])


PAGE = '{% from "_form.html" import field, error_summary %}{{ error_summary(form, extra) }}{{ field(form.title) }}{{ field(form.body) }}'


def test_the_summary_counts_the_errors_and_links_each_wrong_field(app):
    with app.test_request_context("/", method="POST", data={"title": "t" * 11, "body": "b" * 25}):
        form = NoteForm()
        assert not form.validate()
        html = render_template_string(PAGE, form=form, extra=["Someone else saved first."])
    summary = re.search(r'<div class="alert alert-danger error-summary"[^>]*>', html).group(0)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "data-error-summary" in summary
    assert "Correggi 2 errori" in html  # Italian, the default; the message about no field is not counted
    assert '<a href="#title">Title: Al massimo 10 caratteri (ne hai scritti 11).</a>' in html
    assert '<a href="#body">Body: Al massimo 20 caratteri (ne hai scritti 25).</a>' in html
    assert "<li>Someone else saved first.</li>" in html
    for name in ("title", "body"):
        assert re.search(rf'aria-describedby="{name}-error" aria-invalid="true"[^>]*id="{name}"|'
                         rf'id="{name}"[^>]*aria-invalid="true"', html), name
        assert f'id="{name}-error"' in html
    assert 'maxlength="10"' in html and 'maxlength="20"' in html


def test_a_form_without_errors_has_no_summary(app):
    with app.test_request_context("/", method="POST", data={"title": "ok", "body": "ok"}):
        form = NoteForm()
        assert form.validate()
        html = render_template_string(PAGE, form=form, extra=[])
    assert "data-error-summary" not in html and "aria-invalid" not in html


def test_every_page_loads_the_forms_script_before_the_bootstrap_bundle(app, client_and_people):
    client, _ = client_and_people
    page = client.get("/login").get_data(as_text=True)
    forms_js = static_url(app, "forms.js")
    assert page.index(f'<script src="{forms_js}" defer></script>') < page.index("bootstrap-italia.bundle.min.")
    script = client.get(forms_js)
    assert script.status_code == 200
    source = script.get_data(as_text=True)
    assert "[data-error-summary]" in source and "maxlength" in source and "aria-live" in source


@pytest.fixture
def small_uploads(tmp_path: Path, engine) -> Flask:
    """The application with a 1 MB upload limit, on both databases."""
    from casework.web import create_app

    app = create_app(overrides={
        "env": "testing", "secret_key": "t" * 48, "instance_path": str(tmp_path / "instance"),
        "database_url": engine.url.render_as_string(hide_password=False), "max_upload_mb": 1,
    })
    yield app
    app.extensions["casework"]["engine"].dispose()


def test_a_file_too_large_says_the_limit_and_leads_back_to_the_page(small_uploads, tmp_path):
    client = small_uploads.test_client()
    token = csrf_token(client, "/login")
    two_mb = io.BytesIO(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024))
    response = client.post("/beneficiaries/1/documents", data={"csrf_token": token, "document-file": (two_mb, "a.pdf")},
                           content_type="multipart/form-data",
                           headers={"Referer": "http://localhost/beneficiaries/1?tab=documenti"})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "Il file è più grande di 1 MB, il massimo che Casework accetta." in html
    assert '<a href="/beneficiaries/1?tab=documenti">Torna alla pagina dove eri</a>' in html

    elsewhere = client.post("/beneficiaries/1/documents", data={"csrf_token": token,
                                                                "document-file": (io.BytesIO(b"0" * (2 << 20)), "a.pdf")},
                            content_type="multipart/form-data", headers={"Referer": "https://example.org/x"})
    assert elsewhere.status_code == 413
    assert 'href="https://example.org' not in elsewhere.get_data(as_text=True)
    assert "Torna a Oggi" in elsewhere.get_data(as_text=True)


def test_a_signed_in_person_too_gets_the_limit_and_the_way_back(client_and_people):
    client, people = client_and_people
    sign_in(client, "giulia")
    token = csrf_token(client, "/")
    url = f"/pacts/{people.pact.id}/documents"
    response = client.post(url, data={"csrf_token": token,
                                      "document-file": (io.BytesIO(b"0" * (11 << 20)), "scan.pdf")},
                           content_type="multipart/form-data",
                           headers={"Referer": f"http://localhost/pacts/{people.pact.id}#documents"})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "10 MB" in html and f'href="/pacts/{people.pact.id}"' in html


def test_a_priority_is_written_one_way_on_every_page(app, client_and_people, db):
    """"Media" on the pact page, in the caseload's table and filter, and in the timeline alike."""
    from datetime import UTC, datetime

    from casework.models import Pact, Priority
    from casework.security.audit import record_changes

    client, people = client_and_people
    pact = db.get(Pact, people.pact.id)
    pact.priority = Priority.MEDIUM
    record_changes(db, "pact", pact.id, {"priority": "low"}, {"priority": "medium"},
                   actor=db.get(type(people.supervisor), people.supervisor.id), now=datetime.now(UTC))
    db.commit()
    sign_in(client, "elena")
    pages = {
        "pact": client.get(f"/pacts/{pact.id}").get_data(as_text=True),
        "caseload": client.get("/caseload").get_data(as_text=True),
        "caseload pacts": client.get("/caseload/pacts").get_data(as_text=True),
        "timeline": client.get(f"/pacts/{pact.id}/timeline").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert re.search(r">\s*Media\s*<|: Media\b", html), name
        assert not re.search(r">\s*(media|bassa|alta)\s*<|: (media|bassa|alta)\b", html), name
