"""The pact as a PDF for signature: made on the server from the print view, read back with pypdf."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from casework import PROJECT_ROOT
from casework.models import Beneficiary
from casework.web.pacts.pdf import BASE_URL, local_resource
from tests.web.pacts.test_page import access_rows, co_designed, post, reach, signed_in, version

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "pdf"


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def registry(app):
    return app.extensions["casework"]["registry"]


@pytest.fixture
def prepared(app, db, people, registry):
    """The fixture's pact co-designed and prepared for signature (revision 1)."""
    pact = reach(db, registry, people, "co_design")
    client = signed_in(app, "giulia", english=False)  # her account keeps Italian
    co_designed(client, db, pact.id)
    assert post(client, pact.id, "revision", {"version": version(db, pact.id)}).status_code == 302
    return pact


def words(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_pact_downloads_as_an_italian_a4_pdf(app, db, people, prepared):
    client = signed_in(app, "giulia", english=False)
    response = client.get(f"/pacts/{prepared.id}/pact.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    today = datetime.now(ZoneInfo("Europe/Rome")).date()
    assert response.headers["Content-Disposition"] == f'attachment; filename="patto-bianchi-{today.isoformat()}.pdf"'
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"pact-for-signature-{db.bind.dialect.name}.pdf").write_bytes(response.data)  # to look at
    reader = PdfReader(io.BytesIO(response.data))
    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)  # A4 in points
    text = words(response.data)
    # The person, the programme, the goals, actions and commitments, the consent and the signature block.
    for expected in ("Maria Bianchi", "BNCMRA85D43I703I", "TILDE", "Obiettivi", "trovare lavoro", "31/03/2027",
                     "Azioni", "iscrizione al centro per l'impiego", "Impegni", "cercare offerte adatte",
                     "Consenso al trattamento dei dati personali", "Regolamento (UE) 2016/679", "Firme",
                     "Luogo e data", "Giulia Rossi"):
        assert expected in text, expected
    # Only the sheet: not the links and instructions of the print view.
    assert "Ctrl+P" not in text and "Scarica il PDF" not in text
    # Set in the Bootstrap Italia font, read from the npm package and embedded.
    fonts = {font["/BaseFont"] for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert any("Titillium" in str(name) for name in fonts), fonts
    [row] = access_rows(db, people.manager, "print")
    assert (row.subject_type, row.subject_id, row.detail) == ("pact", prepared.id, "revision 1 as PDF")


def test_the_letterhead_and_logo_of_the_office_are_on_it(app, db, people, prepared):
    from PIL import Image

    from casework.administration import OfficeInput, update_office_identity

    logo = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 102, 204)).save(logo, format="PNG")
    update_office_identity(db, OfficeInput("Unione NET", "Servizi sociali\nVia Roma 1, Settimo Torinese",
                                           logo=logo.getvalue()), expected_version=None, actor=None,
                           now=datetime.now(ZoneInfo("UTC")))
    db.commit()
    response = signed_in(app, "giulia", english=False).get(f"/pacts/{prepared.id}/pact.pdf")
    text = words(response.data)
    assert "Unione NET" in text and "Via Roma 1, Settimo Torinese" in text
    # The logo, read from the database (not over the network), is drawn as an image.
    first = PdfReader(io.BytesIO(response.data)).pages[0]
    images = [xobject.get_object() for xobject in first["/Resources"]["/XObject"].values()]
    assert [(image["/Subtype"], image["/Width"]) for image in images] == [("/Image", 64)]


def test_the_print_view_links_the_pdf(app, prepared):
    page = signed_in(app, "giulia", english=False).get(f"/pacts/{prepared.id}/print").get_data(as_text=True)
    assert f'href="/pacts/{prepared.id}/pact.pdf" download>Scarica il PDF</a>' in page


def test_the_pact_page_links_the_pdf_beside_the_print_view(app, prepared):
    page = signed_in(app, "giulia", english=False).get(f"/pacts/{prepared.id}").get_data(as_text=True)
    assert f'href="/pacts/{prepared.id}/print">Stampa la versione 1</a>' in page
    assert f'<a href="/pacts/{prepared.id}/pact.pdf">Scarica il PDF</a>' in page


def test_a_pact_not_yet_prepared_has_no_pdf(app, db, people, registry):
    pact = reach(db, registry, people, "co_design")
    response = signed_in(app, "giulia").get(f"/pacts/{pact.id}/pact.pdf")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/pacts/{pact.id}#signature")
    assert access_rows(db, people.manager, "print") == []


def test_the_file_name_is_plain_ascii(app, db, people, prepared):
    db.execute(update(Beneficiary).where(Beneficiary.id == people.beneficiary.id).values(last_name="D'Àngelo Nuñez"))
    db.commit()
    response = signed_in(app, "giulia").get(f"/pacts/{prepared.id}/pact.pdf")
    assert re.fullmatch(r'attachment; filename="patto-d-angelo-nunez-\d{4}-\d{2}-\d{2}\.pdf"',
                        response.headers["Content-Disposition"])
    assert "D'Àngelo Nuñez" in words(response.data)


@pytest.mark.parametrize("username, status", [("marco", 404), ("paolo", 404), ("admin", 404), ("elena", 200)])
def test_who_may_download_it(app, db, people, prepared, username, status):
    # Only those who may see the pact: a colleague not on the case, the supervisor of another
    # territory and the administrator get "not found", as for the print view.
    client = signed_in(app, username)
    assert client.get(f"/pacts/{prepared.id}/pact.pdf").status_code == status
    assert client.get(f"/pacts/{prepared.id}/print").status_code == status
    user = getattr(people, {"marco": "colleague", "paolo": "other_supervisor", "admin": "admin",
                            "elena": "supervisor"}[username])
    assert len(access_rows(db, user, "print")) == (2 if status == 200 else 0)


def test_signed_out_it_asks_to_sign_in(app, prepared):
    response = app.test_client().get(f"/pacts/{prepared.id}/pact.pdf")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_renderer_reads_only_casework_files(tmp_path: Path):
    (tmp_path / "print.css").write_text("p {}", encoding="utf-8")
    (tmp_path.parent / "secret.txt").write_text("no", encoding="utf-8")
    folders, in_memory = {"/static/": tmp_path}, {"/office/logo": (b"\x89PNG", "image/png")}
    assert local_resource(f"{BASE_URL}static/print.css", folders, in_memory) == (b"p {}", "text/css")
    assert local_resource(f"{BASE_URL}office/logo", folders, in_memory) == (b"\x89PNG", "image/png")
    for url in ("https://example.org/static/print.css", f"{BASE_URL}static/../secret.txt",
                f"{BASE_URL}static/missing.css", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            local_resource(url, folders, in_memory)
