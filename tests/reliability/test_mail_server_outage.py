"""A mail server that is down for half an hour delays mail; it loses none and sends none twice."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
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

from ..delivery.conftest import NOW, free_port


class FlakyServer:
    """While `down`, fails every message the way `mode` says, as a server being restarted does;
    else accepts. "421" and "451" answer the message so; "drop" closes the connection at MAIL FROM,
    before any of the message went over; "refused" is a port nobody listens on (the test stops
    the server)."""

    def __init__(self, mode: str = "421") -> None:
        self.mode = mode
        self.down = True
        self.accepted: list[bytes] = []
        self.refused = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.down and self.mode == "drop":
            self.refused += 1
            server.transport.close()
            return "421 closing"  # never reaches the client
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.down:
            self.refused += 1
            if self.mode == "451":
                return "451 4.3.0 local error in processing, try again later"
            return "421 4.3.2 service shutting down, try again later"
        self.accepted.append(envelope.content)
        return "250 2.0.0 queued"


@pytest.fixture
def flaky() -> Iterator[tuple[FlakyServer, SMTPTransport]]:
    handler = FlakyServer()
    with _serving(handler) as transport:
        yield handler, transport


@contextmanager
def _serving(handler: object) -> Iterator[SMTPTransport]:
    """An aiosmtpd server on 127.0.0.1 with `handler`, and a transport to it; both closed after."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=controller.port, security="none", timeout=10))
    try:
        yield transport
    finally:
        transport.close()
        controller.stop()


def _tick(store: Store, transport: SMTPTransport, moment) -> engine.DeliveryOutcome:
    return engine.drain(store, transport, Sender("growth@strides.example"), moment, 50, retry=Retry())


@pytest.mark.parametrize("mode", ["421", "451", "drop", "refused"])
def test_after_a_half_hour_outage_every_message_goes_out_once_without_a_manual_step(
    loaded_store: Store, builtin_rules: RuleSet, mode: str
) -> None:
    server = FlakyServer(mode)
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    if mode != "refused":
        controller.start()
    transport = SMTPTransport(SMTPConfig(host="127.0.0.1", port=port, security="none", timeout=10))
    try:
        engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
        due = engine.count_due(loaded_store, NOW)
        assert due > 10
        # Ticks every 15 minutes; the server is down for the first 30.
        first = _tick(loaded_store, transport, NOW)
        assert len(first.failed) == due and len(first.retrying) == due and first.ambiguous == []
        assert mode == "refused" or server.refused >= due
        assert all(when >= NOW + timedelta(minutes=4) for _, when in first.retrying), "not again at once"
        assert _tick(loaded_store, transport, NOW + timedelta(minutes=15)).sent == []
        server.down = False
        if mode == "refused":
            controller.start()
        sent = []
        for minutes in (30, 45, 60):
            sent += _tick(loaded_store, transport, NOW + timedelta(minutes=minutes)).sent
    finally:
        transport.close()
        controller.stop()
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


def test_an_outbox_that_cannot_be_written_delays_mail_and_the_first_delivery_after_the_fix_sends_it(
    loaded_store: Store, builtin_rules: RuleSet, tmp_path: Path
) -> None:
    from strides.integrations.outbox import OutboxTransport

    blocked = tmp_path / "outbox"
    blocked.write_text("a file where the outbox folder should be")
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)
    sender = Sender("growth@strides.example")
    first = engine.drain(loaded_store, OutboxTransport(blocked), sender, NOW, 50)
    assert first.sent == [] and len(first.retrying) == due
    with loaded_store.session() as session:
        waiting = ledger.messages(session, status=ledger.FAILED)
    assert len(waiting) == due and all(f"outbox {blocked}" in (r.last_error or "") for r in waiting)
    blocked.unlink()
    later = engine.drain(loaded_store, OutboxTransport(blocked), sender, NOW + timedelta(minutes=15), 50)
    assert len(later.sent) == due and len(list(blocked.glob("*.eml"))) == due


def test_claims_a_crashed_worker_left_are_due_whether_or_not_new_mail_is(
    loaded_store: Store, builtin_rules: RuleSet
) -> None:
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)
    with loaded_store.session() as session:
        ledger.claim(session, NOW, limit=due)  # ...and the worker dies holding them all
    assert engine.count_due(loaded_store, NOW + timedelta(minutes=5)) == 0
    assert engine.count_due(loaded_store, NOW + timedelta(minutes=11)) == due


def test_the_outbox_sweeps_temporary_files_a_dead_writer_left_and_keeps_fresh_ones(tmp_path: Path) -> None:
    import os
    import time

    from strides.integrations.outbox import STALE_TEMPORARY_SECONDS, OutboxTransport

    old, fresh = tmp_path / ".tmp-dead.eml", tmp_path / ".tmp-writing.eml"
    for path in (old, fresh):
        path.write_bytes(b"")
    past = time.time() - STALE_TEMPORARY_SECONDS - 1
    os.utime(old, (past, past))
    assert OutboxTransport(tmp_path).sweep() == 1
    assert not old.exists() and fresh.exists()


class DroppingServer:
    """Takes the whole message, then drops the connection without answering: for every message,
    or every third one."""

    def __init__(self, every: int) -> None:
        self.every = every
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        if len(self.received) % self.every == 0:
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        return "250 2.0.0 queued"


@pytest.mark.parametrize("every", [1, 3], ids=["drops-every-message", "drops-every-third"])
def test_a_server_that_drops_after_taking_the_message_gets_it_at_most_twice_and_it_is_reported(
    loaded_store: Store, builtin_rules: RuleSet, every: int
) -> None:
    from email import message_from_bytes

    handler = DroppingServer(every)
    with _serving(handler) as transport:
        engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
        due = engine.count_due(loaded_store, NOW)
        ambiguous = []
        for minutes in range(0, 180, 15):
            ambiguous += _tick(loaded_store, transport, NOW + timedelta(minutes=minutes)).ambiguous
    copies: dict[str, int] = {}
    for content in handler.received:
        message_id = message_from_bytes(content)["Message-ID"]
        copies[message_id] = copies.get(message_id, 0) + 1
    assert len(copies) == due and max(copies.values()) <= 2
    # Each message the server may have had was sent once more, and only those.
    assert ambiguous and sum(copies.values()) == due + len(set(ambiguous))
    with loaded_store.session() as session:
        rows = {r.key: r for r in ledger.messages(session) if r.key in set(ambiguous)}
    twice = [r for r in rows.values() if r.status == ledger.DEAD]
    assert all(r.last_error.startswith("ambiguous: twice, not sent again") for r in twice)
    if every == 1:
        assert len(twice) == due and set(copies.values()) == {2}


class AnswerThenDrop:
    """Accepts every message with 250, then closes the connection: the answer came, it counts."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.content)
        server.loop.call_soon(server.transport.close)  # after the answer is written
        return "250 2.0.0 queued"


def test_a_server_that_answers_250_and_then_drops_has_each_message_once_and_it_is_sent(
    loaded_store: Store, builtin_rules: RuleSet
) -> None:
    from email import message_from_bytes

    handler = AnswerThenDrop()
    with _serving(handler) as transport:
        engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
        due = engine.count_due(loaded_store, NOW)
        outcome = _tick(loaded_store, transport, NOW)
    keys = [message_from_bytes(content)["X-Strides-Key"] for content in handler.received]
    assert len(outcome.sent) == due and outcome.failed == [] and outcome.ambiguous == []
    assert sorted(keys) == sorted(s.key for s in outcome.sent)
