"""One log format for every process: the commands and the scheduler write what the web does."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from casework import PROJECT_ROOT, logs
from casework.config import load_settings


def test_a_command_logs_one_json_object_a_line(tmp_path: Path):
    env = {**os.environ, "CASEWORK_LOG_FORMAT": "json", "CASEWORK_INSTANCE_PATH": str(tmp_path / "instance"),
           "CASEWORK_DATABASE_URL": f"sqlite:///{tmp_path / 'casework.sqlite3'}", "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("CASEWORK_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "casework.cli", "db", "upgrade"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    # Alembic's lines, one a migration, in the same shape as the web workers' lines.
    upgrades = [line for line in lines if line["message"].startswith("Running upgrade")]
    assert upgrades and all(set(line) >= {"time", "level", "logger", "message", "pid"} for line in lines)
    assert upgrades[0]["logger"] == "alembic.runtime.migration" and upgrades[0]["level"] == "INFO"
    # The command's own output for the person at the terminal stays plain text.
    assert done.stdout.startswith("database at revision head")


def test_the_format_follows_the_environment():
    assert load_settings({"env": "production", "secret_key": "k" * 40, "public_url": "https://x.example.org"}).logs_as_json
    assert not load_settings({"env": "development"}).logs_as_json
    assert not load_settings({"env": "production", "secret_key": "k" * 40, "public_url": "https://x.example.org",
                              "log_format": "text"}).logs_as_json
    assert load_settings({"env": "development", "log_format": "json"}).logs_as_json


def test_configuring_twice_keeps_one_handler(capsys):
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.configure_logging(as_json=False)
        logs.configure_logging(as_json=True)
        ours = [h for h in root.handlers if isinstance(h, logs.CaseworkHandler)]
        assert len(ours) == 1
        token = logs.request_id.set("abcdef123456")
        try:
            logging.getLogger("casework.test").warning("scadenza %s inviata", 7, extra={"pact_id": 7})
        finally:
            logs.request_id.reset(token)
        [line] = [json.loads(text) for text in capsys.readouterr().err.splitlines() if "scadenza" in text]
        assert line["message"] == "scadenza 7 inviata" and line["pact_id"] == 7
        assert line["request_id"] == "abcdef123456" and line["level"] == "WARNING"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
