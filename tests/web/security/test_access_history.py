"""A person's access history: administrators and the person's case managers read who viewed,
printed, exported or downloaded what, when (Europe/Rome) and from where, newest first, a page at
a time; nobody else does; reading it is itself logged (SQLite, PostgreSQL)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from casework.models import AccessLogEntry, Document, DocumentKind, Pact, Role, User
from casework.pacts import operations as ops
from tests.conftest import ZONE
from tests.web.conftest import sign_in

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # 09:00 in Rome
ROW = re.compile(r'<tr class="access-entry">(.*?)</tr>', re.DOTALL)


@pytest.fixture
def app(engine_app):
    return engine_app


def _url(people, page: int | None = None) -> str:
    url = f"/beneficiaries/{people.beneficiary.id}/access-history"
    return url if page is None else f"{url}?page={page}"


def _entry(db, user, action: str, subject_type: str, subject_id: int, at: datetime, *, detail: str = "",
           ip: str = "10.1.2.3") -> None:
    db.add(AccessLogEntry(at=at, user_id=user.id if user else None, action=action, subject_type=subject_type,
                          subject_id=subject_id, detail=detail, ip_address=ip))


def _rows(response) -> list[str]:
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in ROW.findall(response.get_data(as_text=True))]


@pytest.fixture
def history(app, db, people):
    """Accesses to Maria Bianchi's record, her pact, a document of the pact, her restricted pact
    (followed by marco alone), and one to another person that is in nobody's history of hers."""
    registry = app.extensions["casework"]["registry"]
    restricted = ops.open_pact(db, registry, beneficiary=people.beneficiary, programme=people.restricted,
                               case_manager=people.colleague, actor=people.colleague,
                               clock=ops.Clock(AT, ZONE))
    document = Document(pact_id=people.pact.id, kind=DocumentKind.OTHER, original_name="relazione.pdf",
                        stored_name="a" * 64, content_type="application/pdf", size_bytes=10, sha256="0" * 64,
                        uploaded_at=AT, uploaded_by_id=people.manager.id)
    db.add(document)
    db.flush()
    _entry(db, people.manager, "view", "beneficiary", people.beneficiary.id, AT)
    _entry(db, people.supervisor, "print", "pact", people.pact.id, AT + timedelta(hours=1), detail="revision 1",
           ip="192.0.2.44")
    _entry(db, people.manager, "download", "document", document.id, AT + timedelta(hours=2),
           detail=f"pact {people.pact.id}: relazione.pdf")
    _entry(db, people.colleague, "view", "pact", restricted.id, AT + timedelta(hours=3), detail="timeline")
    _entry(db, people.manager, "view", "beneficiary", people.beneficiary.id + 1000, AT + timedelta(hours=4))
    db.add(User(username="luca", full_name="Luca Verdi", email="luca@example.org", password_hash=people.manager.password_hash,
                role=Role.CASE_MANAGER, territory=people.manager.territory))
    db.commit()
    return {"document": document.id, "restricted": restricted.id}


def test_the_case_manager_reads_the_accesses_newest_first_in_rome_time_with_the_address(app, people, history):
    client = app.test_client()
    sign_in(client, "giulia")
    response = client.get(_url(people))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Storico degli accessi di Bianchi Maria" in page
    assert _rows(response) == [
        (f"02/03/2026 11:00 Giulia Rossi (giulia) ha scaricato il documento n. {history['document']} · "
         f"pact {people.pact.id}: relazione.pdf 10.1.2.3"),
        f"02/03/2026 10:00 Elena Rossi (elena) ha stampato il patto n. {people.pact.id} · revision 1 192.0.2.44",
        "02/03/2026 09:00 Giulia Rossi (giulia) ha consultato la scheda della persona 10.1.2.3",
    ]
    # Her restricted pact, which giulia is not assigned to, is not even hinted at.
    assert f"patto n. {history['restricted']}" not in page
    assert "3 accessi." in page


def test_the_restricted_pact_s_case_manager_reads_that_pact_s_accesses_and_not_the_others(app, people, history):
    client = app.test_client()
    sign_in(client, "marco")
    rows = _rows(client.get(_url(people)))
    assert rows == [
        f"02/03/2026 12:00 Marco Rossi (marco) ha consultato il patto n. {history['restricted']} · cronologia 10.1.2.3",
        "02/03/2026 09:00 Giulia Rossi (giulia) ha consultato la scheda della persona 10.1.2.3",
    ]


