"""No strides or Prefect process outlives the command that started it: after `strides run`,
`strides http` and `strides serve` stop, only the kept local Prefect server is left (it is meant
to be), and after `strides server stop` nothing at all."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, SAMPLE_ORG
from tests.orchestration.test_serve_e2e import wait_for

STRIDES = str(Path(sys.executable).with_name("strides"))

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc (Linux)")


def environment(state: Path, mark: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    # Every process these commands start inherits the mark, whatever it becomes.
    return env | {"STRIDES_STATE_DIR": str(state), "STRIDES_ORGANISATION": str(SAMPLE_ORG), "TEST_MARK": mark}


def marked(mark: str) -> set[int]:
    """The live processes carrying the mark in their environment."""
    found = set()
    wanted = f"TEST_MARK={mark}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                found.add(int(entry.name))
        except OSError:
            continue  # gone meanwhile, or not ours to read
    return found


def session_of(pid: int) -> int | None:
    try:
        return os.getsid(pid)
    except ProcessLookupError:
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.mark.flow
def test_run_http_and_serve_leave_only_the_kept_server_and_server_stop_leaves_nothing(tmp_path: Path) -> None:
    state, mark = tmp_path / "state", uuid.uuid4().hex
    env = environment(state, mark)
    run = subprocess.run(
        [STRIDES, "run", "--now", "2026-12-01T12:00:00Z"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    try:
        assert run.returncode == 0, run.stderr
        status = subprocess.run(
            [STRIDES, "server", "status", "--json"], env=env, capture_output=True, text=True
        )
        server = json.loads(status.stdout)["pid"]
        kept = session_of(server)
        assert kept is not None and server in marked(mark)  # the mark reaches what a command starts

        def left() -> set[int]:
            """Marked processes outside the kept server's own session."""
            return {pid for pid in marked(mark) if session_of(pid) not in (kept, None)}

        assert left() == set()

        port = free_port()
        http = subprocess.Popen([STRIDES, "http", "--port", str(port)], env=env, cwd=ROOT)
        wait_for(lambda: http.poll() is None and listening(port), "strides http to listen", 60)
        http.send_signal(signal.SIGTERM)
        # uvicorn shuts down, then ends by the signal it caught, as the shell expects.
        assert http.wait(timeout=60) in (0, -signal.SIGTERM)
        assert left() == set()

        log = tmp_path / "serve.log"
        with log.open("wb") as output:
            serve = subprocess.Popen(
                [STRIDES, "serve"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
            )
            wait_for(lambda: "being served" in log.read_text(errors="replace"), "strides serve to serve", 180)
            serve.send_signal(signal.SIGTERM)
            serve.wait(timeout=90)
        wait_for(lambda: left() == set(), "serve's processes to end", 30)
    finally:
        subprocess.run([STRIDES, "server", "stop"], env=env, capture_output=True)
    wait_for(lambda: marked(mark) == set(), "the kept server to end", 30)
