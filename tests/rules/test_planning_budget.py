"""A rule's planning is bounded at run time: a rule that finds more occasions for one subject than
its budget, or whose arithmetic fails, is given up for the window with the reason, sends nothing,
and the other rules are planned as ever."""

from __future__ import annotations

from datetime import timedelta

import pytest

from strides.domain.model import Organisation
from strides.domain.parse import RuleSet, parse_rules
from strides.rules import planning
from strides.rules.intents import Window

from ..conftest import at

RULES = RuleSet(
    parse_rules(
        """
rules:
  - id: friday
    trigger: {every: FREQ=WEEKLY;BYDAY=FR, at: "16:00", max_lateness: 8d}
    action: {kind: email, title: "Friday"}
  - id: daily
    trigger: {every: FREQ=DAILY, at: "09:00", max_lateness: 8d}
    action: {kind: email, title: "Daily"}
""",
        "budget.yaml",
    )
)
WINDOW = Window(at("2026-12-01 00:00"), at("2026-12-08 00:00"))


def test_within_budget_every_rule_is_planned(sample_org: Organisation) -> None:
    plan = planning.plan(RULES, sample_org, WINDOW)
    assert {i.rule_id for i in plan.intents} == {"friday", "daily"}
    assert not [s for s in plan.skips if s.cause == "rule-failed"]


def test_a_rule_over_its_budget_is_given_up_with_the_reason_and_the_others_go_on(
    sample_org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A budget of three occasions a subject in this week: the daily rule finds seven.
    monkeypatch.setattr(planning, "_budget", lambda window: 3)
    plan = planning.plan(RULES, sample_org, WINDOW)
    assert {i.rule_id for i in plan.intents} == {"friday"}
    given_up = [s for s in plan.skips if s.cause == "rule-failed"]
    assert [(s.rule_id, s.subject) for s in given_up] == [("daily", "rule:daily")]
    assert given_up[0].reason.startswith("rule given up in this window: more than 3 occasions for person:")
    assert not [s for s in plan.skips if s.rule_id == "daily" and s.cause != "rule-failed"]


def test_a_rule_whose_arithmetic_fails_is_given_up_and_the_others_go_on(
    sample_org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    from strides.rules.planning.kinds import cadence

    real = cadence.recurrence_days

    def failing(every, *args, **kwargs):
        if "DAILY" in str(every):
            raise OverflowError("date value out of range")
        return real(every, *args, **kwargs)

    monkeypatch.setattr(cadence, "recurrence_days", failing)
    plan = planning.plan(RULES, sample_org, WINDOW)
    assert {i.rule_id for i in plan.intents} == {"friday"}
    reasons = [s.reason for s in plan.skips if s.cause == "rule-failed"]
    assert reasons == ["rule given up in this window: OverflowError: date value out of range"]


def test_the_budget_grows_with_the_window() -> None:
    day = planning._budget(Window(at("2026-12-01 00:00"), at("2026-12-01 00:15")))
    week = planning._budget(Window(at("2026-12-01 00:00"), at("2026-12-01 00:00") + timedelta(days=7)))
    assert day == planning.OCCASIONS_PER_SUBJECT_DAY and week == 7 * day
