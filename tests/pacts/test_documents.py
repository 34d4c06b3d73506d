"""Uploaded files: type checked by name and content, stored under random names, seen only by who may."""

from __future__ import annotations

import hashlib
import io

import pytest
from sqlalchemy import select

from casework.errors import InvalidInput
from casework.models import Document, DocumentKind
from casework.pacts import documents
from casework.pacts import operations as ops
from tests.conftest import MONDAY_9AM

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 40
HTML = b"<!doctype html><script>alert(1)</script>"
LIMIT = 1024


@pytest.fixture
def pact(session, registry, world, clock):
    opened = ops.open_pact(session, registry, beneficiary=world.beneficiary, programme=world.programme,
                           case_manager=world.manager, actor=world.manager, clock=clock)
    session.commit()
    return opened


def store(session, folder, content: bytes, name: str, world, **owner):
    return documents.store_document(
        session, folder / "documents", io.BytesIO(content), file_name=name, kind=DocumentKind.OTHER, max_bytes=LIMIT,
        actor=world.manager, now=MONDAY_9AM, **(owner or {"beneficiary": world.beneficiary}),
    )


@pytest.mark.parametrize(("content", "name", "content_type"), [
    (PDF, "patto.pdf", "application/pdf"),
    (PNG, "scansione.PNG", "image/png"),
    (JPEG, "foto.jpeg", "image/jpeg"),
    (JPEG, "foto.jpg", "image/jpeg"),
], ids=["pdf", "png", "jpeg", "jpg"])
def test_good_files_are_stored_under_a_random_name_with_their_fingerprint(session, world, tmp_path, content, name,
                                                                        content_type):
    document = store(session, tmp_path, content, name, world)
    session.commit()

    stored = session.scalars(select(Document)).one()
    assert stored.id == document.id
    assert (stored.original_name, stored.content_type, stored.size_bytes) == (name, content_type, len(content))
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.beneficiary_id == world.beneficiary.id and stored.pact_id is None
    assert stored.uploaded_by_id == world.manager.id and stored.uploaded_at == MONDAY_9AM
    assert name not in stored.stored_name and len(stored.stored_name) == 64
    assert [p.name for p in (tmp_path / "documents").iterdir()] == [stored.stored_name]
    with documents.open_document(tmp_path / "documents", stored) as stream:
        assert stream.read() == content


@pytest.mark.parametrize(("content", "name", "code"), [
    (EXE, "programma.pdf", "content_mismatch"),
    (HTML, "pagina.pdf", "content_mismatch"),
    (PNG, "immagine.pdf", "content_mismatch"),
    (PDF, "patto.exe", "type_not_allowed"),
    (PDF, "patto.html", "type_not_allowed"),
    (PDF, "patto", "type_not_allowed"),
    (PDF, "patto.pdf.exe", "type_not_allowed"),
    (b"", "vuoto.pdf", "empty"),
    (PDF + b"\x00" * LIMIT, "grande.pdf", "too_large"),
], ids=["exe-as-pdf", "html-as-pdf", "png-as-pdf", "exe", "html", "no-extension", "double-extension", "empty",
        "too-large"])
def test_files_whose_name_or_content_is_not_allowed_are_refused_and_leave_nothing(session, world, tmp_path,
                                                                                  content, name, code):
    with pytest.raises(InvalidInput) as refused:
        store(session, tmp_path, content, name, world)
    assert refused.value.errors == {"file": code}
    session.rollback()
    assert session.scalars(select(Document)).all() == []
    folder = tmp_path / "documents"
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_file_exactly_at_the_limit_is_accepted(session, world, tmp_path):
    content = PDF + b"\x00" * (LIMIT - len(PDF))
    assert store(session, tmp_path, content, "limite.pdf", world).size_bytes == LIMIT


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\giulia\\Desktop\\carta d'identità.pdf", "carta d'identità.pdf"),
    ("fattura\u202efdp.exe.pdf", "fatturafdp.exe.pdf"),  # the right-to-left override is gone
    ('a"b;c\r\n.pdf', "a_b_c.pdf"),
    ("   .pdf", "document.pdf"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
])
def test_the_name_given_is_cleaned_before_it_is_kept(given, kept):
    assert documents.clean_file_name(given) == kept


def test_the_download_name_ends_with_the_stored_type(session, world, tmp_path):
    document = store(session, tmp_path, JPEG, "foto.jpeg", world)
    assert documents.download_name(document) == "foto.jpeg"
    document.original_name = "foto"
    assert documents.download_name(document) == "foto.jpg"


def test_a_document_is_seen_by_who_sees_its_pact_or_person(session, world, pact, tmp_path):
    on_pact = store(session, tmp_path, PDF, "patto.pdf", world, pact=pact)
    on_person = store(session, tmp_path, PDF, "documento.pdf", world)
    session.commit()

    assert documents.get_visible_document(session, world.manager, on_pact.id) is on_pact
    assert documents.get_visible_document(session, world.manager, on_person.id) is on_person
    assert documents.get_visible_document(session, world.supervisor, on_pact.id) is on_pact
    assert documents.get_visible_document(session, world.colleague, on_pact.id) is None
    assert documents.get_visible_document(session, world.colleague, on_person.id) is None
    assert documents.get_visible_document(session, world.manager, 9999) is None
    assert documents.pact_documents(session, pact) == [on_pact]
    assert documents.beneficiary_documents(session, world.beneficiary) == [on_person]


def test_a_missing_file_is_reported_not_served(session, world, tmp_path):
    document = store(session, tmp_path, PDF, "patto.pdf", world)
    (tmp_path / "documents" / document.stored_name).unlink()
    with pytest.raises(documents.DocumentMissing):
        documents.open_document(tmp_path / "documents", document)
    document.stored_name = "../../etc/passwd"
    with pytest.raises(documents.DocumentMissing):
        documents.open_document(tmp_path / "documents", document)


def test_a_document_belongs_to_exactly_one_owner(session, world, pact, tmp_path):
    with pytest.raises(ValueError):
        store(session, tmp_path, PDF, "patto.pdf", world, pact=pact, beneficiary=world.beneficiary)
