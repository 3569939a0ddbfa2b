"""Delivery killed with SIGKILL again and again, on the outbox and over SMTP: nothing is lost, and
only a message in flight at a kill (sent, not yet recorded) may go out a second time."""

from __future__ import annotations

import signal
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from strides.store import Store, ledger

from ..delivery.conftest import free_port
from ..orchestration.test_workers import NOW, ledger_rows, sends, start_worker, wait_for

KILLS = 5


class Recording:
    """An SMTP server that keeps every message it accepted."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.keys.append(message_from_bytes(envelope.content)["X-Strides-Key"])
        return "250 2.0.0 queued"


@pytest.fixture
def smtp() -> Iterator[tuple[Recording, int]]:
    handler = Recording()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


def kill_repeatedly(
    store: Store, tmp: Path, delivered: Callable[[], int], **options: object
) -> tuple[set[str], int]:
    """Start a worker, kill it after a few sends, start the next past the claim timeout; KILLS
    times, then let one finish. Returns the keys left claimed by the kills, and the kills."""
    (tmp / "go").touch()
    stranded: set[str] = set()
    moment = NOW
    for _ in range(KILLS):
        before = delivered()
        worker = start_worker(store, tmp, now=moment, chunk=10, delay=0.02, **options)
        wait_for(lambda before=before: delivered() >= before + 7, "a few more messages to go out")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        stranded |= {row.key for row in ledger_rows(store) if row.status == ledger.SENDING}
        moment += timedelta(minutes=10, seconds=1)  # the next worker takes the dead one's claims over
    last = start_worker(store, tmp, now=moment, chunk=10, **options)
    assert last.wait(timeout=300) == 0
    return stranded, KILLS


def test_kills_while_writing_the_outbox_lose_nothing_and_leave_one_file_per_message(
    loaded_store: Store, tmp_path: Path
) -> None:
    stranded, kills = kill_repeatedly(loaded_store, tmp_path, lambda: len(sends(tmp_path)))
    rows = ledger_rows(loaded_store)
    assert len(rows) > 100 and stranded
    assert {row.status for row in rows} == {ledger.SENT}
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == len(rows)
    # The outbox is written under the message's key, so a second write replaces the first.
    handed_twice = {key for key, count in Counter(key for key, _ in sends(tmp_path)).items() if count > 1}
    assert len(handed_twice) <= kills and handed_twice <= stranded


def test_kills_while_sending_over_smtp_lose_nothing_and_double_only_the_message_in_flight(
    loaded_store: Store, tmp_path: Path, smtp: tuple[Recording, int]
) -> None:
    server, port = smtp
    stranded, kills = kill_repeatedly(loaded_store, tmp_path, lambda: len(server.keys), smtp_port=port)
    rows = ledger_rows(loaded_store)
    assert len(rows) > 100 and stranded
    assert {row.status for row in rows} == {ledger.SENT}
    copies = Counter(server.keys)
    assert set(copies) == {row.key for row in rows}, "every message reached the server"
    doubled = {key for key, count in copies.items() if count > 1}
    # At most the one message each kill caught between the server's 250 and the ledger's record.
    assert max(copies.values()) <= 2 and len(doubled) <= kills and doubled <= stranded
