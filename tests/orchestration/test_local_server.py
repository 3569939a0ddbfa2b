"""The local Prefect server: started once by the first command that needs it, used by the next
ones, shown and stopped by `strides server`; no command leaves a server nobody knows about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from strides.config import Settings
from strides.flows import server

from ..conftest import ROOT, SAMPLE_ORG


def strides(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    env |= {"STRIDES_STATE_DIR": str(state), "STRIDES_ORGANISATION": str(SAMPLE_ORG)}
    command = [str(Path(sys.executable).parent / "strides"), *args]
    return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_first_run_starts_the_server_the_next_uses_it_and_stop_ends_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert strides(state, "server", "status").returncode == 1
    try:
        first = strides(state, "run", "--now", "2026-12-01T12:00:00Z")
        assert first.returncode == 0, first.stderr
        assert "started a local Prefect server" in first.stderr
        status = strides(state, "server", "status", "--json")
        assert status.returncode == 0, status.stdout
        found = json.loads(status.stdout)
        assert found["running"] and found["ui_url"].startswith("http://127.0.0.1:")

        second = strides(state, "run", "--now", "2026-12-01T12:15:00Z")
        assert second.returncode == 0, second.stderr
        assert "started a local Prefect server" not in second.stderr
        assert json.loads(strides(state, "server", "status", "--json").stdout)["pid"] == found["pid"]
        # Each tick is a real flow run the server keeps.
        runs = httpx.post(f"{found['api_url']}/flow_runs/filter", json={}, timeout=10).json()
        assert sorted(run["name"] for run in runs) == ["tick 2026-12-01 12:00", "tick 2026-12-01 12:15"]
        assert {run["state_type"] for run in runs} == {"COMPLETED"}
    finally:
        stopped = strides(state, "server", "stop")
    assert stopped.returncode == 0 and f"pid {found['pid']}" in stopped.stdout
    assert not server.healthy(found["api_url"])
    assert strides(state, "server", "status").returncode == 1
    assert "no local Prefect server was running" in strides(state, "server", "stop").stdout


def test_a_record_left_by_a_server_that_died_is_not_taken_for_a_running_one(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    settings.prefect_dir.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    server.record(settings, dead.pid, "http://127.0.0.1:9/api")
    assert server.find(settings) is None
    answer = strides(settings.state_dir, "server", "status")
    assert answer.returncode == 1 and "no local Prefect server is running" in answer.stdout
    assert server.stop(settings) is None and not (settings.prefect_dir / server.RECORD).exists()


def test_a_half_written_record_is_no_server(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    settings.prefect_dir.mkdir(parents=True)
    (settings.prefect_dir / server.RECORD).write_text('{"pid": 12')
    assert server.find(settings) is None


def test_a_configured_prefect_api_is_used_and_no_server_is_started(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.internal:4200/api")
    settings = Settings(state_dir=tmp_path / "state")
    assert server.use(settings) == ("http://prefect.internal:4200/api", None)
    assert not (settings.prefect_dir / server.RECORD).exists()


def test_a_command_run_after_the_server_died_starts_a_new_one(tmp_path: Path) -> None:
    import signal

    state = tmp_path / "state"
    started = strides(state, "server", "start", "--json")
    assert started.returncode == 0, started.stderr
    first = json.loads(started.stdout)
    os.killpg(first["pid"], signal.SIGKILL)  # a crash: its record stays behind
    try:
        assert strides(state, "server", "status").returncode == 1
        run = strides(state, "run", "--now", "2026-12-01T12:00:00Z")
        assert run.returncode == 0, run.stderr
        assert "started a local Prefect server" in run.stderr
        again = json.loads(strides(state, "server", "status", "--json").stdout)
        assert again["running"] and again["pid"] != first["pid"]
    finally:
        strides(state, "server", "stop")
