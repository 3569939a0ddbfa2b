"""Scale-out on PostgreSQL: worker processes share one ledger and never send a message twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from strides.store import Store, ledger
from tests.conftest import ROOT, at

NOW = at("2026-12-01 12:00")
SINCE = NOW - timedelta(days=3)


def start_worker(store: Store, tmp: Path, now=NOW, **options: object) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "tests.orchestration.worker_process",
        f"--db={store.url}",
        f"--outbox={tmp / 'outbox'}",
        f"--log={tmp / 'sends.log'}",
        f"--go={tmp / 'go'}",
        f"--now={now.isoformat()}",
        f"--since={SINCE.isoformat()}",
        *(f"--{name.replace('_', '-')}={value}" for name, value in options.items()),
    ]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for(condition, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def sends(tmp: Path) -> list[tuple[str, str]]:
    log = tmp / "sends.log"
    if not log.exists():
        return []
    return [tuple(line.split()) for line in log.read_text().splitlines()]  # type: ignore[misc]


def ledger_rows(store: Store) -> list:
    with store.session() as session:
        return ledger.messages(session)


def test_two_workers_planning_and_delivering_the_same_window_send_every_message_once(
    pg_store: Store, tmp_path: Path
):
    # Slow sends (20 ms) keep the first worker busy long enough for the second to join in.
    workers = [start_worker(pg_store, tmp_path, chunk=5, delay=0.02) for _ in range(2)]
    wait_for(lambda: len(list(tmp_path.glob("ready-*"))) == 2, "both workers to start")
    (tmp_path / "go").touch()
    assert [w.wait(timeout=120) for w in workers] == [0, 0]

    rows = ledger_rows(pg_store)
    sent = sends(tmp_path)
    per_key = Counter(key for key, _ in sent)
    assert len(rows) > 100
    assert {row.status for row in rows} == {ledger.SENT}
    assert sorted(per_key) == sorted(row.key for row in rows)
    assert max(per_key.values()) == 1, "a message went out twice"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(rows)
    assert len({pid for _, pid in sent}) == 2, "both workers should have shared the work"


def test_a_worker_killed_mid_delivery_is_recovered_by_another_with_nothing_lost_or_doubled(
    pg_store: Store, tmp_path: Path
):
    (tmp_path / "go").touch()
    victim = start_worker(pg_store, tmp_path, chunk=20, delay=0.05)
    wait_for(lambda: len(sends(tmp_path)) >= 5, "the first worker to send a few messages")
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    stranded = [row for row in ledger_rows(pg_store) if row.status == ledger.SENDING]
    assert stranded, "the kill should have left claimed messages behind"

    # The rescuer runs after the claim timeout (simulated time: ten minutes and a second later).
    rescuer = start_worker(pg_store, tmp_path, now=NOW + timedelta(minutes=10, seconds=1), chunk=20)
    assert rescuer.wait(timeout=120) == 0

    rows = ledger_rows(pg_store)
    per_key = Counter(key for key, _ in sends(tmp_path))
    assert {row.status for row in rows} == {ledger.SENT}
    assert sorted(per_key) == sorted(row.key for row in rows)
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(rows)
    # Only the message in flight at the kill may be handed to the transport again; the outbox
    # transport is idempotent per key, so it still lands once.
    assert sum(count - 1 for count in per_key.values()) <= 1
    assert {row.key for row in stranded} <= {row.key for row in rows if row.attempts == 2}
