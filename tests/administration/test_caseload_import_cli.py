"""`casework import FILE --as USERNAME [--dry-run]`: the same checks and import from the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from casework.cli import main
from casework.models import Beneficiary, Pact
from tests.administration.caseload_files import csv_bytes, row


def _invoke(engine, tmp_path: Path, data: bytes, *arguments: str):
    path = tmp_path / "casi.csv"
    path.write_bytes(data)
    env = {"CASEWORK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"), "CASEWORK_ENV": "development"}
    return CliRunner().invoke(main, ["import", str(path), "--as", "elena", *arguments], env=env)


def _counts(session) -> tuple[int, int]:
    session.expire_all()
    return (session.scalar(select(func.count()).select_from(Beneficiary)),
            session.scalar(select(func.count()).select_from(Pact)))


def test_a_dry_run_says_what_would_be_imported_and_writes_nothing(engine, session, world, tmp_path):
    before = _counts(session)
    result = _invoke(engine, tmp_path, csv_bytes([row(1), row(2)]), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 rows; people created 2, matched 0; pacts created 2, matched 0 (dry run: nothing written)" in result.output
    assert _counts(session) == before


def test_a_file_with_a_problem_prints_row_column_and_value_and_imports_nothing(engine, session, world, tmp_path):
    before = _counts(session)
    result = _invoke(engine, tmp_path, csv_bytes([row(1), row(2, **{"Case manager": "nessuno"})]))
    assert result.exit_code == 1
    [problem_line] = [line for line in result.output.splitlines() if line.lstrip().startswith("3 ")]
    assert "Case manager" in problem_line and "nessuno" in problem_line
    assert "Nessun welfare manager di caso attivo con questo nome utente o e-mail." in problem_line
    assert "1 problem(s): nothing imported" in result.output
    assert _counts(session) == before


def test_the_import_writes_the_people_and_pacts_once(engine, session, world, tmp_path):
    people, pacts = _counts(session)
    data = csv_bytes([row(1), row(2)])
    first = _invoke(engine, tmp_path, data)
    assert first.exit_code == 0, first.output
    assert "pacts created 2, matched 0 (imported)" in first.output
    assert _counts(session) == (people + 2, pacts + 2)
    again = _invoke(engine, tmp_path, data)
    assert again.exit_code == 0, again.output
    assert "people created 0, matched 2; pacts created 0, matched 2 (imported)" in again.output
    assert _counts(session) == (people + 2, pacts + 2)


def test_someone_who_is_not_a_supervisor_is_refused(engine, session, world, tmp_path):
    path = tmp_path / "casi.csv"
    path.write_bytes(csv_bytes([row(1)]))
    env = {"CASEWORK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"), "CASEWORK_ENV": "development"}
    result = CliRunner().invoke(main, ["import", str(path), "--as", "giulia"], env=env)
    assert result.exit_code == 1
    assert "giulia is not an active supervisor" in result.output
