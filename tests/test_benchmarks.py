"""The planning benchmark runs end to end, on either database, and its sides decide the same messages.

A small organisation: this checks that `bench/plan_day.py` works (its figures are in
docs/benchmark.md), never how fast anything is.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.postgres import reachable
from tests.tools import missing

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_planning_benchmark_runs_and_its_three_ways_agree(database: str, tmp_path: Path) -> None:
    if database == "postgresql" and (problem := reachable()) is not None:
        missing(problem)
    out = tmp_path / "results.json"
    command = [sys.executable, "bench/plan_day.py", "--people", "400", "--rounds", "1"]
    run = subprocess.run(
        [*command, "--database", database, "--out", str(out)], cwd=ROOT, capture_output=True, text=True
    )
    # The benchmark exits non-zero when the planner and the naive peer decide different messages.
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["database"] == database
    assert result["people"] == 400
    for day in ("first_day", "steady_day"):
        assert result[day]["same_messages"] is True
        assert result[day]["notices"] + result[day]["invite_messages"] > 0
        assert result[day]["rows_fetched_by_floor"] > 0
    assert result["steady_day"]["steady"] is True
