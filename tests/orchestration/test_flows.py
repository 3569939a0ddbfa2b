"""The flows under the session's Prefect harness (few and coarse: the logic is tested directly)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from strides.config import Settings
from strides.rules.reactions import CONGRATULATION
from strides.store import Store, ledger
from tests.conftest import SAMPLE_ORG, at

NOW = at("2026-12-04 12:00")


@pytest.mark.flow
def test_sync_reports_a_completed_milestone_and_on_event_congratulates_then_deliver_drains(
    prefect_harness: None, loaded_store: Store, settings: Settings, tmp_path: Path
):
    from strides.flows.deliver import deliver
    from strides.flows.on_event import on_event
    from strides.flows.sync import sync

    source = tmp_path / "org"
    shutil.copytree(SAMPLE_ORG, source)
    milestones = source / "milestones.csv"
    lines = milestones.read_text().splitlines()
    lines = [line + "2026-12-03T15:30:00+00:00" if line.startswith("m000007,") else line for line in lines]
    milestones.write_text("\n".join(lines) + "\n")
    parameters = settings.derived(organisation=source).model_dump(mode="json")

    synced = sync(now=NOW, settings=parameters)
    assert synced == {"changes": 1, "emitted": 1, "rejected": 0}

    reacted = on_event(
        event="strides.milestone.completed",
        resource_id="strides.goal.g00003",
        payload={"milestone": "m000007"},
        settings=parameters,
        now=NOW,
    )
    assert (reacted["recorded"], reacted["sent"]) == (1, 1)
    assert len(list(settings.outbox.glob(f"*{CONGRATULATION}*.eml"))) == 1

    drained = deliver(now=NOW, settings=parameters)
    with loaded_store.session() as session:
        due = [r for r in ledger.messages(session) if r.send_at <= NOW and r.status != ledger.SENT]
    assert drained["failed"] == 0
    assert due == []
