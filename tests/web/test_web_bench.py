"""bench/web.py runs end to end at a tiny size: gunicorn starts, every page answers 200 to the
signed-in clients, and the last line has the exact form issue 13 asks for."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from casework import PROJECT_ROOT

LAST_LINE = re.compile(r"web: worst p95 \d+ ms at N=\d+ \(.+\); worst p95/floor \d+\.\d\d; growth 10k->100k \d+\.\d\d")


@pytest.mark.slow  # about 20 s: two small data sets, two gunicorn starts
def test_the_bench_drives_every_page_and_ends_with_its_line(tmp_path) -> None:
    pytest.importorskip("gunicorn")
    pytest.importorskip("requests")
    done = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "web.py"), "--sizes", "20,40", "--clients", "2", "--requests",
         "1", "--warmup", "0", "--export-requests", "1", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert LAST_LINE.fullmatch(lines[-1]), lines[-1]
    assert "pacts CSV export" in done.stdout and "peak RSS" in done.stdout
    assert "growth on sqlite, N=20 -> N=40" in done.stdout
