"""The directory's maintenance pages: each role against each page, each bad input at its field,
an edit over someone else's, the history, the stale flag, import and export."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, func, select

from casework.models import ChangeRecord, Service
from casework.security.passwords import hash_password
from casework.services import directory as core
from tests.services.directory_world import Directory, build_directory
from tests.web.conftest import PASSWORD, csrf_token, sign_in

ROME = ZoneInfo("Europe/Rome")
BASE = "/servizi/gestione"


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def directory(db) -> Directory:
    return build_directory(db, password_hash=hash_password(PASSWORD))


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def service(db, directory) -> Service:
    found = core.create_service(db, directory.supervisor, directory.service_input(db), now=_now(), zone=ROME)
    db.commit()
    return found


@pytest.fixture
def lodi_service(db, directory) -> Service:
    found = core.create_service(db, directory.admin, directory.service_input(
        db, name="Sportello di Lodi", organisation_id=directory.lodi_coop.id, comuni=(directory.lodi.id,)),
        now=_now(), zone=ROME)
    db.commit()
    return found


def client_for(app, username: str, locale: str = "en"):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    client.post("/language", data={"locale": locale, "csrf_token": csrf_token(client, "/login")})
    return client


def _form(directory: Directory, db, **changes) -> dict:
    data = {
        "name": "Doposcuola Arcobaleno", "organisation_id": str(directory.coop.id),
        "type_id": str(directory.type_id(db, "doposcuola")), "description": "Compiti e gioco",
        "target_group": "Ragazzi 6-14", "eligibility": "", "comuni": [str(directory.settimo.id)],
        "access": "free_access", "opening_hours": "lun 14:30-18:00; gio 14:30-18:00", "opening_notes": "",
        "address": "Via Po 3", "contact_name": "Luca", "contact_email": "luca@example.org",
        "contact_phone": "011 555", "website": "", "cost": "free", "cost_notes": "", "languages": ["it", "ar"],
        "capacity": "25", "places_available": "3", "waiting_list": "0",
    }
    data.update(changes)
    return data


def _post(client, url: str, data: dict, form_page: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, form_page or url)})


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', page)
    return unescape(match.group(1)) if match else ""


def test_a_case_manager_is_refused_every_page(app, directory, service):
    client = client_for(app, "giulia")
    for url in ("", "/nuovo", f"/{service.id}/modifica", f"/{service.id}/storia", "/importa", "/esporta.csv",
                "/esporta.xlsx"):
        assert client.get(BASE + url).status_code == 403, url
    token = csrf_token(client, "/login")
    for url in ("/nuovo", f"/{service.id}/disattiva", f"/{service.id}/verificato", "/importa",
                "/importa/conferma"):
        assert client.post(BASE + url, data={"csrf_token": token}).status_code == 403, url
    assert "Manage services" not in client.get("/").get_data(as_text=True)


def test_a_supervisor_of_another_territory_finds_no_service_outside_it(app, db, directory, service):
    client = client_for(app, "paolo")
    listed = client.get(BASE)
    assert listed.status_code == 200 and "Ludoteca Il Girasole" not in listed.get_data(as_text=True)
    for url in (f"/{service.id}/modifica", f"/{service.id}/storia"):
        assert client.get(BASE + url).status_code == 404, url
    page = BASE  # any page of theirs carries a token
    for url in (f"/{service.id}/modifica", f"/{service.id}/disattiva", f"/{service.id}/riattiva",
                f"/{service.id}/verificato"):
        assert _post(client, BASE + url, {"version": "1", **_form(directory, db)}, page).status_code == 404, url
    db.expire_all()
    assert db.get(Service, service.id).version == 1


def test_an_administrator_opens_every_page_of_every_territory(app, directory, service, lodi_service):
    client = client_for(app, "admin")
    listed = client.get(BASE).get_data(as_text=True)
    assert "Ludoteca Il Girasole" in listed and "Sportello di Lodi" in listed
    for url in ("/nuovo", f"/{lodi_service.id}/modifica", f"/{lodi_service.id}/storia", "/importa"):
        assert client.get(BASE + url).status_code == 200, url
    assert "Manage services" in client.get(BASE).get_data(as_text=True)


def test_a_supervisor_adds_a_service_from_the_form(app, db, directory):
    client = client_for(app, "elena")
    page = client.get(BASE + "/nuovo").get_data(as_text=True)
    assert '<optgroup label="Family and work-life balance">' in page  # types grouped by macro-area
    assert "Cooperativa Lodigiana" not in page and "Lodi (" not in page  # only what is theirs
    response = _post(client, BASE + "/nuovo", _form(directory, db))
    assert response.status_code == 302
    stored = db.scalars(select(Service)).one()
    assert (stored.name, stored.capacity, [link.language for link in stored.languages]) == (
        "Doposcuola Arcobaleno", 25, ["ar", "it"])
    assert stored.opening_hours[0] == {"day": 0, "opens": "14:30", "closes": "18:00"}
    assert "Doposcuola Arcobaleno" in client.get(BASE).get_data(as_text=True)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": ""}, "name", "Fill in this field."),
    ({"organisation_id": ""}, "organisation_id", "Fill in this field."),
    ({"type_id": ""}, "type_id", "Fill in this field."),
    ({"comuni": []}, "comuni", "Fill in this field."),
    ({"comuni": ["999999"]}, "comuni", "Choose among those of your territory."),
    ({"access": ""}, "access", "Fill in this field."),
    ({"opening_hours": "mattina"}, "opening_hours", 'Write the opening hours like "lun 09:00-12:30; mer 14:00-18:00".'),
    ({"opening_hours": "lun 18:00-09:00"}, "opening_hours", "A closing time comes before its opening time."),
    ({"contact_email": "luca@"}, "contact_email", "This is not an e-mail address."),
    ({"website": "not a site"}, "website", "This is not a website address."),
    ({"capacity": "-2"}, "capacity", "Write a whole number, 0 or more."),
    ({"places_available": "30"}, "places_available", "There cannot be more places available than places in all."),
    ({"languages": ["it", "xx"]}, "languages", "Choose the languages from the list."),
])
def test_each_bad_input_is_shown_next_to_its_field(app, db, directory, changes, field, message):
    client = client_for(app, "elena")
    response = _post(client, BASE + "/nuovo", _form(directory, db, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _field_error(page, field) == message
    assert "error-summary" in page
    assert db.scalar(select(func.count(Service.id))) == 0


def test_an_edit_over_someone_elses_answers_409_keeping_the_input(app, db, directory, service):
    client = client_for(app, "elena")
    url = f"{BASE}/{service.id}/modifica"
    token = csrf_token(client, url)
    core.update_service(db, directory.admin, service.id, directory.service_input(db, name="Saved first"),
                        now=_now(), zone=ROME, expected_version=1)
    db.commit()
    response = client.post(url, data={**_form(directory, db, name="My late edit"), "version": "1",
                                      "csrf_token": token})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'value="My late edit"' in page and "Someone else changed this service" in page
    assert 'name="version" type="hidden" value="2"' in page
    db.expire_all()
    assert db.get(Service, service.id).name == "Saved first"
    # Sent again knowingly, with the version it now carries, it is saved.
    assert client.post(url, data={**_form(directory, db, name="My late edit"), "version": "2",
                                  "csrf_token": token}).status_code == 302
    db.expire_all()
    assert db.get(Service, service.id).name == "My late edit"


def test_the_history_shows_who_changed_what(app, db, directory, service):
    client = client_for(app, "admin")
    url = f"{BASE}/{service.id}/modifica"
    form = _form(directory, db, name="Ludoteca Girasole", access="by_appointment", version="1")
    assert _post(client, url, form).status_code == 302
    assert _post(client, f"{BASE}/{service.id}/disattiva", {"version": "2"}, BASE).status_code == 302
    page = client.get(f"{BASE}/{service.id}/storia").get_data(as_text=True)
    rows = [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", row))).strip()
            for row in re.findall(r"<tr>(.*?)</tr>", page, re.DOTALL)]
    assert any("Admin Rossi" in row and "Name of the service Ludoteca Il Girasole Ludoteca Girasole" in row
               for row in rows)
    assert any("Admin Rossi" in row and "Access Free access By appointment" in row for row in rows)
    assert any("Admin Rossi" in row and "Active Yes No" in row for row in rows)
    assert any("Elena Rossi" in row and "Name of the service — Ludoteca Il Girasole" in row for row in rows)


def test_the_services_to_check_are_counted_and_listed(app, db, directory, service):
    old = core.create_service(db, directory.supervisor, directory.service_input(
        db, name="Mensa San Carlo", last_checked_on=date(2024, 1, 10)), now=_now(), zone=ROME)
    db.commit()
    client = client_for(app, "elena", locale="it")
    page = client.get(BASE).get_data(as_text=True)
    assert "1 servizio da verificare (non verificato da oltre 12 mesi)." in page
    assert f'href="{BASE}?state=stale"' in page
    listed = client.get(BASE + "?state=stale").get_data(as_text=True)
    assert "Mensa San Carlo" in listed and "Ludoteca Il Girasole" not in listed
    assert _post(client, f"{BASE}/{old.id}/verificato", {"version": "1"}, BASE).status_code == 302
    assert "da verificare" not in client.get(BASE).get_data(as_text=True)
    db.expire_all()
    assert db.get(Service, old.id).last_checked_on == _now().astimezone(ROME).date()


def test_the_supervisor_sees_on_oggi_the_services_to_check_of_their_territory_only(app, db, directory, service):
    core.create_service(db, directory.supervisor, directory.service_input(
        db, name="Mensa San Carlo", last_checked_on=date(2024, 1, 10)), now=_now(), zone=ROME)
    db.commit()
    notice = "1 servizio dell'elenco non è verificato da oltre 12 mesi."
    today = unescape(client_for(app, "elena", locale="it").get("/").get_data(as_text=True))
    assert notice in today and f'href="{BASE}?state=stale"' in today
    assert "verificat" not in unescape(client_for(app, "paolo", locale="it").get("/").get_data(as_text=True))
    assert "verificat" not in unescape(client_for(app, "giulia", locale="it").get("/").get_data(as_text=True))


def test_a_button_on_a_stale_page_answers_409(app, db, directory, service):
    client = client_for(app, "elena")
    core.deactivate_service(db, directory.admin, service.id, now=_now())
    db.commit()
    response = _post(client, f"{BASE}/{service.id}/verificato", {"version": "1"}, BASE)
    assert response.status_code == 409
    db.expire_all()
    assert db.get(Service, service.id).version == 2


def _upload(client, content: bytes, filename: str):
    return client.post(BASE + "/importa", data={"csrf_token": csrf_token(client, BASE + "/importa"),
                                                "file": (io.BytesIO(content), filename)},
                       content_type="multipart/form-data")


def test_an_import_is_checked_then_confirmed(app, db, directory):
    client = client_for(app, "elena")
    header = "ente;nome;tipologia;accesso;costo;comuni;lingue\n"
    bad = header + "Cooperativa Il Ponte;Doposcuola;doposcuola;libero;gratuito;001265;it\n" \
                   "Cooperativa Lodigiana;Altro;doposcuola;sempre;gratuito;001265;it\n"
    response = _upload(client, bad.encode(), "servizi.csv")
    assert response.status_code == 422
    page = unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))
    assert re.search(r'<td class="text-end">3</td><td class="font-monospace">ente</td> <td class="text-break">'
                     r"Cooperativa Lodigiana</td><td>No organisation with exactly this name", page)
    assert "Import</button>" not in page
    assert db.scalar(select(func.count(Service.id))) == 0

    good = header + "Cooperativa Il Ponte;Doposcuola;doposcuola;libero;gratuito;001265;it\n"
    response = _upload(client, good.encode(), "servizi.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Services to create: 1" in page
    assert db.scalar(select(func.count(Service.id))) == 0  # the check wrote nothing
    token = re.search(r'name="upload" type="hidden" value="([^"]+)"', page).group(1)
    checksum = re.search(r'name="checksum" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(BASE + "/importa/conferma", data={
        "upload": token, "checksum": checksum, "csrf_token": csrf_token(client, BASE + "/importa")})
    assert response.status_code == 200 and "Services created: 1" in response.get_data(as_text=True)
    assert db.scalars(select(Service.name)).all() == ["Doposcuola"]
    assert db.scalar(select(func.count(ChangeRecord.id)).where(ChangeRecord.entity == "service")) > 0
    # The kept file is gone: confirming twice imports nothing twice.
    again = client.post(BASE + "/importa/conferma", data={
        "upload": token, "checksum": checksum, "csrf_token": csrf_token(client, BASE + "/importa")})
    assert again.status_code == 409
    assert db.scalar(select(func.count(Service.id))) == 1


def test_a_file_that_is_no_table_is_refused_at_the_field(app, directory):
    client = client_for(app, "elena")
    response = _upload(client, b"%PDF-1.4", "servizi.pdf")
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "file") == (
        "The file is neither a CSV nor an Excel (.xlsx) file.")


def test_the_export_holds_the_filtered_services(app, directory, service, lodi_service):
    client = client_for(app, "elena")
    response = client.get(BASE + "/esporta.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    assert text.startswith("id;ente;nome;tipologia;") and "Ludoteca Il Girasole" in text
    assert "Sportello di Lodi" not in text
    response = client.get(BASE + "/esporta.xlsx?q=nothing-like-this")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.max_row == 1 and sheet.cell(1, 1).value == "id"


def test_the_list_issues_as_many_queries_for_many_services_as_for_few(app, db, directory):
    engine = app.extensions["casework"]["engine"]
    client = client_for(app, "elena")

    def queries() -> int:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(BASE + "?state=active").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            core.create_service(db, directory.supervisor, directory.service_input(
                db, name=f"Servizio {number:03d}", last_checked_on=date(2024, 1, 1) if number % 2 else None),
                now=_now(), zone=ROME)
        db.commit()

    add(2, 0)
    few = queries()
    add(60, 2)
    assert queries() == few


def test_a_comune_beyond_the_supervisors_territory_survives_their_edit(app, db, directory, service):
    both = [directory.settimo.id, directory.lodi.id]
    core.update_service(db, directory.admin, service.id, directory.service_input(db, comuni=tuple(both)),
                        now=_now(), zone=ROME, expected_version=1)
    db.commit()
    client = client_for(app, "elena")
    url = f"{BASE}/{service.id}/modifica"
    page = client.get(url).get_data(as_text=True)
    assert re.search(rf'<option selected value="{directory.lodi.id}">Lodi</option>', page)
    form = _form(directory, db, name="Ludoteca aperta", comuni=[str(value) for value in both], version="2")
    assert _post(client, url, form).status_code == 302
    db.expire_all()
    stored = db.get(Service, service.id)
    assert stored.name == "Ludoteca aperta"
    assert sorted(link.territory.name for link in stored.comuni) == ["Lodi", "Settimo Torinese"]
