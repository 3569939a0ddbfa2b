"""Conditions in CEL: compiled once, every field path checked against the model before any record."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from strides.domain.conditions import ConditionError, build_context, compile_condition, evaluate, goal_view
from strides.domain.model import Goal, Metric

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "message", "hint"),
    [
        ('goal.stauts == "active"', "unknown field 'goal.stauts' in condition", "did you mean 'status'?"),
        # `&&` would hide this one at run time: the right side decides the result.
        (
            "goal.metric.targt > 3 && false",
            "unknown field 'goal.metric.targt' in condition",
            "did you mean 'target'?",
        ),
        ("persn.country == 'DE'", "unknown variable 'persn' in condition", "did you mean 'person'?"),
        (
            "mentor.working_hours.strat != null",
            "unknown field 'mentor.working_hours.strat' in condition",
            "did you mean 'start'?",
        ),
    ],
)
def test_unknown_fields_are_refused_statically_with_a_suggestion(
    expression: str, message: str, hint: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(expression)
    assert (caught.value.message, caught.value.hint) == (message, hint)


@pytest.mark.parametrize(
    "expression",
    [
        'goal.title.startsWith("x") && size(goal.tags) > 0',
        'goal.tags.exists(t, t == "impact")',
        '"goal.nonsense" != person.name',
        "goal.deadline - now < duration('336h')",
        "milestone.done || milestone.overdue || goal.smart || goal.metric.progress > 0.5",
    ],
)
def test_methods_macros_and_strings_are_not_mistaken_for_fields(expression: str) -> None:
    compile_condition(expression)


def test_a_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(ConditionError, match=r"CEL syntax error at 1:10"):
        compile_condition("goal.x &&& 3")


def test_deadlines_are_timestamps_and_a_context_serves_many_conditions() -> None:
    goal = Goal(
        id="g1",
        owner="p1",
        title="Ship it",
        deadline=date(2026, 12, 10),
        metric=Metric(name="chapters", target=4, current=1),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    context = build_context({"goal": goal_view(goal, UTC, NOW.date()), "now": NOW})  # type: ignore[arg-type]
    soon = compile_condition('goal.deadline - now < duration("336h")')
    behind = compile_condition("goal.metric.progress < 0.5 && goal.smart")
    assert evaluate(soon, context) == (True, None)
    assert evaluate(behind, context) == (True, None)
    assert compile_condition('goal.deadline - now < duration("336h")') is soon  # compiled once


def test_a_run_time_failure_counts_as_false_and_says_why() -> None:
    context = build_context({"goal": None, "now": NOW})
    ok, problem = evaluate(compile_condition("goal.title == 'x'"), context)
    assert not ok and problem is not None
