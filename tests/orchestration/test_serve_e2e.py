"""End to end: `strides serve` against the local Prefect server it starts itself receives a
`milestone.completed` event from `strides emit`, and the congratulation lands in the outbox.

Slow (a Prefect server starts): the one test of its kind.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SAMPLE_ORG

STRIDES = [str(Path(sys.executable).with_name("strides"))]


def clean_environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    return {**env, "STRIDES_STATE_DIR": str(state), "STRIDES_ORGANISATION": str(SAMPLE_ORG)}


def wait_for(condition, what: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


@pytest.mark.flow
def test_a_served_deployment_congratulates_a_completed_milestone_announced_by_an_event(tmp_path: Path):
    state = tmp_path / "state"
    env = clean_environment(state)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*STRIDES, "serve"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:

        def serving() -> bool:
            assert server.poll() is None, log.read_text()[-3000:]
            return "being served" in log.read_text(errors="replace")

        wait_for(serving, "the deployments to be served", 180)
        api_url = re.search(r"against (http://\S+/api)", log.read_text()).group(1)  # type: ignore[union-attr]
        emit = [
            *STRIDES,
            "emit",
            "milestone.completed",
            "--goal=g00003",
            "--set=milestone=m000007",
            "--set=completed_at=2026-12-03T15:30:00+00:00",
            f"--api-url={api_url}",
        ]
        outbox = state / "outbox"

        def congratulated() -> bool:
            return any(outbox.glob("*milestone-congratulation-p002-*.eml"))

        # The server loads new triggers on its own schedule: announce again until one fires. The
        # same completion is the same message, so repeats cannot double it.
        for _ in range(12):
            subprocess.run(emit, cwd=ROOT, env=env, check=True, capture_output=True)
            try:
                wait_for(congratulated, "the congratulation", 10)
                break
            except AssertionError:
                continue
        assert congratulated(), log.read_text()[-3000:]
        message = next(outbox.glob("*milestone-congratulation-p002-*.eml")).read_text()
        assert "Subject: Milestone reached:" in message
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    # The local server went with it.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{api_url}/health", timeout=2)