def test_the_administrator_reads_every_pact_s_accesses_without_case_data(app, people, history):
    client = app.test_client()
    sign_in(client, "admin")
    response = client.get(_url(people))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"Storico degli accessi della persona n. {people.beneficiary.id}" in page
    assert "Bianchi" not in page and "relazione.pdf" not in page
    rows = _rows(response)
    assert len(rows) == 4
    assert rows[0] == f"02/03/2026 12:00 Marco Rossi (marco) ha consultato il patto n. {history['restricted']} · cronologia 10.1.2.3"
    assert rows[1].endswith(f"ha scaricato il documento n. {history['document']} 10.1.2.3")


@pytest.mark.parametrize(("username", "status"), [
    ("luca", 404),  # another case manager of the territory: the person is not theirs (nor is her existence confirmed)
    ("paolo", 403),  # a supervisor of another territory
    ("elena", 403),  # the territory's supervisor too: not theirs to watch who opened what
])
def test_nobody_else_reads_it(app, people, history, username, status):
    client = app.test_client()
    sign_in(client, username)
    response = client.get(_url(people))
    assert response.status_code == status
    assert "relazione.pdf" not in response.get_data(as_text=True)


def test_anonymous_is_sent_to_sign_in(app, people, history):
    response = app.test_client().get(_url(people))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_person_who_does_not_exist_is_not_found_even_for_the_administrator(app, people):
    client = app.test_client()
    sign_in(client, "admin")
    assert client.get(f"/beneficiaries/{people.beneficiary.id + 500}/access-history").status_code == 404


def test_the_person_s_page_links_to_it_only_for_those_who_may_read_it(app, people):
    link = f'href="{_url(people)}"'
    client = app.test_client()
    sign_in(client, "giulia")
    assert link in client.get(f"/beneficiaries/{people.beneficiary.id}").get_data(as_text=True)
    supervisor = app.test_client()
    sign_in(supervisor, "elena")
    page = supervisor.get(f"/beneficiaries/{people.beneficiary.id}")
    assert page.status_code == 200
    assert link not in page.get_data(as_text=True)


def test_reading_the_history_is_itself_an_access(app, db, people):
    client = app.test_client()
    sign_in(client, "giulia")
    client.get(_url(people))
    entry = db.scalars(select(AccessLogEntry).where(AccessLogEntry.detail == "access history")).one()
    assert (entry.user_id, entry.action, entry.subject_type, entry.subject_id) == (
        people.manager.id, "view", "beneficiary", people.beneficiary.id)
    # ...and the next reading shows it.
    assert any("la scheda della persona · storico degli accessi" in row for row in _rows(client.get(_url(people))))


def _statements(app, action) -> int:
    engine = app.extensions["casework"]["engine"]
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_pages_of_fifty_newest_first_in_a_fixed_number_of_queries(app, db, people):
    pact_id = db.scalar(select(Pact.id))
    for n in range(3):
        _entry(db, people.manager, "view", "pact", pact_id, AT + timedelta(minutes=n), detail=f"n{n}")
    db.commit()
    client = app.test_client()
    sign_in(client, "giulia")
    client.get(_url(people))  # the first request of a session loads what every page needs
    few = _statements(app, lambda: client.get(_url(people)))
    for n in range(3, 120):
        _entry(db, people.manager, "view", "pact", pact_id, AT + timedelta(minutes=n), detail=f"n{n}")
    db.commit()
    many = _statements(app, lambda: client.get(_url(people)))
    assert many == few

    # Newest first: the three readings above (at the real time), then the entries from n119 down.
    first = client.get(_url(people, 1))
    rows = _rows(first)
    assert len(rows) == 50
    assert all("storico degli accessi" in row for row in rows[:3])
    assert "n119" in rows[3] and "n73" in rows[49]
    assert "Pagina 1 di 3" in first.get_data(as_text=True)
    assert f'href="{_url(people, 2)}"' in first.get_data(as_text=True)
    # 120 entries and the 4 readings above (this one's own is written after it is read): 124.
    third = client.get(_url(people, 3))
    assert ">124 accessi.<" in third.get_data(as_text=True)
    assert len(_rows(third)) == 124 - 100
    assert "n0" in _rows(third)[-1]


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999999999999", ""])
def test_any_page_number_answers_a_page(app, people, page):
    client = app.test_client()
    sign_in(client, "giulia")
    assert client.get(f"{_url(people)}?page={page}").status_code == 200
