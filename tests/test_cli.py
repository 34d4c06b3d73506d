"""The `casework` command as a newcomer uses it: schema, demo data, and the two-command start."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from casework import PROJECT_ROOT
from casework.cli import main
from casework.db import make_engine
from casework.models import (
    Base,
    Beneficiary,
    Notification,
    Pact,
    PactDeadline,
    Reminder,
    Service,
    ServiceMacroArea,
    ServiceType,
)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"),
        "CASEWORK_DATABASE_URL": "",
        "CASEWORK_ENV": "development",
    }


def test_db_upgrade_creates_the_schema_in_the_instance_folder(tmp_path):
    result = CliRunner().invoke(main, ["db", "upgrade"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    database = tmp_path / "instance" / "casework.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:  # the services' taxonomy comes with the schema
        assert connection.scalar(select(func.count()).select_from(ServiceMacroArea)) == 10
        assert connection.scalar(select(func.count()).select_from(ServiceType)) == 48
    engine.dispose()
    again = CliRunner().invoke(main, ["db", "upgrade"], env=_env(tmp_path))
    assert again.exit_code == 0, again.output


def test_demo_loads_once_and_prints_the_accounts(tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["demo"], env=_env(tmp_path))
    assert first.exit_code == 0, first.output
    assert "Demo data loaded" in first.output
    assert re.search(r"^\s+admin\S*\s+\S+\s+admin\b", first.output, re.MULTILINE)

    engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'casework.sqlite3'}")
    with engine.connect() as connection:
        counts = (connection.scalar(select(func.count()).select_from(Beneficiary)),
                  connection.scalar(select(func.count()).select_from(Pact)))
        services = connection.scalar(select(func.count()).select_from(Service))
    assert f"{counts[1]} pacts, {services} services (" in first.output  # what `casework start` prints is true
    assert counts[0] >= 150

    second = runner.invoke(main, ["demo"], env=_env(tmp_path))
    assert second.exit_code == 0, second.output
    assert "already present" in second.output
    with engine.connect() as connection:
        assert (connection.scalar(select(func.count()).select_from(Beneficiary)),
                connection.scalar(select(func.count()).select_from(Pact))) == counts
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_start_serves_the_app_and_prints_where_to_log_in(tmp_path):
    """The README's first command, minus the install: `casework start`."""
    port = _free_port()
    env = {**os.environ, **_env(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "casework.cli", "start", "--port", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Casework is running" in line:
                break
        output = "".join(lines)
        assert f"http://127.0.0.1:{port}/" in output, output
        assert "admin" in output
        # The demo runs the scheduler and, without a mail server, writes e-mail to a folder.
        assert "The reminder scheduler runs in this process too." in output
        mail_folder = tmp_path / "instance" / "mail"
        assert f"each message is written to {mail_folder} as an .eml file" in output

        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    body = response.read().decode()
                    assert response.status == 200
                    assert response.headers["Server"] is None  # the dev server names no software
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the server never answered")
        assert body == "ok"  # the probe names no workflow version

        # One sweep ran before the server answered: deadlines, reminders and notifications are there.
        engine = make_engine(f"sqlite:///{tmp_path / 'instance' / 'casework.sqlite3'}")
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(PactDeadline)) > 100
            assert connection.scalar(select(func.count()).select_from(Reminder)) > 0
            assert connection.scalar(select(func.count()).select_from(Notification)) > 0
        engine.dispose()
        for _ in range(100):  # the mail job runs in the background, just after the start
            if list(mail_folder.glob("*.eml")):
                break
            time.sleep(0.2)
        assert list(mail_folder.glob("*.eml")), "no e-mail written to the demo's mail folder"
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert "Connection refused" not in process.stdout.read()


def test_a_busy_port_is_named_with_the_option_that_avoids_it(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "casework.cli", "start", "--port", str(port)], check=False, cwd=PROJECT_ROOT,
            env={**os.environ, **_env(tmp_path)}, capture_output=True, text=True, timeout=120,
        )
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr
    assert re.search(r"start with --port \d+", result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "instance" / "casework.sqlite3").exists()  # it stopped before loading the demo


def test_readme_shows_the_two_commands_and_ci_runs_the_test_one():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "casework start" in readme
    result = subprocess.run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", "README.md"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
    )
    assert "pytest" in result.stdout
    assert "test-command" in (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
