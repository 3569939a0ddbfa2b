"""Speed machinery, in one place: what the engine opts into to plan and deliver faster.

Nothing here changes what is planned or sent; remove any of it and strides does the same work,
slower. Each trick says what it gained, as measured by the benchmarks in bench/ (ratios in
docs/benchmark.md and docs/email.md):

- **processes** (`at_once`): a shard is planned in forked processes at once, the last job in this
  one. Planning is Python's work, and threads of one process take turns at Python's lock: a second
  core plans only in a second process. A prepared 100,000-person steady day: PostgreSQL 2.13 s in
  one process to 1.74 s in two, SQLite 1.87 to 1.01 s.
- **delivery helpers** (`forked`): a tick with more than a chunk due forks `deliver_processes - 1`
  processes from the flow's own thread, before its delivery tasks start, each draining the ledger
  beside the tasks (`strides.flows.common.delivery_helpers`): building a message is Python's work,
  and the tasks' threads take turns at Python's lock. Measured by bench/first_day.py (figures in
  docs/orchestration.md, "A first day delivered").
- **threads** (`rule_runner`): on PostgreSQL two rules are planned at once in threads, one
  planning while the other waits for the server's answer (which does not hold Python's lock). On
  SQLite, which runs in this process, two threads measured slower (a prepared 100,000-person
  steady day: best 3.04 s against 2.51 s one at a time), so it plans one rule at a time.
- **the collector** (`collector_paused`, `fewer_collections`): planning and delivery make hundreds of
  thousands of short-lived acyclic objects; Python's cyclic collector walked them again and again
  (a third of a large tick's planning, 40% of a dynamic-template digest's CPU time).
- **memory maps** (`mapped_reads`): SQLite reads through a 1 GiB memory map and a 64 MiB page cache
  while a window is planned: page by page through system calls, SQLite's default 2 MiB cache made
  half of the planner's statement time.

What a forked child may use: the child has only the thread that forked it, so a lock another
thread held at that moment stays held. The jobs here use the planner, the store through
connections of their own (`strides.store.db` lets the parent's pooled connections go in the
child), and nothing of Prefect's; the child ends with `os._exit`, running no exit handler of
the parent's.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import NoReturn, TypeVar

from strides.domain.errors import StridesError
from strides.rules.planning import RuleRunner, one_by_one
from strides.store import Session
from strides.store.db import sqlite_pragmas

# SQLite's page cache (KiB) and memory map (bytes) while a window is planned (`planning`).
CACHE_KIB = 64 * 1024
MMAP_BYTES = 1 << 30

T = TypeVar("T")


# -- processes --------------------------------------------------------------------------------


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


class Forked:
    """Jobs running in forked processes while this one goes on (`forked`); `results` waits for them."""

    def __init__(self, children: list[tuple[int, int]]) -> None:
        self._children = children

    def results(self) -> list[object]:
        """Each job's result, in order, once all have ended; the first failure as `JobFailed`."""
        found = []
        for index, (ok, value) in enumerate(_answers(self._children)):
            if not ok:
                raise JobFailed(index, str(value))
            found.append(value)
        return found

    def stop(self) -> None:
        """End them (this process was interrupted), and wait for them to go."""
        for pid, _ in self._children:
            os.kill(pid, signal.SIGTERM)
        _answers(self._children)


def forked(jobs: Sequence[Callable[[], object]]) -> Forked:
    """Start each job in a process forked for it, and return at once.

    Fork only from a thread while no other thread of this process is inside SQLite or holds a
    lock the jobs need: a child has only the forking thread, and a lock held elsewhere stays held
    in it for ever (a delivery task's fork while another task's thread opened a SQLite connection
    hung on SQLite's own mutex).
    """
    if not can_fork():
        raise RuntimeError("forked() needs fork (Linux): check can_fork() first")
    return Forked([_fork(job) for job in jobs])


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


# -- threads ----------------------------------------------------------------------------------


def two_at_once(parts: Sequence[Callable[[], None]]) -> None:
    """Plan two rules (parts of rules) at a time: this thread and one more each take the next
    part in turn, so while one waits for the database server's answer (without holding
    Python's lock), the other plans. This thread reads through the session's own connection,
    so only the other needs one more. A part that fails stops both from taking more."""
    remaining = iter(parts)
    taking = threading.Lock()
    failed = threading.Event()

    def take_in_turn() -> None:
        while not failed.is_set():
            with taking:
                part = next(remaining, None)
            if part is None:
                return
            try:
                part()
            except BaseException:
                failed.set()
                raise

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="strides-plan") as pool:
        other = pool.submit(take_in_turn)
        take_in_turn()  # should this raise, the pool still waits for the other thread's part
        other.result()  # raises what planning its part raised


