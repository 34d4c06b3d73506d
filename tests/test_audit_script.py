"""scripts/audit's verdict on recorded pip-audit and npm audit reports: a report in which the
advisory service could not be reached is NOT AUDITED (exit 2), never a pass, although pip-audit
itself printed "No known vulnerabilities found" and exited 0 on it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from casework import PROJECT_ROOT

REPORTS = Path(__file__).parent / "audit_reports"
SCRIPT = PROJECT_ROOT / "scripts" / "audit_verdict.py"


@pytest.fixture(scope="module")
def verdicts():
    spec = importlib.util.spec_from_file_location("audit_verdict", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    # Not check=True: the exit status is what is tested.
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], check=False, capture_output=True, text=True,
                          timeout=60)


def test_an_audited_clean_lock_passes():
    done = _run("--pip", "production.lock", str(REPORTS / "pip-audit-clean.json"),
                "--npm", "package-lock.json", str(REPORTS / "npm-audit-clean.json"))
    assert done.returncode == 0, done.stdout
    assert "audited: production.lock: 3 packages, no known vulnerabilities" in done.stdout
    assert "audited: package-lock.json: 3 packages, no known vulnerabilities" in done.stdout
    assert "NOT AUDITED" not in done.stdout


def test_packages_the_service_could_not_check_are_not_audited():
    done = _run("--pip", "production.lock", str(REPORTS / "pip-audit-unreachable.json"))
    assert done.returncode == 2
    lines = done.stdout.splitlines()
    assert lines[0] == "NOT AUDITED: production.lock: 3 not checked, 0 checked"
    assert lines[1].startswith("  alembic: Dependency not found on PyPI and could not be audited")
    assert lines[-1].startswith("NOT AUDITED: the advisory services could not check every package")


def test_one_skipped_package_among_clean_ones_is_enough_to_refuse_a_pass(verdicts):
    verdict = verdicts.pip_audit_verdict("test.lock", """{"dependencies": [
        {"name": "flask", "version": "3.1.2", "vulns": []},
        {"name": "casework", "skip_reason": "Dependency not found on PyPI and could not be audited: casework (0.1.0)"}],
        "fixes": []}""")
    assert (verdict.status, verdict.audited) == (verdicts.NOT_AUDITED, 1)


def test_a_vulnerability_is_named_with_its_fix():
    done = _run("--pip", "production.lock", str(REPORTS / "pip-audit-vulnerable.json"))
    assert done.returncode == 1
    assert "VULNERABLE: production.lock: 1 known vulnerabilities" in done.stdout
    assert "  jinja2 3.1.4: GHSA-q2x7-8rv6-6q7h (fixed in 3.1.5)" in done.stdout


def test_not_audited_wins_over_vulnerable_and_clean():
    done = _run("--pip", "production.lock", str(REPORTS / "pip-audit-vulnerable.json"),
                "--pip", "test.lock", str(REPORTS / "pip-audit-clean.json"),
                "--npm", "package-lock.json", str(REPORTS / "npm-audit-unreachable.json"))
    assert done.returncode == 2
    assert "NOT AUDITED: package-lock.json: 1 not checked, 0 checked" in done.stdout
    assert "405 Method Not Allowed" in done.stdout
    assert "VULNERABLE: production.lock" in done.stdout  # still listed


@pytest.mark.parametrize("report", ["", "No known vulnerabilities found\n", '{"dependencies": []}', "{not json"])
def test_a_missing_empty_or_unreadable_report_is_not_a_pass(verdicts, report):
    assert verdicts.pip_audit_verdict("production.lock", report).status == verdicts.NOT_AUDITED
    assert verdicts.npm_audit_verdict("package-lock.json", report).status == verdicts.NOT_AUDITED


def test_a_report_file_that_was_never_written_is_not_audited(tmp_path):
    done = _run("--pip", "production.lock", str(tmp_path / "missing.json"))
    assert done.returncode == 2 and "NOT AUDITED: production.lock" in done.stdout
