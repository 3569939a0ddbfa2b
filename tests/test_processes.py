"""Jobs run at once in forked processes: results in order, failures named, children cleaned up."""

from __future__ import annotations

import os
import signal
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import text

from strides.processes import JobFailed, at_once, can_fork
from strides.store import Store
from strides.store.shards import BUCKETS, Shard

pytestmark = pytest.mark.skipif(not can_fork(), reason="jobs run in forked processes on Linux only")


def test_each_job_runs_in_a_process_of_its_own_and_results_come_back_in_order() -> None:
    results = at_once([lambda n=n: (n, os.getpid()) for n in range(5)], processes=2)
    assert [n for n, _ in results] == [0, 1, 2, 3, 4]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and len(pids) == 5


def test_one_process_runs_the_jobs_here_one_after_another() -> None:
    assert at_once([os.getpid, os.getpid], processes=1) == [os.getpid(), os.getpid()]


def test_no_more_than_the_processes_asked_for_run_at_once(tmp_path: Path) -> None:
    def job(n: int) -> int:
        # Each job leaves its mark while it runs and counts the marks it sees.
        mark = tmp_path / f"{n}.running"
        mark.touch()
        time.sleep(0.2)
        seen = len(list(tmp_path.glob("*.running")))
        mark.unlink()
        return seen

    seen = at_once([lambda n=n: job(n) for n in range(6)], processes=2)
    assert max(seen) == 2


def test_a_failing_job_is_named_with_its_traceback_and_no_more_jobs_start(tmp_path: Path) -> None:
    def fail() -> None:
        raise ValueError("no such rule: weekly-self-reviw")

    def slow() -> str:
        time.sleep(1)  # still running when the failure is seen: it finishes
        (tmp_path / "slow").touch()
        return "slow"

    def later() -> str:
        (tmp_path / "later").touch()
        return "later"

    with pytest.raises(JobFailed) as failed:
        at_once([fail, slow, later, later], processes=2)
    assert failed.value.index == 0
    assert "ValueError: no such rule: weekly-self-reviw" in str(failed.value)
    assert "in fail" in failed.value.text  # the child's traceback
    assert (tmp_path / "slow").exists() and not (tmp_path / "later").exists()


def test_a_child_that_dies_or_returns_what_cannot_be_sent_is_a_failure() -> None:
    with pytest.raises(JobFailed, match="ended without an answer \\(killed by signal 9\\)"):
        at_once([lambda: os.kill(os.getpid(), signal.SIGKILL), lambda: 1], processes=2)
    with pytest.raises(JobFailed, match="could not be sent back"):
        at_once([lambda: threading.Lock(), lambda: 1], processes=2)


def test_a_child_reads_the_store_through_its_own_connection(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        # The parent holds a connection of the pool while the children use the store.
        assert session.execute(text("select 1")).scalar() == 1

        def job() -> int:
            with store.session() as child:
                return int(child.execute(text("select count(*) from people")).scalar() or 0)

        assert at_once([job, job], processes=2) == [0, 0]
        assert session.execute(text("select 2")).scalar() == 2


@pytest.mark.parametrize("shard", [Shard(), Shard(1, 3), Shard(5, 7), Shard(1023, 1024)])
def test_a_split_shard_holds_exactly_its_buckets(shard: Shard) -> None:
    parts = shard.split(2)
    assert len(parts) == (1 if shard.count == BUCKETS else 2)
    assert parts[0].low == shard.low and parts[-1].high == shard.high
    assert all(a.high == b.low for a, b in pairwise(parts))
