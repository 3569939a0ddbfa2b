"""A tick's work is a bounded number of task runs, however large the organisation."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from strides import engine
from strides.config import ConfigError, Settings
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.engine import chunks_per_task
from strides.flows.common import Wave, deliver_in_waves
from strides.integrations import DeliveryError
from strides.integrations.compose import Sender
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.store import Store, ledger
from tests.conftest import at

NOW = at("2026-12-01 12:00")


@given(due=st.integers(0, 5_000_000), chunk=st.integers(1, 5000), tasks=st.integers(1, 100))
def test_delivery_needs_at_most_the_target_number_of_tasks(due: int, chunk: int, tasks: int):
    per_task = chunks_per_task(due, chunk, tasks)
    needed = -(-due // (chunk * per_task))
    assert per_task >= 1
    assert needed <= tasks
    # ...and no more chunks per task than that bound requires.
    assert per_task == 1 or -(-due // (chunk * (per_task - 1))) > tasks


def test_the_task_runner_is_threads_by_default_and_dask_when_configured(tmp_path):
    from prefect.task_runners import ThreadPoolTaskRunner

    from strides.flows.common import task_runner

    assert isinstance(task_runner(Settings(state_dir=tmp_path)), ThreadPoolTaskRunner)
    dask = Settings(state_dir=tmp_path, task_runner="dask", dask_address="tcp://127.0.0.1:8786")
    try:
        runner = task_runner(dask)
    except ConfigError as exc:
        assert "dask extra" in str(exc)
    else:
        assert type(runner).__name__ == "DaskTaskRunner"


class RefusingOutbox(OutboxTransport):
    """An outbox whose provider answers 'try later' to one recipient's messages."""

    def __init__(self, folder: Path, refused: str) -> None:
        super().__init__(folder)
        self.refused = refused

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        if self.refused in str(message["To"]):
            raise DeliveryError(key, "451 try again later")
        return super().send(key, message, label)


def waves_of(store: Store, transport: OutboxTransport, chunk: int, now: datetime) -> Wave:
    """Tasks of a wave, run one after another here (the flows run them at once)."""

    def run(tasks: int, chunks: int) -> list[engine.DeliveryOutcome]:
        sender = Sender("growth@strides.example")
        return [engine.drain(store, transport, sender, now, chunk, max_chunks=chunks) for _ in range(tasks)]

    return run


def test_a_ticks_delivery_drains_what_is_due_in_about_the_target_number_of_tasks(
    loaded_store: Store, builtin_rules: RuleSet, tmp_path: Path
):
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=3), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)
    outcome, tasks = deliver_in_waves(
        loaded_store, NOW, 2, waves_of(loaded_store, OutboxTransport(tmp_path), 2, NOW), tasks=8
    )
    assert due > 50
    assert len(outcome.sent) == due and engine.count_due(loaded_store, NOW) == 0
    assert tasks == 8


def test_a_message_that_keeps_failing_ends_the_delivery_instead_of_asking_for_more_tasks(
    loaded_store: Store, builtin_rules: RuleSet, sample_org: Organisation, tmp_path: Path
):
    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=3), NOW), NOW)
    refused = str(sample_org.people["p002"].email)
    transport = RefusingOutbox(tmp_path, refused)
    outcome, tasks = deliver_in_waves(
        loaded_store, NOW, 2, waves_of(loaded_store, transport, 2, NOW), tasks=8
    )
    assert outcome.failed and all(answer == "451 try again later" for _, answer in outcome.failed)
    with loaded_store.session() as session:
        rows = [row for row in ledger.messages(session) if row.send_at <= NOW]
    assert {row.status for row in rows if row.recipient_email != refused} == {ledger.SENT}
    assert {row.status for row in rows if row.recipient_email == refused} <= {ledger.FAILED, ledger.DEAD}
    # Failing messages die after their attempts; the waves stop well before the 64-task bound.
    assert tasks <= 24


def test_concurrent_claims_on_sqlite_never_share_a_row_and_come_back_full(
    loaded_store: Store, builtin_rules: RuleSet
):
    from concurrent.futures import ThreadPoolExecutor

    engine.plan_window(loaded_store, builtin_rules, Window(NOW - timedelta(days=3), NOW), NOW)
    due = engine.count_due(loaded_store, NOW)

    def claim(_: int) -> list[str]:
        with loaded_store.session() as session:
            return [row.key for row in ledger.claim(session, NOW, 5).rows]

    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(claim, range(due // 5)))
    keys = [key for claimed in claims for key in claimed]
    assert len(keys) == len(set(keys)) == due // 5 * 5
    assert {len(claimed) for claimed in claims} == {5}
