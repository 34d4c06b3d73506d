"""The import page: each role, upload and dry run, import all or nothing, a changed file refused."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from casework.models import AdministrativeLogEntry, Beneficiary, Pact
from tests.administration.caseload_files import csv_bytes, row
from tests.web.conftest import csrf_token, sign_in


@pytest.fixture
def app(engine_app):
    return engine_app


@pytest.fixture
def client(app, people):
    return app.test_client()


def upload(client, data: bytes, name: str = "casi.csv"):
    return client.post("/import", data={"csrf_token": csrf_token(client, "/import"), "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def confirm_fields(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page).group(1)
            for name in ("upload", "checksum", "csrf_token")}


def pacts(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Pact))


def test_case_managers_and_administrators_may_not_import(client, people) -> None:
    for username in ("giulia", "admin"):
        sign_in(client, username)
        assert client.get("/import").status_code == 403
        assert client.get("/import/template.xlsx").status_code == 403
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/import").status_code == 302  # anonymous: to the sign-in page


def test_the_template_has_the_columns_and_the_instructions(client, people) -> None:
    sign_in(client, "elena")
    page = client.get("/import").get_data(as_text=True)
    assert "Importa casi" in page and "/import/template.xlsx" in page
    response = client.get("/import/template.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert [cell.value for cell in workbook["Casi"][1]][:3] == ["Codice fiscale", "Nome", "Cognome"]
    instructions = " ".join(str(cell.value) for line in workbook["Istruzioni"].iter_rows() for cell in line if cell.value)
    assert "TILDE" in instructions and "Co-progettazione" in instructions and "Servizi sociali" in instructions


def test_a_supervisor_checks_then_imports_a_file(client, people, db, app) -> None:
    sign_in(client, "elena")
    before = pacts(db)
    data = csv_bytes([row(0), row(1, Fase="Segnalazione", **{"Data apertura": ""})])
    response = upload(client, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Persone da creare: 2" in page and "Patti da aprire: 2" in page
    assert pacts(db) == before  # the check wrote nothing

    response = client.post("/import/confirm", data=confirm_fields(page))
    done = response.get_data(as_text=True)
    assert response.status_code == 200, done
    assert "Patti aperti: 2" in done
    assert pacts(db) == before + 2
    entry = db.scalars(select(AdministrativeLogEntry).where(AdministrativeLogEntry.subject_type != "sign_in")).one()
    assert (entry.subject_type, entry.actor_id) == ("import", people.supervisor.id)
    assert list((Path(app.instance_path) / "imports").iterdir()) == []  # the kept file is gone

    # The same file again: everything matched, nothing written.
    page = upload(client, data).get_data(as_text=True)
    assert "Persone da creare: 0" in page and "Patti da aprire: 0" in page
    client.post("/import/confirm", data=confirm_fields(page))
    assert pacts(db) == before + 2
    assert db.scalar(select(func.count()).select_from(Beneficiary)) == 3


def test_problems_are_listed_and_nothing_can_be_imported(client, people, db) -> None:
    sign_in(client, "elena")
    response = upload(client, csv_bytes([row(0), row(1, **{"Case manager": "nessuno"})]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Case manager" in page and "nessuno" in page
    assert "Nessun welfare manager di caso attivo con questo nome utente o e-mail." in page
    assert 'name="upload"' not in page


def test_a_supervisor_of_another_territory_cannot_import_for_programmes_outside_it(client, people, db) -> None:
    sign_in(client, "paolo")
    response = upload(client, csv_bytes([row(0, **{"Case manager": "paolo"})]))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Il progetto non è tra quelli del tuo territorio." in page
    assert pacts(db) == 1


def test_a_changed_file_or_another_users_upload_is_refused(client, people, db, app) -> None:
    sign_in(client, "elena")
    page = upload(client, csv_bytes([row(0)])).get_data(as_text=True)
    fields = confirm_fields(page)
    kept = Path(app.instance_path) / "imports" / f"{fields['upload']}.data"
    kept.write_bytes(csv_bytes([row(0), row(1)]))
    response = client.post("/import/confirm", data=fields)
    assert response.status_code == 409
    assert "non è più disponibile o è cambiato" in response.get_data(as_text=True)
    assert pacts(db) == 1


def test_bad_uploads_get_a_clear_error(client, people) -> None:
    sign_in(client, "elena")
    response = upload(client, b"%PDF-1.4 not a table", "casi.pdf")
    assert response.status_code == 422
    assert "Il file non è né un CSV né un file Excel (.xlsx)." in response.get_data(as_text=True)
    response = client.post("/import", data={"csrf_token": csrf_token(client, "/import")},
                           content_type="multipart/form-data")
    assert response.status_code == 422


def test_a_file_nobody_confirmed_for_a_day_is_deleted_at_the_next_upload(client, people, app) -> None:
    import os
    import time

    sign_in(client, "elena")
    first = confirm_fields(upload(client, csv_bytes([row(0)])).get_data(as_text=True))["upload"]
    folder = Path(app.instance_path) / "imports"
    day_and_a_minute_ago = time.time() - 24 * 3600 - 60
    for path in folder.glob(f"{first}.*"):
        os.utime(path, (day_and_a_minute_ago, day_and_a_minute_ago))
    second = confirm_fields(upload(client, csv_bytes([row(1)])).get_data(as_text=True))["upload"]
    assert sorted(path.name for path in folder.iterdir()) == [f"{second}.data", f"{second}.json"]
