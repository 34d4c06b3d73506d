"""The case file on the web: timeline, journal, équipe, documents and the workflow diagram, per role."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import abort, render_template_string
from flask_login import login_required
from sqlalchemy import select

from casework.clock import Clock
from casework.models import AccessLogEntry, Document, JournalEntry, Pact, PactMember
from casework.pacts import casefile
from casework.security.access import get_visible_beneficiary, get_visible_pact
from casework.security.audit import record_changes
from casework.web import context
from tests.conftest import ZONE
from tests.support import advance
from tests.web.conftest import csrf_token, sign_in, submit

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"
SVG = "{http://www.w3.org/2000/svg}"


# --- Helpers ---------------------------------------------------------------------------


@pytest.fixture
def pages(app):
    """Stand-ins for the pact and beneficiary pages (written elsewhere) that include our partials."""

    @login_required
    def pact_page(pact_id: int):
        pact = get_visible_pact(context.db(), context.actor(), pact_id) or abort(404)
        return render_template_string('{% include "pacts/casefile/_panels.html" ignore missing %}', pact=pact)

    @login_required
    def person_page(beneficiary_id: int):
        beneficiary = get_visible_beneficiary(context.db(), context.actor(), beneficiary_id) or abort(404)
        return render_template_string('{% include "pacts/casefile/_beneficiary_documents.html" ignore missing %}',
                                      beneficiary=beneficiary)

    app.add_url_rule("/test/pacts/<int:pact_id>", "test_pact_page", pact_page)
    app.add_url_rule("/test/beneficiaries/<int:beneficiary_id>", "test_person_page", person_page)


def client_for(app, username: str, *, english: bool = True):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    if english:
        client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/")})
    return client


def post(client, url: str, data: dict, **kwargs):
    return submit(client, url, data, form_page="/", **kwargs)


def version(db, pact_id: int) -> int:
    db.expire_all()
    return db.get(Pact, pact_id).version


def access_log(db, action: str | None = None) -> list[AccessLogEntry]:
    db.expire_all()
    query = select(AccessLogEntry).order_by(AccessLogEntry.id)
    if action:
        query = query.where(AccessLogEntry.action == action)
    return list(db.scalars(query))


def registry(app):
    return app.extensions["casework"]["registry"]


def local_input(moment: datetime) -> str:
    """How a browser sends a time typed in Rome into a datetime-local field."""
    return moment.astimezone(ZoneInfo("Europe/Rome")).strftime("%Y-%m-%dT%H:%M")


def add_colleague(db, people, user=None):
    pact = db.get(Pact, people.pact.id)
    member = casefile.add_colleague(db, pact, db.get(type(people.colleague), (user or people.colleague).id),
                                    "psicologo", actor=db.get(type(people.manager), people.manager.id),
                                    clock=Clock(datetime.now(UTC), ZONE))
    db.commit()
    return member


def upload(client, url: str, content: bytes, name: str, kind: str = "other"):
    return post(client, url, {"document-kind": kind, "document-file": (io.BytesIO(content), name)},
                content_type="multipart/form-data")


def stored_documents(db) -> list[Document]:
    db.expire_all()
    return list(db.scalars(select(Document).order_by(Document.id)))


# --- Timeline --------------------------------------------------------------------------


def test_the_timeline_shows_what_happened_newest_first(app, client_and_people, db):
    _, people = client_and_people
    pact = db.get(Pact, people.pact.id)
    manager = db.get(type(people.manager), people.manager.id)
    now = datetime.now(UTC)
    advance(db, registry(app), pact, "start_screening", manager, Clock(now + timedelta(seconds=1), ZONE))
    casefile.add_journal_entry(db, pact, kind=casefile.JournalKind.HOME_VISIT, at=now + timedelta(seconds=2),
                               text="Visita domiciliare con la madre", actor=manager, now=now + timedelta(seconds=3))
    db.commit()
    client = client_for(app, "giulia")

    page = client.get(f"/pacts/{pact.id}/timeline")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    order = [html.index(text) for text in ("Journal: Home visit", "Start screening", "Referral recorded",
                                           "Pact opened in the stage Referral")]
    assert order == sorted(order)
    assert "Visita domiciliare con la madre" in html and "From Referral to Screening" in html
    assert "Giulia Rossi" in html
    [entry] = [e for e in access_log(db) if e.detail == "timeline"]
    assert (entry.user_id, entry.action, entry.subject_type, entry.subject_id) == (
        people.manager.id, "view", "pact", pact.id)


def test_edits_are_shown_as_people_read_them(app, client_and_people, db):
    _, people = client_and_people
    editor = db.get(type(people.supervisor), people.supervisor.id)
    now = datetime.now(UTC)
    record_changes(db, "beneficiary", people.beneficiary.id,
                   {"birth_date": None, "migrant_background": False, "gender": "other"},
                   {"birth_date": "1985-04-03", "migrant_background": True, "gender": "female"}, actor=editor, now=now)
    db.commit()
    html = client_for(app, "giulia").get(f"/pacts/{people.pact.id}/timeline").get_data(as_text=True)
    assert "Personal data changed: date of birth" in html
    assert "Before: —" in html and "After: 03/04/1985" in html
    assert "Before: no" in html and "After: yes" in html
    assert "Before: Other gender" in html and "After: Female" in html  # labels as written everywhere
    assert "Elena Rossi" in html


@pytest.mark.parametrize(("username", "status"), [
    ("giulia", 200), ("elena", 200), ("marco", 404), ("paolo", 404), ("admin", 404),
])
def test_the_timeline_page_is_only_for_who_may_see_the_pact(app, client_and_people, db, username, status):
    _, people = client_and_people
    client = client_for(app, username)
    assert client.get(f"/pacts/{people.pact.id}/timeline").status_code == status
    assert len([e for e in access_log(db, "view") if e.subject_type == "pact"]) == (1 if status == 200 else 0)


def test_an_unknown_pact_answers_404(app, client_and_people):
    client = client_for(app, "giulia")
    assert client.get("/pacts/9999/timeline").status_code == 404
    assert post(client, "/pacts/9999/journal", {"journal-text": "x"}).status_code == 404


# --- Journal ---------------------------------------------------------------------------


def test_a_journal_entry_is_saved(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    at = datetime.now(UTC) - timedelta(hours=2)
    response = post(client, f"/pacts/{people.pact.id}/journal", {
        "journal-kind": "phone_call", "journal-at": local_input(at), "journal-text": "  Telefonata alla scuola ",
    })
    assert response.status_code == 302
    entry = db.scalars(select(JournalEntry)).one()
    assert (entry.kind.value, entry.text, entry.author_id, entry.pact_id) == (
        "phone_call", "Telefonata alla scuola", people.manager.id, people.pact.id)
    assert entry.at == at.replace(second=0, microsecond=0)


TOMORROW = local_input(datetime.now(UTC) + timedelta(days=1))


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"journal-text": ""}, "journal-text", "Write what happened."),
    ({"journal-text": "domani", "journal-at": TOMORROW}, "journal-at", "The date and time cannot be in the future."),
    ({"journal-text": "x", "journal-at": "non è una data"}, "journal-at", "Not a valid datetime value."),
    ({"journal-text": "x", "journal-kind": "gossip"}, "journal-kind", "Not a valid choice."),
], ids=["no-text", "future", "not-a-date", "unknown-kind"])
def test_a_bad_journal_entry_is_sent_back_with_the_error_next_to_the_field(app, client_and_people, db, data, field,
                                                                          message):
    _, people = client_and_people
    client = client_for(app, "giulia")
    an_hour_ago = local_input(datetime.now(UTC) - timedelta(hours=1))
    form = {"journal-kind": "note", "journal-at": an_hour_ago, **data}

    response = post(client, f"/pacts/{people.pact.id}/journal", form)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert re.search(f'aria-describedby="[^"]*{field}-error"', html)
    assert message in html
    # The error is summed up on top too, linked to its field.
    assert re.search(rf'data-error-summary[^>]*>.*<a href="#{field}">[^<]*: {re.escape(message)}</a>', html, re.S)
    if form["journal-text"]:
        assert form["journal-text"] in html  # the person's text is kept
    assert db.scalars(select(JournalEntry)).all() == []


def test_a_journal_entry_needs_the_csrf_token(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    response = client.post(f"/pacts/{people.pact.id}/journal", data={"journal-kind": "note", "journal-text": "x"})
    assert response.status_code == 400
    assert db.scalars(select(JournalEntry)).all() == []


def test_who_may_not_see_the_pact_cannot_write_in_its_journal(app, client_and_people, db):
    _, people = client_and_people
    for username in ("marco", "paolo", "admin"):
        response = post(client_for(app, username), f"/pacts/{people.pact.id}/journal",
                        {"journal-kind": "note", "journal-at": local_input(datetime.now(UTC)),
                         "journal-text": "intrusione"})
        assert response.status_code == 404
    assert db.scalars(select(JournalEntry)).all() == []


# --- Équipe ----------------------------------------------------------------------------


def test_a_colleague_added_to_the_equipe_sees_the_pact_and_removed_no_longer(app, client_and_people, db):
    _, people = client_and_people
    pact_id = people.pact.id
    manager, colleague = client_for(app, "giulia"), client_for(app, "marco")
    assert colleague.get(f"/pacts/{pact_id}/timeline").status_code == 404

    response = post(manager, f"/pacts/{pact_id}/equipe/colleagues", {
        "colleague-user": str(people.colleague.id), "colleague-role": "psicologo",
        "colleague-version": str(version(db, pact_id)),
    })
    assert response.status_code == 302
    assert colleague.get(f"/pacts/{pact_id}/timeline").status_code == 200

    member = db.scalars(select(PactMember)).one()
    response = post(manager, f"/pacts/{pact_id}/equipe/remove", {
        "remove-member": str(member.id), "remove-version": str(version(db, pact_id)),
    })
    assert response.status_code == 302
    assert db.scalars(select(PactMember)).all() == []
    assert colleague.get(f"/pacts/{pact_id}/timeline").status_code == 404
    timeline = manager.get(f"/pacts/{pact_id}/timeline").get_data(as_text=True)
    assert "Removed from the équipe: Marco Rossi (psicologo)" in timeline
    assert "Added to the équipe: Marco Rossi (psicologo)" in timeline


def test_an_external_contact_joins_the_equipe(app, client_and_people, db):
    _, people = client_and_people
    response = post(client_for(app, "giulia"), f"/pacts/{people.pact.id}/equipe/contacts", {
        "external-name": "Prof.ssa Neri", "external-role": "insegnante", "external-organisation": "IC Settimo",
        "external-contact": "neri@example.org", "external-version": str(version(db, people.pact.id)),
    })
    assert response.status_code == 302
    member = db.scalars(select(PactMember)).one()
    assert (member.user_id, member.external_name, member.role, member.organisation, member.contact) == (
        None, "Prof.ssa Neri", "insegnante", "IC Settimo", "neri@example.org")


def test_a_bad_equipe_form_is_sent_back_with_errors(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    current = str(version(db, people.pact.id))
    missing_name = post(client, f"/pacts/{people.pact.id}/equipe/contacts",
                        {"external-name": "", "external-role": "mediatrice", "external-version": current})
    assert missing_name.status_code == 422
    html = missing_name.get_data(as_text=True)
    assert 'id="external-name-error"' in html and "Write the name." in html and 'value="mediatrice"' in html

    # A supervisor of another territory is not among the choices.
    elsewhere = post(client, f"/pacts/{people.pact.id}/equipe/colleagues", {
        "colleague-user": str(people.other_supervisor.id), "colleague-role": "coordinatore",
        "colleague-version": current})
    assert elsewhere.status_code == 422
    assert 'id="colleague-user-error"' in elsewhere.get_data(as_text=True)
    assert db.scalars(select(PactMember)).all() == []


def test_an_equipe_change_from_a_stale_page_is_refused_with_the_input_kept(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    stale = str(version(db, people.pact.id))
    add_colleague(db, people, people.supervisor)  # someone else changed the pact meanwhile

    response = post(client, f"/pacts/{people.pact.id}/equipe/contacts", {
        "external-name": "Dott. Bassi", "external-role": "mediatore culturale", "external-version": stale})

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else changed this pact" in html
    assert 'value="Dott. Bassi"' in html and 'value="mediatore culturale"' in html
    assert [m.external_name for m in db.scalars(select(PactMember))] == [""]

    member = db.scalars(select(PactMember)).one()
    removal = post(client, f"/pacts/{people.pact.id}/equipe/remove",
                   {"remove-member": str(member.id), "remove-version": stale})
    assert removal.status_code == 409
    assert db.scalars(select(PactMember)).one().id == member.id


def test_a_colleague_on_the_equipe_may_not_change_it_but_a_supervisor_may(app, client_and_people, db):
    _, people = client_and_people
    member = add_colleague(db, people)
    current = str(version(db, people.pact.id))
    colleague = client_for(app, "marco")
    assert post(colleague, f"/pacts/{people.pact.id}/equipe/contacts",
                {"external-name": "Ada", "external-role": "mediatrice", "external-version": current}).status_code == 403
    assert post(colleague, f"/pacts/{people.pact.id}/equipe/remove",
                {"remove-member": str(member.id), "remove-version": current}).status_code == 403

    supervisor = client_for(app, "elena")
    assert post(supervisor, f"/pacts/{people.pact.id}/equipe/remove",
                {"remove-member": str(member.id), "remove-version": current}).status_code == 302
    assert db.scalars(select(PactMember)).all() == []


def test_strangers_cannot_touch_the_equipe(app, client_and_people, db):
    _, people = client_and_people
    for username in ("paolo", "admin"):
        response = post(client_for(app, username), f"/pacts/{people.pact.id}/equipe/contacts",
                        {"external-name": "X", "external-role": "Y", "external-version": "1"})
        assert response.status_code == 404
    assert db.scalars(select(PactMember)).all() == []


# --- Documents -------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "name", "content_type"), [
    (PDF, "patto firmato.pdf", "application/pdf"), (PNG, "scansione.png", "image/png"),
    (JPEG, "foto.JPG", "image/jpeg"),
], ids=["pdf", "png", "jpeg"])
def test_good_files_are_uploaded_to_the_pact(app, client_and_people, db, content, name, content_type):
    _, people = client_and_people
    response = upload(client_for(app, "giulia"), f"/pacts/{people.pact.id}/documents", content, name, "signed_pact")
    assert response.status_code == 302
    [document] = stored_documents(db)
    assert (document.pact_id, document.original_name, document.content_type, document.kind.value) == (
        people.pact.id, name, content_type, "signed_pact")
    folder = app.extensions["casework"]["settings"].instance_dir / "documents"
    assert [p.name for p in folder.iterdir()] == [document.stored_name]
    assert (folder / document.stored_name).read_bytes() == content


@pytest.mark.parametrize(("content", "name", "message"), [
    (EXE, "programma.pdf", "does not match its extension"),
    (HTML, "pagina.pdf", "does not match its extension"),
    (EXE, "programma.exe", "Only PDF, JPEG and PNG files can be uploaded."),
    (b"", "vuoto.pdf", "The file is empty."),
], ids=["exe-renamed", "html-renamed", "exe", "empty"])
def test_files_that_are_not_what_they_claim_are_refused(app, client_and_people, db, content, name, message):
    _, people = client_and_people
    response = upload(client_for(app, "giulia"), f"/pacts/{people.pact.id}/documents", content, name)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'id="document-file-error"' in html
    assert stored_documents(db) == []


def test_a_missing_file_is_asked_for(app, client_and_people, db):
    _, people = client_and_people
    response = post(client_for(app, "giulia"), f"/pacts/{people.pact.id}/documents", {"document-kind": "other"},
                    content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a file." in response.get_data(as_text=True)


def test_a_file_over_the_limit_is_refused_with_413(app, client_and_people, db):
    _, people = client_and_people
    limit = app.extensions["casework"]["settings"].max_upload_mb * 1024 * 1024
    response = upload(client_for(app, "giulia"), f"/pacts/{people.pact.id}/documents", PDF + b"\x00" * limit,
                      "enorme.pdf")
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)
    assert stored_documents(db) == []


def test_a_document_of_the_person_is_uploaded_and_listed(app, client_and_people, db, pages):
    _, people = client_and_people
    client = client_for(app, "giulia")
    response = upload(client, f"/beneficiaries/{people.beneficiary.id}/documents", PDF, "carta d'identità.pdf",
                      "id_document")
    assert response.status_code == 302
    [document] = stored_documents(db)
    assert (document.beneficiary_id, document.pact_id) == (people.beneficiary.id, None)

    for url in (f"/beneficiaries/{people.beneficiary.id}/documents", f"/test/beneficiaries/{people.beneficiary.id}"):
        html = client.get(url).get_data(as_text=True)
        assert f'href="/documents/{document.id}"' in html and "Identity document" in html
        assert 'enctype="multipart/form-data"' in html and 'name="document-file"' in html
    assert client.get(f"/beneficiaries/{people.beneficiary.id}/documents").status_code == 200
    assert client_for(app, "marco").get(f"/beneficiaries/{people.beneficiary.id}/documents").status_code == 404
    assert upload(client_for(app, "paolo"), f"/beneficiaries/{people.beneficiary.id}/documents", PDF,
                  "x.pdf").status_code == 404


def test_a_bad_person_document_is_sent_back(app, client_and_people, db):
    _, people = client_and_people
    response = upload(client_for(app, "giulia"), f"/beneficiaries/{people.beneficiary.id}/documents", HTML, "x.pdf")
    assert response.status_code == 422 and "does not match its extension" in response.get_data(as_text=True)
    assert stored_documents(db) == []


@pytest.mark.parametrize(("username", "status"), [
    ("giulia", 200), ("elena", 200), ("marco", 404), ("paolo", 404), ("admin", 404),
])
def test_a_download_is_allowed_per_role_and_logged(app, client_and_people, db, username, status):
    _, people = client_and_people
    upload(client_for(app, "giulia"), f"/pacts/{people.pact.id}/documents", PDF, 'patto; firmato: di Maria.pdf')
    [document] = stored_documents(db)

    response = client_for(app, username).get(f"/documents/{document.id}")

    assert response.status_code == status
    downloads = access_log(db, "download")
    if status == 200:
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Disposition"] == 'attachment; filename="patto_ firmato_ di Maria.pdf"'
        assert "no-store" in response.headers["Cache-Control"]
        [entry] = downloads
        user_id = {"giulia": people.manager.id, "elena": people.supervisor.id}[username]
        assert (entry.user_id, entry.subject_type, entry.subject_id) == (user_id, "document", document.id)
        assert f"pact {people.pact.id}" in entry.detail
    else:
        assert downloads == []


def test_a_download_name_out_of_ascii_is_sent_both_ways(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    upload(client, f"/pacts/{people.pact.id}/documents", PNG, "attività è.png")
    [document] = stored_documents(db)
    disposition = client.get(f"/documents/{document.id}").headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="attivita e.png"' in disposition and "filename*=UTF-8''attivit%C3%A0%20%C3%A8.png" in disposition


def test_an_unknown_or_lost_document_answers_404(app, client_and_people, db):
    _, people = client_and_people
    client = client_for(app, "giulia")
    assert client.get("/documents/9999").status_code == 404
    upload(client, f"/pacts/{people.pact.id}/documents", PDF, "patto.pdf")
    [document] = stored_documents(db)
    (app.extensions["casework"]["settings"].instance_dir / "documents" / document.stored_name).unlink()
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert access_log(db, "download") == []


# --- Workflow diagram ------------------------------------------------------------------


def test_the_workflow_diagram_shows_where_the_pact_is(app, client_and_people, db):
    _, people = client_and_people
    pact = db.get(Pact, people.pact.id)
    advance(db, registry(app), pact, "start_screening", db.get(type(people.manager), people.manager.id),
            Clock(datetime.now(UTC), ZONE))
    response = client_for(app, "giulia").get(f"/pacts/{pact.id}/workflow.svg")

    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.data)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Workflow of the pact: Personalised pact"
    assert "Current stage: Screening." in root.find(f"{SVG}desc").text
    assert "Stages already passed: Referral." in root.find(f"{SVG}desc").text
    classes = {g.get("data-state"): g.get("class") for g in root.iter(f"{SVG}g") if g.get("data-state")}
    assert classes["screening"] == "state current" and classes["referral"] == "state taken"
    [entry] = [e for e in access_log(db, "view") if e.detail == "workflow diagram"]
    assert entry.subject_id == pact.id


def test_the_diagram_is_in_italian_by_default(app, client_and_people):
    _, people = client_and_people
    root = ET.fromstring(client_for(app, "giulia", english=False).get(f"/pacts/{people.pact.id}/workflow.svg").data)
    labels = " ".join("".join(root.itertext()).split())
    assert "Segnalazione" in labels and "Co-progettazione" in labels


@pytest.mark.parametrize("username", ["marco", "paolo", "admin"])
def test_the_diagram_is_hidden_from_who_may_not_see_the_pact(app, client_and_people, db, username):
    _, people = client_and_people
    assert client_for(app, username).get(f"/pacts/{people.pact.id}/workflow.svg").status_code == 404
    assert access_log(db, "view") == []


# --- The panels on the pact page -------------------------------------------------------


def test_the_pact_page_panels_show_the_case_file(app, client_and_people, db, pages):
    _, people = client_and_people
    client = client_for(app, "giulia")
    upload(client, f"/pacts/{people.pact.id}/documents", PDF, "patto.pdf")
    [document] = stored_documents(db)

    html = client.get(f"/test/pacts/{people.pact.id}").get_data(as_text=True)

    for section in ("timeline", "journal", "equipe", "documents", "workflow"):
        assert f'<section id="{section}"' in html
    assert "Pact opened in the stage Referral" in html and "Document uploaded: Other document" in html
    assert f'href="/documents/{document.id}"' in html
    assert 'name="journal-text"' in html and 'name="document-file"' in html
    choices = dict(re.findall(r'<option value="(\d+)">([^<]+)</option>', html))
    assert set(choices) == {str(people.colleague.id), str(people.supervisor.id)}
    assert 'name="external-name"' in html
    svg = ET.fromstring(html[html.index("<svg"):html.index("</svg>") + len("</svg>")])
    assert svg.get("role") == "img"
    assert "style=" not in html  # the Content-Security-Policy forbids inline styles


def test_the_panels_offer_no_equipe_changes_to_a_colleague_on_the_equipe(app, client_and_people, db, pages):
    _, people = client_and_people
    add_colleague(db, people)
    html = client_for(app, "marco").get(f"/test/pacts/{people.pact.id}").get_data(as_text=True)
    assert "Marco Rossi" in html and "psicologo" in html
    assert 'name="external-name"' not in html and 'name="remove-member"' not in html
    assert 'name="journal-text"' in html  # the équipe writes in the journal


def test_the_panels_list_members_with_a_remove_button_for_the_case_manager(app, client_and_people, db, pages):
    _, people = client_and_people
    member = add_colleague(db, people)
    html = client_for(app, "giulia").get(f"/test/pacts/{people.pact.id}").get_data(as_text=True)
    assert f'name="remove-member" value="{member.id}"' in html
    assert f'name="remove-version" value="{version(db, people.pact.id)}"' in html
    assert "Remove Marco Rossi" in html
    choices = dict(re.findall(r'<option value="(\d+)">([^<]+)</option>', html))
    assert set(choices) == {str(people.supervisor.id)}


def test_the_timeline_panel_keeps_the_latest_twenty_and_links_the_rest(app, client_and_people, db, pages):
    _, people = client_and_people
    pact = db.get(Pact, people.pact.id)
    author = db.get(type(people.manager), people.manager.id)
    now = datetime.now(UTC)
    for minutes in range(25):
        casefile.add_journal_entry(db, pact, kind=casefile.JournalKind.NOTE, at=now - timedelta(minutes=minutes),
                                   text=f"nota numero {minutes}", actor=author, now=now)
    db.commit()
    client = client_for(app, "giulia")
    panel = client.get(f"/test/pacts/{pact.id}").get_data(as_text=True)
    # The opening of the pact is among the latest twenty, between the first and the second note.
    assert "nota numero 18" in panel and "nota numero 19" not in panel
    assert f'href="/pacts/{pact.id}/timeline"' in panel
    full = client.get(f"/pacts/{pact.id}/timeline").get_data(as_text=True)
    assert "nota numero 24" in full
