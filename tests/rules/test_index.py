"""The date indexes change how fast the planner is, never what it plans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from tools.scan_view import ScanView
from tools.synthetic import Shape, generate

ORG = generate(Shape(people=120, goals_per_person=3, milestones_per_goal=4), seed=11)
RULES = load_rules()
START = datetime(2026, 11, 25, tzinfo=UTC)


@pytest.mark.parametrize("days", [0, 3, 6, 9, 14, 20, 31, 37])
@pytest.mark.parametrize("hours", [1, 6, 30])
def test_indexed_plan_equals_scanning_every_record(days: int, hours: int) -> None:
    window = Window(START + timedelta(days=days), START + timedelta(days=days, hours=hours))
    indexed = plan(RULES, ORG, window)
    scanned = plan(RULES, ScanView(ORG), window)
    assert indexed.intents == scanned.intents
    assert indexed.skips == scanned.skips
