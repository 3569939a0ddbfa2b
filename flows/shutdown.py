"""SIGTERM in strides' long-lived processes (`strides serve`, `strides listen`).

The first SIGTERM asks for a graceful stop: KeyboardInterrupt in the main thread, the path Ctrl-C
takes (Prefect's runner pauses its schedules, the local Prefect server is stopped). An exception
raised by a signal handler does not always arrive, though: when the signal lands while Python runs
a weakref callback or a `__del__`, the exception is printed as "Exception ignored in ..." and
dropped, and the process goes on serving. So the first SIGTERM also starts a countdown: if the
process is still alive `grace` seconds later, the watchdog thread stops the child processes
registered here (the local Prefect server, which lives in a session of its own and would outlive
this process) and ends the process with `os._exit`. A second SIGTERM does that at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import NoReturn

# What a shell reports for a process that SIGTERM ended: a forced exit is not a clean one.
FORCED_EXIT_STATUS = 128 + signal.SIGTERM
# How long a registered child has between SIGTERM and SIGKILL on a forced exit.
CHILD_STOP_SECONDS = 5.0
# How long the forced exit waits for stdout and stderr to flush (a full pipe must not hold it).
FLUSH_SECONDS = 2.0


class _Watchdog:
    """The countdown after the first SIGTERM, on a daemon thread that waits from `install` on.

    The thread starts there, not in the signal handler: the handler may interrupt the main thread
    while it holds threading's own locks, and starting a thread there could deadlock.
    """

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.requested = threading.Event()
        self.again = threading.Event()
        self.thread = threading.Thread(target=self._run, name="strides-sigterm-watchdog", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.requested.wait()
        if self.again.wait(self.grace):
            exit_now("a second SIGTERM")
        exit_now(f"still running {self.grace:g} s after SIGTERM")


_watchdog: _Watchdog | None = None
_children: set[subprocess.Popen[bytes]] = set()
_children_lock = threading.Lock()


def install(grace: float) -> None:
    """Handle SIGTERM with `on_sigterm`; the process ends at the latest `grace` s after the first."""
    global _watchdog
    if _watchdog is None:
        _watchdog = _Watchdog(grace)
    _watchdog.grace = grace
    signal.signal(signal.SIGTERM, on_sigterm)


def on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """First SIGTERM: start the countdown and interrupt the main thread; a second: exit now."""
    if _watchdog is None:
        raise RuntimeError("strides.flows.shutdown.on_sigterm runs only after strides.flows.shutdown.install")
    if _watchdog.requested.is_set():
        # The watchdog exits; returning lets the main thread go on until it does.
        _watchdog.again.set()
        return
    _watchdog.requested.set()
    # os.write: sys.stderr's buffer may be held by the very code this handler interrupted.
    _say(f"strides: SIGTERM received, stopping; forced exit in {_watchdog.grace:g} s or at a second SIGTERM")
    raise KeyboardInterrupt


def stopping() -> bool:
    """Whether a SIGTERM asked this process to stop."""
    return _watchdog is not None and _watchdog.requested.is_set()


@contextmanager
def stopped_on_forced_exit(process: subprocess.Popen[bytes]) -> Iterator[None]:
    """While inside, a forced exit stops `process` before this process ends."""
    with _children_lock:
        _children.add(process)
    try:
        yield
    finally:
        with _children_lock:
            _children.discard(process)


def exit_now(why: str) -> NoReturn:
    """End the process at once: flush what it printed, stop its registered children, `os._exit`."""
    _flush(FLUSH_SECONDS)
    _say(f"strides: {why}; exiting now (status {FORCED_EXIT_STATUS})")
    _stop_children()
    os._exit(FORCED_EXIT_STATUS)


def _stop_children() -> None:
    with _children_lock:
        children = list(_children)
    for process in children:
        _terminate(process)


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after `CHILD_STOP_SECONDS`; waited for, so none is left behind."""
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=CHILD_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=CHILD_STOP_SECONDS)
    except Exception as exc:  # the exit must go on whatever one child does
        _say(f"strides: could not stop process {process.pid} ({process.args!r}): {exc!r}")


def _flush(timeout: float) -> None:
    """Flush stdout and stderr from a helper thread, waiting at most `timeout` seconds for it."""

    def flush() -> None:
        for stream in (sys.stdout, sys.stderr):
            # A closed or broken stream cannot be helped.
            with suppress(Exception):
                stream.flush()

    helper = threading.Thread(target=flush, name="strides-exit-flush", daemon=True)
    helper.start()
    helper.join(timeout)


def _say(text: str) -> None:
    """Write a line to file descriptor 2 directly, past Python's (lockable) buffers."""
    with suppress(OSError):
        os.write(2, f"{text}\n".encode(errors="replace"))
