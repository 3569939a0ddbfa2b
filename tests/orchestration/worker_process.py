"""One delivery worker as its own process, for the scale-out tests (run with `python -m`).

It plans the window and drains the ledger like a flow's tasks do, through a transport that
writes the outbox and appends every send to a shared log, so a test can count real sends.
It waits for a `go` file before working, so two workers really start together.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from strides import engine
from strides.integrations.compose import Sender
from strides.integrations.outbox import OutboxTransport
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.store import Store


class LoggedOutbox(OutboxTransport):
    def __init__(self, folder: Path, log: Path, delay: float) -> None:
        super().__init__(folder)
        self.log = log
        self.delay = delay

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        time.sleep(self.delay)
        ref = super().send(key, message, label)
        with self.log.open("a") as out:  # O_APPEND: whole lines from several processes
            out.write(f"{key} {os.getpid()}\n")
        return ref


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--go", type=Path, required=True)
    parser.add_argument("--now", type=datetime.fromisoformat, required=True)
    parser.add_argument("--since", type=datetime.fromisoformat, required=True)
    parser.add_argument("--chunk", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--stale-seconds", type=float, default=600)
    args = parser.parse_args()

    store = Store(args.db)
    rules = load_rules()
    transport = LoggedOutbox(args.outbox, args.log, args.delay)
    sender = Sender("growth@strides.example", "strides", None)
    (args.go.parent / f"ready-{os.getpid()}").touch()
    while not args.go.exists():
        time.sleep(0.01)
    engine.plan_window(store, rules, Window(args.since, args.now), args.now)
    engine.drain(store, transport, sender, args.now, args.chunk, timedelta(seconds=args.stale_seconds))


if __name__ == "__main__":
    main()
