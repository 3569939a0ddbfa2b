"""Jobs run at once, each in a forked process of its own, their results sent back through pipes.

Planning is Python's work: threads of one process take turns at Python's lock, so a second core
plans only in a second process. A forked process starts with everything the parent has (the
rules compiled, the modules imported) for the cost of the fork, where a fresh interpreter would
import and compile all of it again. A job's result comes back pickled, so jobs return little (an
outcome, keys), not a plan.

What a forked child may use: the child has only the thread that forked it, so a lock another
thread held at that moment stays held. The jobs here use the planner, the store through
connections of their own (`strides.store.db` lets the parent's pooled connections go in the
child), and nothing of Prefect's; the child ends with `os._exit`, running no exit handler of
the parent's.
"""

from __future__ import annotations

import os
import pickle
import selectors
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TypeVar

from strides.errors import StridesError

T = TypeVar("T")


class JobFailed(StridesError, RuntimeError):
    """A job failed in its process: which one, and what it raised there (with its traceback)."""

    def __init__(self, index: int, text: str) -> None:
        super().__init__(f"job {index} failed in its process:\n{text}")
        self.index = index
        self.text = text


def can_fork() -> bool:
    """Forking is only safe enough on Linux (macOS's system libraries are not fork-safe)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def at_once(jobs: Sequence[Callable[[], T]], processes: int) -> list[T]:
    """Each job's result, in order: up to `processes` jobs at a time, each in a forked process.

    With one process (or one job, or no fork) the jobs run here, one after another. A job that
    fails stops more from starting; those running finish (each writes in a transaction of its
    own), then the first failure is raised as `JobFailed`.
    """
    if processes <= 1 or len(jobs) <= 1 or not can_fork():
        return [job() for job in jobs]
    results: dict[int, T] = {}
    failures: dict[int, str] = {}
    waiting = iter(enumerate(jobs))
    running: dict[int, tuple[int, int, bytearray]] = {}  # read end: (job index, pid, bytes so far)
    with selectors.DefaultSelector() as selector:

        def start_next() -> bool:
            found = next(waiting, None)
            if found is None:
                return False
            index, job = found
            read_end, write_end = os.pipe()
            with warnings.catch_warnings():
                # Python 3.12 warns that a child of a process with threads may find a lock held
                # forever: the child here keeps to what the module's docstring lists.
                warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
                pid = os.fork()
            if pid == 0:  # the child: run the job, send its result, leave without cleaning up
                _child(job, read_end, write_end)
            os.close(write_end)
            running[read_end] = (index, pid, bytearray())
            selector.register(read_end, selectors.EVENT_READ)
            return True

        try:
            while len(running) < processes and start_next():
                pass
            _collect(selector, running, results, failures, start_next)
        except BaseException:
            # Interrupted (or a fork failed): the children go too, rather than run on unwatched.
            for _, pid, _ in running.values():
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            raise
    if failures:
        first = min(failures)
        raise JobFailed(first, failures[first])
    return [results[index] for index in range(len(jobs))]


def _collect(
    selector: selectors.BaseSelector,
    running: dict[int, tuple[int, int, bytearray]],
    results: dict[int, Any],
    failures: dict[int, str],
    start_next: Callable[[], bool],
) -> None:
    """Read the children's answers as they come, starting the next job as each one ends."""
    while running:
        for key, _ in selector.select():
            read_end = int(key.fd)
            index, pid, received = running[read_end]
            chunk = os.read(read_end, 1 << 20)
            if chunk:
                received += chunk
                continue
            selector.unregister(read_end)
            os.close(read_end)
            del running[read_end]
            _, status = os.waitpid(pid, 0)
            ok, value = _answer(bytes(received), status)
            if ok:
                results[index] = value
            else:
                failures[index] = str(value)
            if not failures:
                start_next()


def _child(job: Callable[[], object], read_end: int, write_end: int) -> NoReturn:
    code = 1
    try:
        os.close(read_end)
        try:
            answer: tuple[bool, object] = (True, job())
        except BaseException:  # everything goes back to the parent, as text
            answer = (False, traceback.format_exc())
        try:
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            data = pickle.dumps((False, "its result could not be sent back:\n" + traceback.format_exc()))
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
        code = 0
    finally:
        os._exit(code)


def _answer(received: bytes, status: int) -> tuple[bool, object]:
    if not received:
        return False, f"its process ended without an answer ({_status(status)})"
    try:
        found = pickle.loads(received)
    except Exception as exc:
        return False, f"its answer could not be read ({exc}; {_status(status)})"
    return bool(found[0]), found[1]


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
