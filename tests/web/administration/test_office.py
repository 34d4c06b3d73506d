"""The office identity page (/admin/office): who may open it, the form valid and invalid, the logo
checked by its content, and the name and logo on the printed pact, the funder report and e-mails."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from sqlalchemy import select

from casework.administration import MAX_LOGO_BYTES
from casework.models import AdministrativeLogEntry, OfficeSettings
from tests.web.conftest import csrf_token, sign_in
from tests.web.pacts.test_page import reach

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#06c"/></svg>'
SVG_WITH_SCRIPT = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
SVG_WITH_HANDLER = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
SVG_WITH_ENTITY = b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>'
HTML_NAMED_PNG = b"<html><script>alert(1)</script></html>"


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def registry(app):
    return app.extensions["casework"]["registry"]


def client_for(app, username: str):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": "en", "csrf_token": csrf_token(client, "/login")})
    return client


def save(client, *, logo: tuple[bytes, str] | None = None, version: str | None = None, **fields):
    page = client.get("/admin/office").get_data(as_text=True)
    if version is None:
        version = re.search(r'name="version" type="hidden" value="([^"]*)"', page).group(1)
    data = {"ente_name": "", "letterhead": "", "version": version, "csrf_token": csrf_token(client, "/admin/office"),
            **fields}
    if logo is not None:
        data["logo"] = (io.BytesIO(logo[0]), logo[1])
    return client.post("/admin/office", data=data, content_type="multipart/form-data")


def words(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def log_entries(db) -> list[AdministrativeLogEntry]:
    db.expire_all()
    return list(db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in").order_by(AdministrativeLogEntry.id)))


@pytest.mark.parametrize(("username", "status"), [("admin", 200), ("elena", 403), ("giulia", 403)])
def test_only_administrators_open_the_office_identity(app, db, people, username, status):
    client = client_for(app, username)
    assert client.get("/admin/office").status_code == status
    menu = client.get("/", follow_redirects=True).get_data(as_text=True)
    assert ('href="/admin/office"' in menu) == (username == "admin")
    if username != "admin":
        response = client.post("/admin/office", data={"ente_name": "Comune di Nessuno", "version": "",
                                                      "csrf_token": csrf_token(client, "/")})
        assert response.status_code == 403
        db.expire_all()
        assert db.get(OfficeSettings, 1) is None


def test_signing_in_is_required(app, people):
    client = app.test_client()
    for url in ("/admin/office", "/office/logo"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_administrator_saves_the_identity_with_a_logo_and_it_is_logged(app, db, people):
    client = client_for(app, "admin")
    page = client.get("/admin/office").get_data(as_text=True)
    assert "Until they are set, Casework shows its own name and no logo." in page
    assert client_for(app, "giulia").get("/office/logo").status_code == 404  # no logo yet

    response = save(client, ente_name="  Unione dei Comuni   NET ", letterhead="Via Roma 1\n\nPEC: net@pec.example.it",
                    logo=(PNG, "../../etc/passwd"))
    assert response.status_code == 302 and response.headers["Location"] == "/admin/office"
    page = client.get("/admin/office").get_data(as_text=True)
    assert "The office&#39;s identity is saved." in page or "The office's identity is saved." in page
    assert 'value="Unione dei Comuni NET"' in page and 'src="/office/logo"' in page

    db.expire_all()
    row = db.get(OfficeSettings, 1)
    assert (row.ente_name, row.letterhead, row.logo, row.logo_type) == (
        "Unione dei Comuni NET", "Via Roma 1\n\nPEC: net@pec.example.it", PNG, "image/png")
    [entry] = log_entries(db)
    assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_label) == (
        people.admin.id, "create", "setting", "office identity")
    assert entry.changes["ente_name"] == ["", "Unione dei Comuni NET"]
    assert entry.changes["logo"] == [None, f"image/png, {len(PNG)} bytes"]

    # Any signed-in person's printed pages load the logo, served from the database and never run.
    logo = client_for(app, "giulia").get("/office/logo")
    assert logo.status_code == 200 and logo.data == PNG and logo.mimetype == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in logo.headers["Content-Security-Policy"]

    # A JPEG replaces it, then an SVG; then the logo is removed. Each change is logged.
    assert save(client, ente_name="Unione dei Comuni NET", logo=(JPEG, "stemma.jpg")).status_code == 302
    assert save(client, ente_name="Unione dei Comuni NET", logo=(SVG, "stemma.svg")).status_code == 302
    assert client.get("/office/logo").mimetype == "image/svg+xml"
    assert save(client, ente_name="Unione dei Comuni NET", remove_logo="y").status_code == 302
    assert client.get("/office/logo").status_code == 404
    entries = log_entries(db)
    assert [entry.action for entry in entries] == ["create", "update", "update", "update"]
    assert entries[1].changes["letterhead"] == ["Via Roma 1\n\nPEC: net@pec.example.it", ""]
    assert entries[1].changes["logo"][1].startswith("image/jpeg")
    assert entries[3].changes["logo"] == [f"image/svg+xml, {len(SVG)} bytes", None]


@pytest.mark.parametrize(("logo", "message"), [
    ((HTML_NAMED_PNG, "logo.png"), "Choose a PNG, JPEG or SVG image"),
    ((SVG_WITH_SCRIPT, "logo.svg"), "Choose a PNG, JPEG or SVG image"),
    ((SVG_WITH_HANDLER, "logo.svg"), "Choose a PNG, JPEG or SVG image"),
    ((SVG_WITH_ENTITY, "logo.svg"), "Choose a PNG, JPEG or SVG image"),
    ((b"%PDF-1.7 not an image", "logo.pdf"), "Choose a PNG, JPEG or SVG image"),
    ((PNG + b"\x00" * MAX_LOGO_BYTES, "big.png"), "The logo is too large: at most 512 KB."),
])
def test_a_bad_logo_is_refused_next_to_the_field_and_nothing_is_saved(app, db, people, logo, message):
    client = client_for(app, "admin")
    response = save(client, ente_name="Comune di Volpiano", logo=logo)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="logo-error"[^>]*>' + re.escape(message), page), page
    assert 'value="Comune di Volpiano"' in page  # what was typed is kept
    db.expire_all()
    assert db.get(OfficeSettings, 1) is None and log_entries(db) == []


def test_too_long_texts_are_refused_next_to_their_fields(app, db, people):
    client = client_for(app, "admin")
    response = save(client, ente_name="x" * 201, letterhead="y" * 1001)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="ente_name-error"[^>]*>This is too long\.', page)
    assert re.search(r'id="letterhead-error"[^>]*>This is too long\.', page)
    db.expire_all()
    assert db.get(OfficeSettings, 1) is None


def test_two_administrators_saving_at_once_do_not_overwrite_each_other(app, db, people):
    client = client_for(app, "admin")
    assert save(client, ente_name="Unione NET").status_code == 302
    response = save(client, version="1", ente_name="Unione NET Torino")  # read before the last save
    assert response.status_code == 409
    assert "Another administrator saved the office identity" in words(response)
    assert 'value="Unione NET Torino"' in response.get_data(as_text=True)
    assert save(client, version="abc", ente_name="Unione NET Torino").status_code == 409  # tampered
    db.expire_all()
    assert db.get(OfficeSettings, 1).ente_name == "Unione NET"


def test_the_printed_pact_and_the_funder_report_carry_the_letterhead(app, db, people, registry):
    pact = reach(db, registry, people, "activation")  # signed: it has a revision to print
    manager, supervisor = client_for(app, "giulia"), client_for(app, "elena")
    report_url = f"/indicators/report?programme={people.programme.id}&start=2026-01-01&end={date.today()}"

    # Unset: the product's name, no logo.
    for response in (manager.get(f"/pacts/{pact.id}/print"), supervisor.get(report_url)):
        assert response.status_code == 200
        assert re.search(r'class="letterhead-name[^"]*">Casework<', response.get_data(as_text=True))
        assert 'src="/office/logo"' not in response.get_data(as_text=True)

    assert save(client_for(app, "admin"), ente_name="Unione dei Comuni NET", letterhead="Via Roma 1, Settimo Torinese",
                logo=(PNG, "logo.png")).status_code == 302
    for response in (manager.get(f"/pacts/{pact.id}/print"), supervisor.get(report_url)):
        page = response.get_data(as_text=True)
        assert re.search(r'class="letterhead-name[^"]*">Unione dei Comuni NET<', page)
        assert "Via Roma 1, Settimo Torinese" in page
        assert '<img src="/office/logo" alt="Logo of Unione dei Comuni NET"' in page
