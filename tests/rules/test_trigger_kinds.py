"""Every trigger the schema accepts is planned by a kind registered in one table."""

from __future__ import annotations

from datetime import time, timedelta
from typing import get_args

from strides.domain.parse import parse_rules
from strides.domain.schema import Trigger
from strides.rules.planning.kinds import KINDS, kind_of

RULES = """
rules:
  - id: anchored
    trigger: {anchor: goal.deadline, offsets: [-3d], at: "09:00"}
    action: {kind: email, title: "Due soon"}
  - id: cadence
    trigger: {every: FREQ=WEEKLY;BYDAY=FR, at: "16:00", timezone: Europe/Berlin}
    action: {kind: email, title: "Friday"}
  - id: digest
    trigger: {every: digest-preference}
    action: {kind: digest}
  - id: ladder
    trigger:
      escalate: milestone.overdue
      steps: [{after: 1d, to: [owner]}, {after: 7d, to: [manager]}]
      repeat: 7d
    action: {kind: email, title: "Overdue"}
  - id: congratulate
    trigger: {event: milestone.completed}
    action: {kind: email, title: "Well done"}
"""


def _members() -> set[type]:
    union = get_args(Trigger)[0]
    return {get_args(member)[0] for member in get_args(union)}


def test_every_trigger_type_of_the_schema_has_exactly_one_kind() -> None:
    assert set(KINDS) == _members()


def test_each_trigger_says_what_it_fires_for_when_on_whose_clock_and_how_late() -> None:
    rules = {rule.id: rule for rule in parse_rules(RULES, "kinds.yaml")}
    facts = {
        rule_id: (rule.trigger.subject, rule.trigger.time_of_day, rule.trigger.zone, rule.trigger.lateness)
        for rule_id, rule in rules.items()
    }
    assert facts == {
        "anchored": ("goal", time(9), None, timedelta(days=1)),
        "cadence": ("person", time(16), "Europe/Berlin", timedelta(days=1)),
        "digest": ("person", None, None, timedelta.max),
        "ladder": ("milestone", time(9), None, timedelta(days=1)),
        "congratulate": ("milestone", time(9), None, timedelta(days=1)),
    }
    # An escalation plans each rung, and its repeats, as a part of its own.
    assert kind_of(rules["ladder"]).parts(rules["ladder"]) == 3
    assert {kind_of(rule).parts(rule) for rule_id, rule in rules.items() if rule_id != "ladder"} == {1}


def test_each_rung_of_the_built_in_ladder_tells_its_recipient_its_own_text() -> None:
    from pathlib import Path

    from strides.domain.model import Organisation
    from strides.integrations.rule_files import load_rules
    from strides.rules.testing import parse_test_file, simulate

    path = Path(__file__).parent / "pack" / "ladder.yaml"
    test = parse_test_file(path.read_text(), path.name)
    org = Organisation(
        people={p.id: p for p in test.org.people},
        goals={g.id: g for g in test.org.goals},
        milestones={m.id: m for m in test.org.milestones},
    )
    intents, _ = simulate(load_rules(), org, test.tests[0])
    bodies = {i.recipient: i.body for i in intents if i.rule_id == "overdue-milestone-ladder"}
    assert bodies["ada"].startswith(
        "Milestone “First draft” of “Ship the playbook” was due on 2026-12-04. Finish it"
    )
    assert bodies["cy"].startswith(
        "Ada's milestone “First draft” of “Ship the playbook” was due on 2026-12-04."
    )
    assert "A word from you may help" in bodies["cy"] and "Finish it," not in bodies["cy"]
    assert "Talk it through with Ada" in bodies["bob"]
