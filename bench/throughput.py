"""Delivery throughput with one and with two worker processes sharing a PostgreSQL ledger.

    .venv/bin/python bench/throughput.py [--people 2000] [--rounds 3]

The same synthetic organisation and window are planned into a fresh database for each run;
then N worker processes drain it into an outbox. Reports messages per second and the ratio of
two workers to one (measured in the same run; with --rounds, the order alternates and each side
keeps its best), and checks every message went out once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import throwaway_postgres
from strides import engine
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.store import Store, ledger, snapshot
from tools.synthetic import Shape, generate

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday: digests go out
WORKER = """
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from strides import engine
from strides.integrations.compose import Sender
from strides.integrations.outbox import OutboxTransport
from strides.store import Store
db, outbox, now, go = sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3]), Path(sys.argv[4])
store = Store(db)
while not go.exists():
    time.sleep(0.005)
transport = OutboxTransport(outbox)
engine.drain(store, transport, Sender("growth@strides.example"), now, 200, timedelta(minutes=10))
"""


def run(people: int, workers: int) -> tuple[int, float]:
    org = generate(Shape(people=people))
    with throwaway_postgres() as url, tempfile.TemporaryDirectory() as folder:
        store = Store(url)
        store.migrate()
        with store.session() as session:
            snapshot.save_organisation(session, org)
        engine.plan_window(store, load_rules(), Window(NOW - timedelta(days=1), NOW), NOW)
        go = Path(folder) / "go"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, url, f"{folder}/outbox", NOW.isoformat(), str(go)]
            )
            for _ in range(workers)
        ]
        time.sleep(3)  # imports done; all wait on the go file
        started = time.perf_counter()
        go.touch()
        assert all(p.wait() == 0 for p in processes)
        elapsed = time.perf_counter() - started
        with store.session() as session:
            rows = ledger.messages(session)
        statuses = Counter(r.status for r in rows)
        unsent = {(r.status, r.send_at > NOW) for r in rows if r.status != ledger.SENT}
        sent = statuses[ledger.SENT]
        files = len(list(Path(folder, "outbox").glob("*.eml")))
        assert sent == files, (sent, files)  # one file per sent message: nothing twice
        print(f"  ledger: {dict(statuses)}; not sent (status, not yet due): {sorted(unsent)}")
        store.engine.dispose()
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="rounds, the order alternating; best of each")
    args = parser.parse_args()
    results: dict[int, list[float]] = {1: [], 2: []}
    for round_ in range(args.rounds):
        for workers in (1, 2) if round_ % 2 == 0 else (2, 1):
            sent, elapsed = run(args.people, workers)
            results[workers].append(sent / elapsed)
            print(
                f"round {round_ + 1}, {workers} worker(s): {sent} messages in {elapsed:.1f} s "
                f"= {sent / elapsed:.0f} msg/s",
                flush=True,
            )
    best = {workers: max(rates) for workers, rates in results.items()}
    print(f"best: 1 worker {best[1]:.0f} msg/s, 2 workers {best[2]:.0f} msg/s")
    print(f"two workers / one worker: {best[2] / best[1]:.2f}x")
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
