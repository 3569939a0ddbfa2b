"""Jobs run at once: each but the last in a forked process of its own, the last in this one.

Planning is Python's work: threads of one process take turns at Python's lock, so a second core
plans only in a second process. A forked process starts with everything the parent has (the
rules compiled, the modules imported, the statements SQLAlchemy compiled) for the cost of the
fork, where a fresh interpreter would import and compile all of it again. This process runs the
last job itself, so what running it warmed stays here for the next call's children to inherit
(children that plan and end take what they compiled with them). A child's result comes back
pickled through a pipe, so jobs return little (an outcome, keys), not a plan.

What a forked child may use: the child has only the thread that forked it, so a lock another
thread held at that moment stays held. The jobs here use the planner, the store through
connections of their own (`strides.store.db` lets the parent's pooled connections go in the
child), and nothing of Prefect's; the child ends with `os._exit`, running no exit handler of
the parent's.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

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


def at_once(jobs: Sequence[Callable[[], T]]) -> list[T]:
    """Each job's result, in order, the jobs run at the same time: each but the last in a forked
    process of its own, the last in this process. (One job, or no fork: all here, in turn.)

    Every job runs to its end whatever the others do (each writes in a transaction of its own).
    Then what this process's job raised is raised; else a child's failure, the first by index,
    as `JobFailed`.
    """
    if len(jobs) <= 1 or not can_fork():
        return [job() for job in jobs]
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    try:
        for job in jobs[:-1]:
            children.append(_fork(job))
        mine = jobs[-1]()
    except Exception:
        _answers(children)  # they finish first
        raise
    except BaseException:
        # Interrupted: the children go too, rather than run on unwatched.
        for pid, _ in children:
            os.kill(pid, signal.SIGTERM)
        _answers(children)
        raise
    results: list[T] = []
    for index, (ok, value) in enumerate(_answers(children)):
        if not ok:
            raise JobFailed(index, str(value))
        results.append(value)  # type: ignore[arg-type]  # what job `index` returned, unpickled
    return [*results, mine]


def _fork(job: Callable[[], object]) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12 warns that a child of a process with threads may find a lock held forever:
        # the child here keeps to what the module's docstring lists.
        warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        _child(job, read_end, write_end)
    os.close(write_end)
    return pid, read_end


def _answers(children: Sequence[tuple[int, int]]) -> list[tuple[bool, object]]:
    """Each child's (ok, result or failure text), once it has ended."""
    found = []
    for pid, read_end in children:
        with os.fdopen(read_end, "rb") as answer:
            received = answer.read()
        _, status = os.waitpid(pid, 0)
        found.append(_answer(received, status))
    return found


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
