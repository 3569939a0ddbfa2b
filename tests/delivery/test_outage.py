"""A mail server that is down for half an hour delays mail; it loses none and sends none twice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from strides import engine
from strides.domain.parse import RuleSet
from strides.integrations.compose import Sender
from strides.integrations.smtp import SMTPConfig, SMTPTransport
from strides.rules import Window
from strides.rules.retries import Retry
from strides.store import Store, ledger

from .conftest import NOW, free_port


class FlakyServer:
    """Answers 421 to every message while `down`, as a server being restarted does; else accepts."""

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[bytes] = []
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.down:
            self.refused += 1
            return "421 4.3.2 service shutting down, try again later"
        self.accepted.append(envelope.content)
        return "250 2.0.0 queued"


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyServer, SMTPTransport]]:
    handler = FlakyServer()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=controller.port, security="none", timeout=10))
    try:
        yield handler, transport
    finally:
        transport.close()
        controller.stop()


def _tick(store: Store, transport: SMTPTransport, moment) -> engine.DeliveryOutcome:
    return engine.drain(store, transport, Sender("growth@strides.example"), moment, 50, retry=Retry())


def test_after_a_half_hour_outage_every_message_goes_out_once_without_a_manual_step(
    loaded_store: Store, builtin_rules: RuleSet, flaky: tuple[FlakyServer, SMTPTransport], tmp_path: Path
) -> None:
    server, transport = flaky
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)
    assert due > 10
    # Ticks every 15 minutes; the server is down for the first 30.
    first = _tick(loaded_store, transport, NOW)
    assert len(first.failed) == due and len(first.retrying) == due and server.refused == due
    assert all(when >= NOW + timedelta(minutes=4) for _, when in first.retrying), "not again at once"
    for minutes in (15,):
        assert _tick(loaded_store, transport, NOW + timedelta(minutes=minutes)).sent == []
    server.down = False
    sent = []
    for minutes in (30, 45, 60):
        sent += _tick(loaded_store, transport, NOW + timedelta(minutes=minutes)).sent
    assert len(sent) == due and len(server.accepted) == due
    with loaded_store.session() as session:
        rows = [r for r in ledger.messages(session) if r.send_at <= NOW + timedelta(hours=1)]
    assert {r.status for r in rows if r.key in {s.key for s in sent}} == {ledger.SENT}
    assert not [r for r in rows if r.status == ledger.DEAD]


def test_a_message_failing_past_its_lifetime_is_dead_and_says_so(
    loaded_store: Store, builtin_rules: RuleSet, flaky: tuple[FlakyServer, SMTPTransport]
) -> None:
    _, transport = flaky
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
    retry = Retry(lifetime=timedelta(minutes=30))  # three tries: now, ~5 and ~10 minutes later
    moment, tries = NOW, 0
    while engine.count_due(loaded_store, moment + timedelta(hours=2)) and tries < 10:
        engine.drain(loaded_store, transport, Sender("growth@strides.example"), moment, 500, retry=retry)
        moment, tries = moment + timedelta(minutes=15), tries + 1
    with loaded_store.session() as session:
        rows = [r for r in ledger.messages(session) if r.attempts]
    assert rows and {r.status for r in rows} == {ledger.DEAD}
    assert all(r.attempts == 3 and r.last_error.endswith("(gave up after 3 tries)") for r in rows)
