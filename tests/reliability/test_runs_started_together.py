"""Runs started together (a cron job and a worker at once) all succeed: one process migrates and
saves the organisation at a time, one starts the local Prefect server, the others wait and find
it done; every message goes out once."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections import Counter
from email import message_from_bytes
from pathlib import Path

from strides.engine.intake import store_organisation
from strides.integrations.org_files import load_organisation
from strides.store import Store, snapshot

from ..conftest import ROOT, SAMPLE_ORG
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


def _strides(state: Path, *args: str, database: str | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "STRIDES_"))}
    env |= {"STRIDES_STATE_DIR": str(state), "STRIDES_ORGANISATION": str(SAMPLE_ORG)}
    if database:
        env["STRIDES_DATABASE_URL"] = database
    command = [str(Path(sys.executable).parent / "strides"), *args]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _four_ticks_then_four_more(state: Path, database: str | None = None) -> None:
    """Four `strides run` at one moment on a new store, then four at the next quarter hour on the
    store they made: every one exits 0, and the outbox holds each message once."""
    try:
        for moment in ("2026-12-01T12:00:00Z", "2026-12-01T12:15:00Z"):
            runs = [_strides(state, "run", "--now", moment, database=database) for _ in range(RUNS)]
            answers = [(run.wait(timeout=600), run.stdout.read().decode()) for run in runs]  # type: ignore[union-attr]
            assert [code for code, _ in answers] == [0] * RUNS, answers
            started = [text for _, text in answers if "started a local Prefect server" in text]
            assert len(started) <= 1, "one run starts the server, the others use it"
    finally:
        _strides(state, "server", "stop", database=database).wait(timeout=60)
    keys = Counter(
        message_from_bytes(path.read_bytes())["X-Strides-Key"] for path in (state / "outbox").glob("*.eml")
    )
    assert len(keys) > 100 and set(keys.values()) == {1}
    status = _strides(state, "server", "status")
    assert status.wait(timeout=60) == 1, "no server is left running"


def test_four_strides_runs_on_a_new_then_a_primed_sqlite_store_all_exit_0_and_send_once(
    tmp_path: Path,
) -> None:
    _four_ticks_then_four_more(tmp_path / "state")


def test_four_strides_runs_on_a_new_then_a_primed_postgresql_store_all_exit_0_and_send_once(
    tmp_path: Path,
) -> None:
    with throwaway_database() as url:
        _four_ticks_then_four_more(tmp_path / "state", url)
