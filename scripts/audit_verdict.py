"""The verdict of scripts/audit, from the JSON reports of pip-audit and npm audit.

Neither tool's exit status can be trusted alone: when its advisory service cannot be reached,
pip-audit skips every package ("could not be audited"), prints "No known vulnerabilities
found" and exits 0, and npm audit answers an error object instead of a report. A package that
was not checked is NOT AUDITED, never a pass.

    python scripts/audit_verdict.py --pip LABEL REPORT.json [--pip ...] [--npm LABEL REPORT.json]

exit 0: every package audited and none vulnerable; 1: vulnerabilities found; 2: NOT AUDITED
(some package or a whole report could not be checked).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 2


@dataclass
class Verdict:
    label: str
    audited: int = 0
    vulnerable: list[str] = field(default_factory=list)
    not_audited: list[str] = field(default_factory=list)

    @property
    def status(self) -> int:
        if self.not_audited:
            return NOT_AUDITED
        return VULNERABLE if self.vulnerable else CLEAN


def _load(text: str) -> object:
    try:
        return json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        return None


def pip_audit_verdict(label: str, report: str) -> Verdict:
    """pip-audit's `--format json`: {"dependencies": [{"name", "version", "vulns": [...]} or
    {"name", "skip_reason"}], "fixes": [...]}."""
    verdict = Verdict(label)
    data = _load(report)
    if not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        verdict.not_audited.append("pip-audit wrote no report (see its messages above)")
        return verdict
    if not data["dependencies"]:
        verdict.not_audited.append("pip-audit found no package to audit")
    for dependency in data["dependencies"]:
        name = dependency.get("name", "?")
        if "skip_reason" in dependency or "vulns" not in dependency:
            verdict.not_audited.append(f"{name}: {dependency.get('skip_reason') or 'skipped'}")
            continue
        verdict.audited += 1
        for vulnerability in dependency["vulns"]:
            fixed = ", ".join(vulnerability.get("fix_versions") or []) or "no fixed version yet"
            verdict.vulnerable.append(f"{name} {dependency.get('version', '?')}: {vulnerability.get('id', '?')} "
                                      f"(fixed in {fixed})")
    return verdict


def npm_audit_verdict(label: str, report: str) -> Verdict:
    """npm audit's `--json` (report version 2): {"auditReportVersion": 2, "vulnerabilities":
    {name: {"severity", "via", ...}}, "metadata": {"dependencies": {"prod": n, ...}}}; an error
    answer has "error" or "message" and no metadata."""
    verdict = Verdict(label)
    data = _load(report)
    metadata = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("auditReportVersion") != 2 or not isinstance(metadata, dict):
        reason = data.get("message") if isinstance(data, dict) else None
        verdict.not_audited.append(f"npm audit answered no report: {reason or 'no JSON report'}")
        return verdict
    verdict.audited = int(metadata.get("dependencies", {}).get("prod", 0) or 0)
    for name, entry in sorted((data.get("vulnerabilities") or {}).items()):
        verdict.vulnerable.append(f"{name}: {entry.get('severity', '?')} ({entry.get('range', '?')})")
    return verdict


def report(verdicts: list[Verdict]) -> tuple[int, list[str]]:
    """The lines to print and the exit status of the whole audit."""
    lines = []
    for verdict in verdicts:
        if verdict.not_audited:
            lines.append(f"NOT AUDITED: {verdict.label}: {len(verdict.not_audited)} not checked, "
                         f"{verdict.audited} checked")
            lines += [f"  {reason}" for reason in verdict.not_audited[:10]]
            if len(verdict.not_audited) > 10:
                lines.append(f"  ... and {len(verdict.not_audited) - 10} more")
        if verdict.vulnerable:
            lines.append(f"VULNERABLE: {verdict.label}: {len(verdict.vulnerable)} known vulnerabilities")
            lines += [f"  {found}" for found in verdict.vulnerable]
        if verdict.status == CLEAN:
            lines.append(f"audited: {verdict.label}: {verdict.audited} packages, no known vulnerabilities")
    status = max((verdict.status for verdict in verdicts), default=NOT_AUDITED)
    if status == NOT_AUDITED:
        lines.append("NOT AUDITED: the advisory services could not check every package; "
                     "this is not a pass (run it where they can be reached)")
    return status, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pip", nargs=2, action="append", default=[], metavar=("LABEL", "REPORT"))
    parser.add_argument("--npm", nargs=2, action="append", default=[], metavar=("LABEL", "REPORT"))
    arguments = parser.parse_args(argv)

    def read(path: str) -> str:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError:
            return ""

    verdicts = [pip_audit_verdict(label, read(path)) for label, path in arguments.pip]
    verdicts += [npm_audit_verdict(label, read(path)) for label, path in arguments.npm]
    status, lines = report(verdicts)
    print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main())
