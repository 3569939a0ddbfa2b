"""The tick's tasks on a Dask cluster (a LocalCluster here): every message goes out once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from importlib.util import find_spec

import pytest

from strides.config import Settings
from strides.store import Store, ledger
from tests.conftest import ROOT, SAMPLE_ORG, at
from tests.tools import require

NOW = at("2026-12-01 12:00")


@pytest.mark.flow
def test_a_tick_on_a_dask_local_cluster_sends_every_due_message_once(
    prefect_harness: None, loaded_store: Store, settings: Settings
):
    require(find_spec("prefect_dask"), "prefect-dask is not installed (the dev extra brings it)")
    from prefect.settings import PREFECT_API_URL

    command = [
        sys.executable,
        "-m",
        "tests.orchestration.dask_tick",
        f"--state={settings.state_dir}",
        f"--organisation={SAMPLE_ORG}",
        f"--now={NOW.isoformat()}",
        f"--since={(NOW - timedelta(days=3)).isoformat()}",
        "--chunk=5",
    ]
    # The subprocess (and the Dask workers it starts) reports to this session's Prefect server.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    with loaded_store.session() as session:
        rows = ledger.messages(session)
    due = [row for row in rows if row.send_at <= NOW]
    assert report["runner"] == "DaskTaskRunner"
    assert len(due) > 50
    assert {row.status for row in due} == {ledger.SENT}
    # Claimed once each: no two Dask tasks ever held the same message.
    assert {row.attempts for row in due} == {1}
    assert report["sent"] == len(due) and report["failed"] == 0
    assert len(list(settings.outbox.glob("*.eml"))) == len(due)
    deliveries = report["tasks"].count("deliver-chunks")
    assert 1 < deliveries <= 32, report["tasks"]