def rule_runner(session: Session) -> RuleRunner:
    """How a window's rules are planned: two at once on PostgreSQL, whose server does the
    statements' work while Python waits (0.8 of a 0.9 s floor at 100,000 people); one after the
    other on SQLite, which runs in this process: there two at once measured slower (a prepared
    100,000-person steady day, five rounds each: best 3.04 s against 2.51, median 3.40 against
    2.79), the threads taking turns at Python's lock for every row they convert."""
    return two_at_once if session.get_bind().dialect.name == "postgresql" else one_by_one


# -- the collector and the memory map ---------------------------------------------------------


class _Collector:
    """Python's cyclic garbage collector, as `fewer_collections` blocks share it in one process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.holders = 0
        self.saved: tuple[int, int, int] | None = None
        self.frozen_before = False

    def after_fork_in_child(self) -> None:
        # A forked child has only the thread that forked: another thread's hold on the lock would
        # never be let go there.
        self.lock = threading.Lock()


_collector = _Collector()
if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork either
    os.register_at_fork(after_in_child=_collector.after_fork_in_child)


@contextmanager
def planning(session: Session) -> Iterator[None]:
    """A window is planned: the cyclic collector paused (`collector_paused`) and SQLite read
    through a memory map (`mapped_reads`) until the block ends."""
    with collector_paused(), mapped_reads(session):
        yield


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, on again after, with what the block
    left alive moved to the oldest generation unwalked.

    Planning builds tens of thousands of short-lived, acyclic objects (records, occasions,
    intents); with the collector on, each threshold crossed walks the whole young heap again:
    paused, a 10,000-person steady day planned in 0.37 s against 0.50 s. What planning left alive
    (the plan: a million objects at 100,000 people) goes with the plan, by reference counting;
    the first collection after the pause would walk all of it as young objects (a prepared
    100,000-person steady day planned in one process: 2.44-2.67 s with that walk, 1.95-2.13 s
    without; a 100,000-person tick took 4.2-4.5 s with it, 3.8-4.0 s without). So it is frozen
    (never walked) and, unless a `fewer_collections` block around is to hand it back or someone
    else froze objects before, unfrozen at once into the oldest generation, which only a full
    collection walks.
    """
    enabled = gc.isenabled()
    # Inside a `fewer_collections` block everything that existed is frozen: counting the frozen
    # objects walks them all (gc.get_freeze_count is a list walk, 9 ms per call in a tick's
    # process), and the answer is not needed there. Asked only outside one: a 15-minute tick of a
    # three-person organisation took 45 ms with the walk twice per tick, 11 ms without.
    frozen_before = not _collector.holders and gc.get_freeze_count() > 0
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            if not _collector.holders and not frozen_before:
                gc.unfreeze()
            gc.enable()


@contextmanager
def mapped_reads(session: Session) -> Iterator[None]:
    """SQLite reads through a memory map and a larger page cache for the block (nothing on
    PostgreSQL, which reads through its own buffers).

    Planning looks records up by key all over the store's file (a milestone's goal, the goal's
    owner, the manager): page by page through system calls, SQLite's default 2 MiB cache made that
    half of its statements' time. Only for the while: a mapped page counts in the process's
    resident size, and delivery, which reads far less, would carry the map for nothing.
    """
    with sqlite_pragmas(session, cache_size=-CACHE_KIB, mmap_size=MMAP_BYTES):
        yield


@contextmanager
def fewer_collections(threshold: int = 100_000) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector out of the way of delivery.

    A delivery chunk makes hundreds of thousands of short-lived objects (rows, records, digests)
    and no reference cycles worth collecting; with the default thresholds the collector ran every
    700 allocations and walked every long-lived object (the interpreter's modules, Prefect's,
    pydantic's schemas) again and again: 40% of a dynamic-template digest's CPU time. Inside the
    block what exists already is frozen (never walked again) and a young collection runs every
    `threshold` allocations; afterwards both are as before. Process-wide, so nested and concurrent
    blocks share one setting and the last to leave restores it.
    """
    state = _collector
    with state.lock:
        state.holders += 1
        if state.holders == 1:
            state.saved = gc.get_threshold()
            # Someone else froze objects before: leave them frozen afterwards.
            state.frozen_before = gc.get_freeze_count() > 0
            gc.freeze()
            gc.set_threshold(threshold, *state.saved[1:])
    try:
        yield
    finally:
        with state.lock:
            state.holders -= 1
            if state.holders == 0 and state.saved is not None:
                gc.set_threshold(*state.saved)
                if not state.frozen_before:
                    gc.unfreeze()
                state.saved = None
