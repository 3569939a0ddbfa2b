"""`strides plan` lists what a deployment's ticks would send over the horizon: the preview
(`rules.preview.ticked`) against the engine ticking every 15 minutes into a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strides import engine
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.rules.preview import TICK, ticked
from strides.store import Store, ledger, snapshot

from .conftest import FIXTURES, SAMPLE_ORG

START = datetime(2026, 11, 30, tzinfo=UTC)


def _ticks(store: Store, rules: RuleSet, start: datetime, end: datetime) -> set[tuple[str, str, datetime]]:
    """Tick the engine every 15 minutes from `start` (the first tick plans from there) to `end`:
    what each tick planned into the ledger, as (rule, recipient, occurrence)."""
    moment = start
    while moment < end:
        now = moment + TICK
        window = engine.next_window(store, now, TICK, since=start if moment == start else None)
        assert window is not None
        basis = engine.plan_basis(store, rules)
        outcome = engine.plan_window(store, rules, window, now, basis=basis)
        engine.record_tick(store, now, window, outcome.planned, engine.DeliveryOutcome(), basis)
        moment = now
    with store.session() as session:
        rows = ledger.messages(session)
    return {(r.rule_id, r.recipient, r.occurrence) for r in rows}


def _preview(
    rules: RuleSet, org: Organisation, start: datetime, end: datetime
) -> set[tuple[str, str, datetime]]:
    planned = ticked(rules, org, Window(start, end))
    return {(i.rule_id, i.recipient, i.occurrence) for i in planned.intents}


@pytest.mark.parametrize(
    ("org_folder", "rules_folder", "days", "start"),
    [
        (SAMPLE_ORG, None, 1, START),
        (FIXTURES / "org-small", None, 3, START),
        (FIXTURES / "org-small", FIXTURES / "rules-repeat", 5, START),
        (FIXTURES / "org-small", FIXTURES / "rules-skips", 3, START),
        (FIXTURES / "org-small", FIXTURES / "rules-business", 4, START + timedelta(days=14)),
    ],
    ids=["sample-1d", "small-3d", "repeat-ladder-5d", "skips-3d", "business-days-4d"],
)
def test_the_preview_lists_what_ticks_every_15_minutes_plan(
    tmp_path: Path, org_folder: Path, rules_folder: Path | None, days: int, start: datetime
) -> None:
    org = load_organisation(org_folder).organisation
    rules = load_rules(rules_folder) if rules_folder else load_rules()
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    end = start + timedelta(days=days)
    ticks = _ticks(store, rules, start, end)
    preview = _preview(rules, org, start, end)
    assert ticks, "the horizon plans something"
    assert sorted(preview - ticks) == [] and sorted(ticks - preview) == []
