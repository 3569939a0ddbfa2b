"""A broken rule set never half-applies: the engine keeps the last good set and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from strides.domain.errors import RuleSetError
from strides.integrations.rule_files import load_rules_safely

GOOD = """
rules:
  - id: weekly
    trigger: {every: FREQ=WEEKLY;BYDAY=FR, at: "16:00"}
    action: {kind: email, title: Weekly}
  - id: monthly
    trigger: {every: FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1}
    action: {kind: email, title: Monthly}
"""
# One good rule and one broken one: applying "what parses" would drop `monthly` silently.
BROKEN = GOOD.replace("BYSETPOS=1", "BYSETPOS=1;COUNT=2;UNTIL=20270101T000000Z").replace("Weekly", "Changed")


def test_broken_rules_fall_back_to_the_last_good_set_with_a_warning(tmp_path: Path) -> None:
    folder, state = tmp_path / "rules", tmp_path / "state"
    folder.mkdir()
    (folder / "team.yaml").write_text(GOOD)
    first = load_rules_safely(folder, state)
    assert first.warning is None and len(first.rules) == 2

    (folder / "team.yaml").write_text(BROKEN)
    second = load_rules_safely(folder, state)
    assert [r.id for r in second.rules.rules] == ["weekly", "monthly"]
    assert second.rules.rules[0].action.title == "Weekly"  # nothing of the broken file applied
    assert second.warning is not None and "keeping the last good rule set" in second.warning
    assert "COUNT and UNTIL" in second.problems[0]


def test_broken_rules_without_a_last_good_set_raise_every_problem(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "team.yaml").write_text(BROKEN)
    with pytest.raises(RuleSetError, match="COUNT and UNTIL"):
        load_rules_safely(folder, tmp_path / "state")
