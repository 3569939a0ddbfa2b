"""Runs started together on a new store (a cron job and a worker at once) all succeed: one
process migrates and saves the organisation at a time, the others wait and find it done."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from strides.engine.intake import store_organisation
from strides.integrations.org_files import load_organisation
from strides.store import Store, snapshot

from ..conftest import SAMPLE_ORG
from ..postgres import throwaway_database

RUNS = 4


def _start(url: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    loaded = load_organisation(SAMPLE_ORG)
    store = Store(url)
    barrier.wait()  # all at once, as four `strides run` started together
    store.migrate()
    store_organisation(store, loaded)


def _race(url: str) -> list[int]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RUNS)
    runs = [context.Process(target=_start, args=(url, barrier)) for _ in range(RUNS)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(120)
    return [run.exitcode or 0 for run in runs]


def test_four_runs_on_a_new_sqlite_store_all_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'strides.db'}"
    assert _race(url) == [0] * RUNS
    with Store(url).session() as session:
        assert snapshot.count_people(session) == len(load_organisation(SAMPLE_ORG).organisation.people)


def test_four_runs_on_a_new_postgresql_store_all_succeed() -> None:
    with throwaway_database() as url:
        assert _race(url) == [0] * RUNS
        store = Store(url)
        with store.session() as session:
            assert snapshot.count_people(session) == len(load_organisation(SAMPLE_ORG).organisation.people)
        store.engine.dispose()
