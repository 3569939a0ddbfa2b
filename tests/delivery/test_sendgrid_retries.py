"""Retries against a misbehaving SendGrid-shaped server: each message is accepted exactly once."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest

from strides.integrations import DeliveryError
from strides.integrations.sendgrid_mail import Retry, SendGridTransport
from strides.integrations.sendgrid_payload import Options

from .faulty_sendgrid import FaultyServer, faulty_sendgrid

CLOCK = 1_900_000_000.0  # the transport's "now", so waits are computed, never slept


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    with faulty_sendgrid() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    return []


def transport(server: FaultyServer, waits: list[float], **kw) -> SendGridTransport:
    defaults = dict(
        host=server.url,
        options=Options(),
        timeout=0.3,
        retry=Retry(max_attempts=5, base=0.5, max_wait=60),
        sleep=waits.append,
        clock=lambda: CLOCK,
        jitter=lambda: 0.5,
    )
    return SendGridTransport("SG.secret-key-never-logged", **{**defaults, **kw})


def send(sender: SendGridTransport, item) -> str:
    return sender.send(item.key, item.message, item.label)


def test_429_waits_until_the_rate_limit_resets(server, waits, outgoing_by_kind):
    server.reset_at = CLOCK + 30
    server.script("429-reset")
    assert send(transport(server, waits), outgoing_by_kind["digest"]) == "msg-00001"
    assert waits == [30.5]  # the reset, plus jitter
    assert server.keys() == [outgoing_by_kind["digest"].key]


def test_429_without_reset_honours_retry_after(server, waits, outgoing_by_kind):
    server.script("429-retry-after")
    send(transport(server, waits), outgoing_by_kind["digest"])
    assert waits == [7.5]


def test_server_errors_back_off_exponentially_with_jitter(server, waits, outgoing_by_kind):
    server.script("500", "503", "500")
    send(transport(server, waits), outgoing_by_kind["notification"])
    # ceiling 0.5, 1, 2 s; half of it fixed, half jittered (jitter 0.5 -> 75 %)
    assert waits == [0.375, 0.75, 1.5]
    assert server.keys() == [outgoing_by_kind["notification"].key]


def test_slow_answers_and_dropped_connections_are_retried(server, waits, outgoing_by_kind):
    server.slow_seconds = 1.0
    server.script("slow", "drop", "500")
    assert send(transport(server, waits), outgoing_by_kind["invite"]) == "msg-00001"
    assert len(waits) == 3 and server.requests == 4
    assert server.keys() == [outgoing_by_kind["invite"].key]


def test_attempts_are_bounded_and_the_message_stays_retryable(server, waits, outgoing_by_kind):
    server.script(*["500"] * 5)
    with pytest.raises(DeliveryError) as caught:
        send(transport(server, waits), outgoing_by_kind["digest"])
    assert not caught.value.permanent
    assert "gave up after 5 attempts" in caught.value.answer
    assert server.requests == 5 and len(waits) == 4 and server.accepted == []


def test_other_4xx_are_permanent_with_sendgrids_text_and_never_retried(server, waits, outgoing_by_kind):
    server.script("400")
    with pytest.raises(DeliveryError) as caught:
        send(transport(server, waits), outgoing_by_kind["digest"])
    assert caught.value.permanent
    assert caught.value.answer == "SendGrid 400: from.email: The from email does not contain a valid address."
    assert server.requests == 1 and waits == []


def test_a_chunk_under_faults_is_accepted_exactly_once_per_message(server, waits, outgoing_by_kind):
    base = outgoing_by_kind["notification"]
    messages = []
    for i in range(40):
        message = copy.deepcopy(base.message)
        message.replace_header("X-Strides-Key", f"key-{i:03d}")  # the key travels as custom_args
        messages.append(replace(base, key=f"key-{i:03d}", message=message, content=None))
    server.reset_at = CLOCK + 2
    server.script("500", "drop", "429-reset", "slow", "503", "drop", "500")
    # A healthy answer must come well within the timeout even on a loaded machine: a timeout
    # after the server accepted is a duplicate SendGrid itself cannot prevent (docs/email.md).
    server.slow_seconds = 3.0
    # Seven faults in all: with eight attempts no message can run out, whichever worker meets them.
    sender = transport(
        server, waits, concurrency=4, timeout=2.0, retry=Retry(max_attempts=8, base=0.5, max_wait=60)
    )
    results = sender.send_many(messages)
    assert all(isinstance(r, str) for r in results), results
    assert sorted(server.keys()) == sorted(m.key for m in messages)
    assert len(set(results)) == 40


def test_the_api_key_is_never_logged_or_shown(server, waits, outgoing_by_kind, caplog):
    caplog.set_level(logging.DEBUG)
    server.script("500")
    sender = transport(server, waits)
    send(sender, outgoing_by_kind["digest"])
    assert "secret-key" not in caplog.text
    assert "secret-key" not in repr(sender)


def test_rendered_messages_go_a_bounded_number_at_a_time(server, waits, outgoing_by_kind):
    item = outgoing_by_kind["digest"]
    items = [replace(item, key=f"{item.key}-{n}") for n in range(40)]
    sender = transport(server, waits, concurrency=4, timeout=5)
    results = sender.send_many(items)
    assert all(isinstance(r, str) for r in results) and len(server.accepted) == 40
    assert 1 <= server.max_in_flight <= 4  # the pool's size, however many messages


def test_a_connection_the_server_dropped_is_replaced_not_reused(server, waits, outgoing_by_kind):
    sender = transport(server, waits, timeout=5)
    first = send(sender, outgoing_by_kind["digest"])
    server.script("drop")
    second = send(sender, outgoing_by_kind["notification"])
    assert (first, second) == ("msg-00001", "msg-00002")
    # The official client opens a connection per request: the retry after the drop has its own.
    assert server.connections == server.requests == 3 and len(waits) == 1
