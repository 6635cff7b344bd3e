"""The benchmark must keep running: a tiny run of bench/run.py (figures printed, not asserted).
Slow: `pytest -m "not slow"` skips it; `make test` runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run_prints_the_table(tmp_path: Path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    rows = [line for line in res.stdout.splitlines() if line.startswith("| 60 |")]
    assert len(rows) == 1, res.stdout
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    wall_cpu = re.fullmatch(r"([\d.]+) s \(([\d.]+) s\)", cells[1])  # kepu: wall time (CPU time)
    assert wall_cpu and float(wall_cpu[1]) > 0 and float(wall_cpu[2]) > 0, cells
    warm = re.fullmatch(r"([\d.]+) s \(([\d.]+) s\)", cells[5])  # warm after a one-file edit
    assert warm and float(warm[1]) > 0, cells
    assert re.fullmatch(r"[\d.]+ s", cells[6]) and re.fullmatch(r"[\d.]+ s", cells[7]), cells  # check, serve
    assert float(cells[9].removesuffix(" KB")) > 1, f"no activity pages measured: {cells}"
    assert (tmp_path / "site-60" / "calendar.ics").is_file()
