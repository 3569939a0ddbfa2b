"""SendGrid answering 503 or 429 for half an hour delays mail across ticks; it loses none and
sends none twice: the client's own back-off covers a blip, the ledger's retry schedule an outage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from strides import engine
from strides.domain.parse import RuleSet
from strides.integrations.compose import Sender
from strides.integrations.sendgrid_mail import Retry as ClientRetry
from strides.integrations.sendgrid_mail import SendGridTransport
from strides.integrations.sendgrid_payload import Options
from strides.rules import Window
from strides.rules.retries import Retry
from strides.store import Store, ledger

from ..delivery.conftest import NOW
from ..delivery.faulty_sendgrid import FaultyServer, faulty_sendgrid


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with faulty_sendgrid() as running:
        yield running


def client(server: FaultyServer, waits: list[float]) -> SendGridTransport:
    # Two tries a request, and waits recorded rather than slept: the test walks the ticks itself.
    return SendGridTransport(
        "SG.test-key",
        host=server.url,
        options=Options(),
        timeout=2,
        retry=ClientRetry(max_attempts=2, base=0.5, max_wait=60),
        sleep=waits.append,
    )


@pytest.mark.parametrize("outage", ["503", "429-retry-after", "drop"])
def test_an_outage_of_half_an_hour_delivers_every_message_once_when_sendgrid_is_back(
    loaded_store: Store, builtin_rules: RuleSet, server: FaultyServer, outage: str
) -> None:
    waits: list[float] = []
    transport = client(server, waits)
    sender = Sender("growth@strides.example")
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=1), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)
    assert due > 10

    server.down = outage
    first = engine.drain(loaded_store, transport, sender, NOW, 50, retry=Retry())
    assert len(first.retrying) == due and first.sent == [] and server.accepted == []
    assert all(when >= NOW + timedelta(minutes=4) for _, when in first.retrying), "not again at once"
    with loaded_store.session() as session:
        waiting = ledger.messages(session, status=ledger.FAILED)
    assert len(waiting) == due and all("gave up after 2 attempts" in (r.last_error or "") for r in waiting)
    assert engine.drain(loaded_store, transport, sender, NOW + timedelta(minutes=15), 50).sent == []

    server.down = None
    sent = []
    for minutes in (30, 45, 60):
        sent += engine.drain(loaded_store, transport, sender, NOW + timedelta(minutes=minutes), 50).sent
    copies = Counter(server.keys())
    assert len(sent) == due and set(copies) == {s.key for s in sent} and set(copies.values()) == {1}
    with loaded_store.session() as session:
        assert {r.status for r in ledger.messages(session) if r.key in copies} == {ledger.SENT}
