"""Helpers for tests that need a real tool or service: skip on a laptop, fail under CI=true."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).parent.parent
NODE_MODULES = ROOT / "node_modules"  # installed by `make tools` from package.json


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the test here; under CI=true the same absence is a failure (CI must run it)."""
    if in_ci():
        pytest.fail(f"required under CI: {reason} (run `make tools`)", pytrace=False)
    pytest.skip(reason)


def require(condition: object, reason: str) -> None:
    """`missing(reason)` unless `condition` holds."""
    if not condition:
        missing(reason)


def node_module(name: str) -> Path | None:
    """Node.js and an npm package from package.json installed into node_modules/, if both exist."""
    folder = NODE_MODULES / name
    return folder if shutil.which("node") and folder.is_dir() else None


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on just now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def radicale_server(folder: Path, *access: str) -> Iterator[str]:
    """A real CalDAV server (Radicale) on 127.0.0.1 storing into `folder`, with these `access`
    options (authentication and rights); yields its base URL, ending in /."""
    import socket
    import subprocess
    import sys
    import time

    port = free_port()
    command = [sys.executable, "-m", "radicale", "--config", "", "--server-hosts", f"127.0.0.1:{port}"]
    command += [
        "--storage-filesystem-folder",
        str(folder / "collections"),
        *access,
        "--logging-level",
        "warning",
    ]
    with (folder / "server.log").open("wb") as log:
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(200):
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if server.poll() is not None:
                        pytest.fail(f"Radicale did not start: {(folder / 'server.log').read_text()}")
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.terminate()
            server.wait(timeout=10)


@contextmanager
def uvicorn_serving(app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Run the ASGI `app` with uvicorn on 127.0.0.1 (a free port unless given) in a thread for the
    block; yields its base URL, without a trailing /."""
    import threading
    import time

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
