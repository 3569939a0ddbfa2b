"""Jobs run at once, each but the last in a forked process: results in order, failures named."""

from __future__ import annotations

import os
import signal
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import text

from strides.speed import JobFailed, at_once, can_fork
from strides.store import Store
from strides.store.shards import BUCKETS, Shard

pytestmark = pytest.mark.skipif(not can_fork(), reason="jobs run in forked processes on Linux only")


def test_each_job_but_the_last_runs_in_a_process_of_its_own_results_in_order() -> None:
    results = at_once([lambda n=n: (n, os.getpid()) for n in range(4)])
    assert [n for n, _ in results] == [0, 1, 2, 3]
    pids = [pid for _, pid in results]
    assert pids[-1] == os.getpid() and os.getpid() not in pids[:-1] and len(set(pids)) == 4


def test_one_job_runs_here() -> None:
    assert at_once([os.getpid]) == [os.getpid()]


def test_the_jobs_run_at_the_same_time(tmp_path: Path) -> None:
    def job(n: int) -> int:
        # Each job leaves its mark, then waits (a while at most) to see the others' marks.
        (tmp_path / f"{n}.started").touch()
        for _ in range(500):
            if len(list(tmp_path.glob("*.started"))) == 3:
                break
            time.sleep(0.01)
        return len(list(tmp_path.glob("*.started")))

    assert at_once([lambda n=n: job(n) for n in range(3)]) == [3, 3, 3]


def test_a_failing_child_is_named_with_its_traceback_once_every_job_has_finished(tmp_path: Path) -> None:
    def fail() -> None:
        raise ValueError("no such rule: weekly-self-reviw")

    def slow(name: str) -> str:
        time.sleep(0.5)  # still running when the failure happens: it finishes all the same
        (tmp_path / name).touch()
        return name

    with pytest.raises(JobFailed) as failed:
        at_once([lambda: slow("child"), fail, lambda: slow("here")])
    assert failed.value.index == 1
    assert "ValueError: no such rule: weekly-self-reviw" in str(failed.value)
    assert "in fail" in failed.value.text  # the child's traceback
    assert (tmp_path / "child").exists() and (tmp_path / "here").exists()


def test_what_the_job_here_raises_is_raised_once_the_children_have_finished(tmp_path: Path) -> None:
    def slow() -> None:
        time.sleep(0.5)
        (tmp_path / "child").touch()

    def fail() -> None:
        raise KeyError("person:p-404")

    with pytest.raises(KeyError, match="p-404"):
        at_once([slow, fail])
    assert (tmp_path / "child").exists()


def test_a_child_that_dies_or_returns_what_cannot_be_sent_is_a_failure() -> None:
    with pytest.raises(JobFailed, match="ended without an answer \\(killed by signal 9\\)"):
        at_once([lambda: os.kill(os.getpid(), signal.SIGKILL), lambda: 1])
    with pytest.raises(JobFailed, match="could not be sent back"):
        at_once([lambda: threading.Lock(), lambda: 1])


def test_a_child_reads_the_store_through_its_own_connection(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        # This process holds a connection of the pool while the children use the store.
        assert session.execute(text("select 1")).scalar() == 1

        def job() -> int:
            with store.session() as child:
                return int(child.execute(text("select count(*) from people")).scalar() or 0)

        assert at_once([job, job, job]) == [0, 0, 0]
        assert session.execute(text("select 2")).scalar() == 2


@pytest.mark.parametrize("shard", [Shard(), Shard(1, 3), Shard(5, 7), Shard(1023, 1024)])
def test_a_split_shard_holds_exactly_its_buckets(shard: Shard) -> None:
    parts = shard.split(2)
    assert len(parts) == (1 if shard.count == BUCKETS else 2)
    assert parts[0].low == shard.low and parts[-1].high == shard.high
    assert all(a.high == b.low for a, b in pairwise(parts))
