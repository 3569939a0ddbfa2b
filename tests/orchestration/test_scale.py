"""A tick's work is a bounded number of task runs, however large the organisation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from strides.config import Settings
from strides.engine import chunks_per_task
from strides.errors import ConfigError


@given(due=st.integers(0, 5_000_000), chunk=st.integers(1, 5000), tasks=st.integers(1, 100))
def test_delivery_needs_at_most_the_target_number_of_tasks(due: int, chunk: int, tasks: int):
    per_task = chunks_per_task(due, chunk, tasks)
    needed = -(-due // (chunk * per_task))
    assert per_task >= 1
    assert needed <= tasks
    # ...and no more chunks per task than that bound requires.
    assert per_task == 1 or -(-due // (chunk * (per_task - 1))) > tasks


def test_the_task_runner_is_threads_by_default_and_dask_when_configured(tmp_path):
    from prefect.task_runners import ThreadPoolTaskRunner

    from strides.flows.common import task_runner

    assert isinstance(task_runner(Settings(state_dir=tmp_path)), ThreadPoolTaskRunner)
    dask = Settings(state_dir=tmp_path, task_runner="dask", dask_address="tcp://127.0.0.1:8786")
    try:
        runner = task_runner(dask)
    except ConfigError as exc:
        assert "dask extra" in str(exc)
    else:
        assert type(runner).__name__ == "DaskTaskRunner"
