"""Invite fixtures: a day-by-day simulation of the tick's plain functions (no Prefect)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from strides import engine
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.compose import Sender
from strides.integrations.org_changes import OrgChange, apply_change
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.store import Store, snapshot
from strides.store.tables import MessageRow

from ..conftest import at
from ..tools import uvicorn_serving

SENDER = Sender("growth@strides.example", "strides")


class RecordingTransport(OutboxTransport):
    """The real outbox, remembering each message it wrote (for the parsers)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.sent: dict[str, EmailMessage] = {}

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        self.sent[key] = message
        return super().send(key, message, label)


@dataclass
class Simulation:
    store: Store
    rules: RuleSet
    org: Organisation
    transport: RecordingTransport
    now: datetime = field(default_factory=lambda: at("2026-11-30 00:00"))

    def change(self, change: OrgChange) -> None:
        self.org = apply_change(self.org, change)
        with self.store.session() as session:
            snapshot.save_organisation(session, self.org)

    def tick(self, days: int = 1, *, deliver: bool = False) -> int:
        """Advance `days` days, planning each (and delivering, if asked); returns how many were planned.

        Delivery (building every message) is most of a tick's cost, so tests that only look at
        the ledger skip it.
        """
        planned = 0
        for _ in range(days):
            window = Window(self.now, self.now + timedelta(days=1))
            self.now = window.end
            basis = engine.plan_basis(self.store, self.rules)
            outcome = engine.plan_window(self.store, self.rules, window, self.now, basis=basis)
            planned += outcome.planned
            delivered = engine.DeliveryOutcome()
            if deliver:
                delivered = engine.deliver_due(self.store, self.transport, SENDER, self.now, 100_000)
            # As the tick does: the next day plans what falls due and what changed since.
            engine.record_tick(self.store, self.now, window, outcome.planned, delivered, basis)
        return planned

    def messages(self, rule: str, subject: str) -> list[MessageRow]:
        from strides.store import ledger

        with self.store.session() as session:
            rows = ledger.messages(session, rule=rule)
        return [r for r in rows if r.subject == subject]


@pytest.fixture
def simulation(loaded_store: Store, sample_org: Organisation, builtin_rules: RuleSet, tmp_path: Path):
    return Simulation(loaded_store, builtin_rules, sample_org, RecordingTransport(tmp_path / "outbox"))


class Client:
    """A tiny HTTP client: (status, lower-cased headers, body), error statuses included."""

    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self, path: str, headers: dict[str, str] | None = None, data: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {}, data=data)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return self.request(path, headers)


@contextmanager
def serve(app: object) -> Iterator[Client]:
    """Run `app` with uvicorn on a free port of 127.0.0.1 for the duration of the block."""
    with uvicorn_serving(app) as base:
        yield Client(base)
