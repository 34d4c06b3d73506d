"""The copy of a person's data as a person or a data-protection officer reads it: sections and
fields in Italian, codes in words, dates as dd/mm/yyyy in the office's zone, staff and
organisations by name, pacts by programme and number; no column names, no ids. The JSON copy
keeps every column. SQLite and PostgreSQL."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from sqlalchemy import event

from casework.models import (
    Beneficiary,
    ChangeRecord,
    ContactChannel,
    DataSharingConsent,
    Document,
    DocumentKind,
    HouseholdMember,
    Organisation,
    OrganisationKind,
    Pact,
    Relation,
    User,
)
from casework.pacts import operations as ops
from casework.people.readable_copy import NAMED_BY, readable_sections
from casework.people.subject_access import person_dossier
from tests.conftest import ZONE
from tests.web.conftest import sign_in, submit



@pytest.fixture
def app(engine_app: Flask) -> Flask:
    return engine_app


def _person_with_a_history(app, db, people) -> datetime:
    now = datetime.now(UTC)
    db.add(HouseholdMember(beneficiary_id=people.beneficiary.id, first_name="Luca", last_name="Bianchi",
                           relation=Relation.CHILD, birth_date=date(2012, 6, 1)))
    pact = db.get(Pact, people.pact.id)
    ops.log_contact(db, app.extensions["casework"]["registry"], pact, contact_at=now.replace(second=0, microsecond=0),
                    channel=ContactChannel.HOME_VISIT, notes="visita a casa con la madre", actor=people.manager,
                    clock=ops.Clock(now, ZONE))
    # A second pact, so that rows name the pact they belong to.
    ops.open_pact(db, app.extensions["casework"]["registry"], beneficiary=people.beneficiary,
                  programme=people.restricted, case_manager=people.manager, actor=people.manager,
                  clock=ops.Clock(now, ZONE))
    coop = Organisation(name="Cooperativa Il Ponte", kind=list(OrganisationKind)[0])
    db.add(coop)
    db.flush()
    db.add_all([
        DataSharingConsent(beneficiary_id=people.beneficiary.id, organisation_id=coop.id, given_on=date(2026, 1, 10),
                           purpose="Invio allo sportello lavoro", collected_by_id=people.manager.id, recorded_at=now),
        Document(beneficiary_id=people.beneficiary.id, pact_id=pact.id, kind=DocumentKind.ID_DOCUMENT,
                 original_name="carta-identita.pdf", stored_name="a" * 64, content_type="application/pdf",
                 size_bytes=204_800, sha256="f" * 64, uploaded_at=now, uploaded_by_id=people.manager.id),
    ])
    # The edit history keeps values as text: codes, ISO dates, ids.
    person = people.beneficiary.id
    comune = db.get(Beneficiary, person).comune_id
    db.add_all([
        ChangeRecord(entity="beneficiary", entity_id=person, field=field, old_value=old, new_value=new, at=now,
                     actor_id=people.manager.id)
        for field, old, new in [("gender", "male", "female"), ("migrant_background", "False", "True"),
                                ("comune_id", "", str(comune)), ("birth_date", "1985-03-04", "1985-04-03")]
    ])
    db.commit()
    return now.replace(second=0, microsecond=0)


def _copy(app, people, output: str):
    client = app.test_client()
    assert sign_in(client, "giulia").status_code == 302
    assert client.get(f"/beneficiaries/{people.beneficiary.id}").status_code == 200  # an access to list
    return submit(client, f"/beneficiaries/{people.beneficiary.id}/copy", {"reason": "richiesta dell'interessata",
                                                                           "output": output})


def _section(page: str, key: str) -> str:
    return page.split(f'id="copy-{key}"', 1)[1].split("</section>", 1)[0]


def test_the_readable_copy_speaks_italian_with_readable_values(app, db, people):
    contact_at = _person_with_a_history(app, db, people)
    response = _copy(app, people, "html")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))

    heading = page.split('class="person-copy-heading"', 1)[1].split("</header>", 1)[0]
    assert "Maria" in heading and "Giulia Rossi" in heading and "richiesta dell'interessata" in heading
    assert 'class="person-copy-contents"' in page  # a table of contents

    person = _section(page, "beneficiary")
    for words in ("Codice fiscale", "BNCMRA85D43I703I", "Data di nascita", "03/04/1985", "Genere", "Femmina",
                  "Comune di residenza", "Settimo Torinese"):
        assert words in person, words
    household = _section(page, "household_member")
    assert "Legame" in household and "Figlio o figlia" in household
    assert "01/06/2012" in household
    pacts = _section(page, "pact")
    assert "TILDE" in pacts and "Ricomincio da me" in pacts and "Giulia Rossi" in pacts
    contacts = _section(page, "follow_up_contact")
    assert "Visita domiciliare" in contacts and f"{contact_at.astimezone(ZONE):%d/%m/%Y %H:%M}" in contacts
    assert f"TILDE, patto n. {people.pact.id}" in contacts and "visita a casa con la madre" in contacts
    consents = _section(page, "data_sharing_consent")
    assert "Cooperativa Il Ponte" in consents and "10/01/2026" in consents and "Giulia Rossi" in consents
    documents = _section(page, "document")
    assert "Documento d'identità" in documents and "carta-identita.pdf" in documents and "200 KB" in documents
    assert "f" * 64 not in documents and "a" * 64 not in documents  # hashes and stored names stay out
    changes = _section(page, "change_record")
    for words in ("Dati personali", "Genere", "Maschio", "Femmina", "Background migratorio", "Sì",
                  "Comune di residenza", "Settimo Torinese", "04/03/1985", "Giulia Rossi"):
        assert words in changes, words
    accesses = _section(page, "accesses")
    assert "consultato" in accesses and "Giulia Rossi" in accesses

    # No column name, no raw code, no ISO timestamp anywhere in the readable copy.
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert headers and not [header for header in headers if "_" in header]
    for raw in ("codice_fiscale", "created_by_id", "home_visit", "id_document", contact_at.isoformat()[:16]):
        assert raw not in page, raw
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)


def test_the_json_copy_stays_complete(app, db, people):
    contact_at = _person_with_a_history(app, db, people)
    response = _copy(app, people, "json")
    copy = json.loads(response.get_data(as_text=True))
    assert set(copy) == {"beneficiary_id", "full_name", "produced_at", "produced_by", "reason", "data", "accesses"}
    data = copy["data"]
    assert data["beneficiary"][0]["codice_fiscale"] == "BNCMRA85D43I703I"
    assert data["beneficiary"][0]["version"] is not None and "last_name_key" in data["beneficiary"][0]
    assert data["document"][0]["sha256"] == "f" * 64 and data["document"][0]["stored_name"] == "a" * 64
    assert data["follow_up_contact"][0]["channel"] == "home_visit"
    assert data["follow_up_contact"][0]["contact_at"].startswith(contact_at.isoformat()[:16])
    assert data["data_sharing_consent"][0]["collected_by_id"] == people.manager.id
    assert data["household_member"][0]["relation"] == "child"


def test_names_are_read_in_a_fixed_number_of_queries(app, db, people):
    _person_with_a_history(app, db, people)
    casework = app.extensions["casework"]
    dossier = person_dossier(db, db.get(User, people.manager.id), people.beneficiary.id, reason="verifica",
                             now=datetime.now(UTC))
    statements: list[str] = []

    def count(_connection, _cursor, statement, *_):
        statements.append(statement)

    event.listen(casework["engine"], "before_cursor_execute", count)
    try:
        sections = readable_sections(db, casework["registry"], dossier, locale="it", zone=ZONE)
    finally:
        event.remove(casework["engine"], "before_cursor_execute", count)
    assert {section.key for section in sections} == {section.table for section in dossier.sections}
    assert len(statements) <= len(NAMED_BY)  # one per kind of thing named, whatever the history
