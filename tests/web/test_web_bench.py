"""bench/web.py runs end to end at a tiny size: gunicorn starts, every page answers 200 to the
signed-in client, and the last line has the form issue 13 asks for (one size: no growth to give)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from casework import PROJECT_ROOT

LAST_LINE = re.compile(r"web: worst p95 \d+ ms at N=30 \(.+\); worst p95/floor \d+\.\d\d; growth 10k->100k n/a")


@pytest.mark.slow  # 15 to 25 s: the data, gunicorn starting, two sign-ins, each page twice
def test_the_bench_drives_every_page_and_ends_with_its_line(tmp_path) -> None:
    pytest.importorskip("gunicorn")
    pytest.importorskip("requests")
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "web.py"), "--sizes", "30", "--clients", "1", "--requests",
         "1", "--warmup", "1", "--export-requests", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert "pacts CSV export" in done.stdout and "peak RSS" in done.stdout
    for page in ("Oggi", "pact page", "beneficiary search", "caseload overview", "caseload drill-down", "approvals",
                 "indicators"):
        assert f"\n{page}" in done.stdout, page
