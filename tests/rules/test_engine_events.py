"""The event side in the engine: one event planned into the ledger once, however often it arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strides.engine import plan_event_window, plan_window
from strides.model import Organisation
from strides.rules import Event, Window
from strides.rules.schema import EventKind
from strides.ruleset import load_rules
from strides.store import Store, ledger, snapshot


def test_an_event_is_planned_once_and_a_tick_over_the_same_moment_adds_nothing(
    store: Store, sample_org: Organisation
) -> None:
    with store.session() as session:
        snapshot.save_organisation(session, sample_org)
    rules = load_rules()
    milestone = next(m for m in sample_org.milestones.values() if m.completed_at is not None)
    moment = milestone.completed_at
    assert moment is not None
    event = Event(EventKind.MILESTONE_COMPLETED, moment, milestone.goal, milestone.id)

    first = plan_event_window(store, rules, event, moment)
    again = plan_event_window(store, rules, event, moment)
    assert (first.planned, again.planned) == (1, 0)

    # The tick reads the same completion from the state: same key, nothing new for that rule.
    window = Window(moment - timedelta(minutes=1), moment + timedelta(minutes=1))
    plan_window(store, rules, window, moment + timedelta(minutes=1))
    with store.session() as session:
        rows = ledger.messages(session, rule="milestone-congratulation")
    assert [(r.recipient, r.occurrence) for r in rows] == [(sample_org.goals[milestone.goal].owner, moment)]


def test_events_carry_aware_moments() -> None:
    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        Event(EventKind.GOAL_CREATED, datetime(2026, 12, 1), "g1")
    assert Event(EventKind.GOAL_CREATED, datetime(2026, 12, 1, tzinfo=UTC), "g1").goal == "g1"
