"""The local Prefect server: started once, on first need, in the state folder, and reused.

Without `PREFECT_API_URL`, Prefect would start a temporary server for every command (about 20 s of
a 48-person tick went to starting and migrating it). Instead the first command that runs a flow
starts `prefect server start` on 127.0.0.1 in a session of its own, writes where it is to
`server.json` in Prefect's home, and leaves it running; later commands find it there and use it.
`strides server status|start|stop` shows, starts and stops it. Commands started together take
turns through a lock file, so one starts the server and the others use it.

Nothing here imports Prefect: the server is another process, and this process must point
`PREFECT_API_URL` at it before Prefect is imported.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from strides.config import Settings
from strides.flows import FlowError

HEALTH_TIMEOUT = 120.0  # the first start migrates Prefect's database: 6-13 s measured here
RECORD = "server.json"
LOCK = "server.lock"
LOG = "server.log"


class ServerError(FlowError, RuntimeError):
    """The local Prefect server did not come up, or could not be stopped."""


@dataclass(frozen=True)
class LocalServer:
    """Where the kept server is: its process, API URL, and since when (UTC, ISO 8601)."""

    pid: int
    api_url: str
    started: str
    log: str

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def server_environment(settings: Settings) -> dict[str, str]:
    """What a local Prefect server needs: its home in the state folder, and no telemetry."""
    settings.prefect_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(settings.prefect_dir),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": os.environ.get("PREFECT_UI_ENABLED", "true"),
    }
    env.pop("PREFECT_API_URL", None)
    return env


def start_process(settings: Settings, port: int, *, new_session: bool = True) -> subprocess.Popen[bytes]:
    """`prefect server start` on 127.0.0.1:`port`, its output appended to `server.log`."""
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    env = server_environment(settings)  # makes the folder the log goes to
    with (settings.prefect_dir / LOG).open("ab") as log:
        return subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=new_session,
        )


def wait_until_healthy(process: subprocess.Popen[bytes], api_url: str, log: Path) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while not healthy(api_url):
        if process.poll() is not None:
            raise ServerError(f"the Prefect server exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            raise ServerError(f"the Prefect server was not healthy after {HEALTH_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.25)


@contextmanager
def _turn(settings: Settings) -> Iterator[None]:
    """One process at a time finds, starts or stops the server (the others wait here)."""
    settings.prefect_dir.mkdir(parents=True, exist_ok=True)
    with (settings.prefect_dir / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _recorded(settings: Settings) -> LocalServer | None:
    path = settings.prefect_dir / RECORD
    try:
        return LocalServer(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None  # none yet, or a record no process could have written whole: start afresh


def find(settings: Settings) -> LocalServer | None:
    """The kept server, if it is running and answers; None otherwise."""
    found = _recorded(settings)
    if found is None or not _alive(found.pid) or not healthy(found.api_url):
        return None
    return found


def ensure(settings: Settings) -> tuple[LocalServer, bool]:
    """The kept server, started now if it is not running; and whether this call started it."""
    with _turn(settings):
        found = find(settings)
        if found is not None:
            return found, False
        stale = _recorded(settings)
        if stale is not None and _alive(stale.pid):
            _terminate(stale.pid)  # recorded, alive, not answering: a hung server holds the database
        port = free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        log = settings.prefect_dir / LOG
        process = start_process(settings, port)
        try:
            wait_until_healthy(process, api_url, log)
        except ServerError:
            _terminate(process.pid)
            raise
        return record(settings, process.pid, api_url), True


def record(settings: Settings, pid: int, api_url: str) -> LocalServer:
    """Write down where the server is, whole or not at all (other processes read it any time)."""
    since = datetime.now(UTC).isoformat(timespec="seconds")
    server = LocalServer(pid, api_url, since, str(settings.prefect_dir / LOG))
    path = settings.prefect_dir / RECORD
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(asdict(server)), encoding="utf-8")
    temporary.replace(path)
    return server


def forget(settings: Settings, pid: int) -> None:
    """Remove the record of the server `pid` (a server `strides serve` stops on its way out)."""
    found = _recorded(settings)
    if found is not None and found.pid == pid:
        (settings.prefect_dir / RECORD).unlink(missing_ok=True)


def _terminate(pid: int, grace: float = 20.0) -> None:
    """SIGTERM the server's process group (uvicorn and anything it started), SIGKILL after `grace`."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError as exc:
        raise ServerError(f"cannot stop the Prefect server (pid {pid}): {exc}") from None
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.1)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        _reap(pid)


def _reap(pid: int) -> None:
    """Collect the exit of a server this process started (else it lingers as a zombie)."""
    # Started by another process, it is not this one's child: its own parent, or init, collects it.
    with suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def stop(settings: Settings) -> LocalServer | None:
    """Stop the kept server; what was stopped, or None when none was running."""
    with _turn(settings):
        found = _recorded(settings)
        if found is None:
            return None
        running = _alive(found.pid)
        if running:
            _terminate(found.pid)
        (settings.prefect_dir / RECORD).unlink(missing_ok=True)
        return found if running else None


def use(settings: Settings) -> tuple[str, LocalServer | None]:
    """Point this process's Prefect at a server: `PREFECT_API_URL` when set (by the user, or by a
    Prefect already configured in this process), else the kept local one, started if need be.
    Returns the API URL, and the local server when this call started it."""
    configured = os.environ.get("PREFECT_API_URL") or _configured_in_process()
    if configured:
        return configured, None
    server, started = ensure(settings)
    os.environ["PREFECT_API_URL"] = server.api_url
    return server.api_url, server if started else None


def _configured_in_process() -> str | None:
    """The API URL of a Prefect already imported and pointed at a server (a test harness does
    this through Prefect's settings, not the environment)."""
    if "prefect" not in sys.modules:
        return None
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None
