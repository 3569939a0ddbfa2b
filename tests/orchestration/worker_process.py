"""One delivery worker as its own process, for the scale-out tests (run with `python -m`).

It plans the window and drains the ledger like a flow's tasks do, through a transport that
writes the outbox (or, with --smtp-port, sends to an SMTP server on this machine) and appends
every send to a shared log, so a test can count real sends.
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
from strides.integrations.smtp import SMTPConfig, SMTPTransport
from strides.integrations.transport import Transport
from strides.rules import Window
from strides.store import Store


class Logged:
    """A transport that waits `delay` before each send and logs each send it completed."""

    def __init__(self, inner: Transport, log: Path, delay: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.log = log
        self.delay = delay

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        time.sleep(self.delay)
        ref = self.inner.send(key, message, label)
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
    parser.add_argument("--smtp-port", type=int, default=0)
    args = parser.parse_args()

    store = Store(args.db)
    rules = load_rules()
    inner: Transport = (
        SMTPTransport(SMTPConfig(host="127.0.0.1", port=args.smtp_port, security="none", timeout=10))
        if args.smtp_port
        else OutboxTransport(args.outbox)
    )
    transport = Logged(inner, args.log, args.delay)
    sender = Sender("growth@strides.example", "strides", None)
    (args.go.parent / f"ready-{os.getpid()}").touch()
    while not args.go.exists():
        time.sleep(0.01)
    engine.plan_window(store, rules, Window(args.since, args.now), args.now)
    engine.drain(store, transport, sender, args.now, args.chunk, timedelta(seconds=args.stale_seconds))


if __name__ == "__main__":
    main()
