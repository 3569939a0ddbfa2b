"""The event side in the engine: one event planned into the ledger once, however often it arrives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from strides.domain.model import Organisation
from strides.domain.schema import EventKind
from strides.engine import plan_event_window, plan_window, record_event
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.rules.events import Event
from strides.store import Store, invites, ledger, snapshot

from ..conftest import FIXTURES, at


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
    with pytest.raises(ValueError, match="timezone-aware"):
        Event(EventKind.GOAL_CREATED, datetime(2026, 12, 1), "g1")
    assert Event(EventKind.GOAL_CREATED, datetime(2026, 12, 1, tzinfo=UTC), "g1").goal == "g1"


# -- event rules with invites: one engine function for events, through the invite lifecycle ------

EVENT_RULES = FIXTURES / "rules-events"
# m-outline of g-ben (ben in New York, mentor cara) was completed on 2026-12-02 at 15:00 UTC.
DONE = at("2026-12-02 15:00")
COMPLETED = Event(EventKind.MILESTONE_COMPLETED, DONE, "g-ben", "m-outline")


@pytest.fixture
def small_store(store: Store) -> Store:
    loaded = load_organisation(FIXTURES / "org-small")
    with store.session() as session:
        snapshot.save_organisation(session, loaded.organisation)
    return store


def _messages(store: Store) -> list[tuple[str, str, str]]:
    with store.session() as session:
        return sorted(
            (r.rule_id, r.recipient, r.payload["meeting"]["method"] if r.payload["meeting"] else "-")
            for r in ledger.messages(session)
        )


def test_an_event_rule_invite_is_sent_once_and_the_same_event_again_sends_nothing(small_store: Store) -> None:
    rules = load_rules(EVENT_RULES)
    first = plan_event_window(small_store, rules, COMPLETED, DONE)
    again = plan_event_window(small_store, rules, COMPLETED, DONE + timedelta(minutes=5))
    assert (first.planned, again.planned) == (3, 0)
    assert _messages(small_store) == [
        ("celebrate", "ben", "REQUEST"),
        ("celebrate", "cara", "REQUEST"),
        ("well-done", "ben", "-"),
    ]
    with small_store.session() as session:
        (meeting,) = invites.meetings(session)
    # Placed: 10:00 in New York (Ben) is midnight in Tokyo (Cara, his mentor), and their working
    # hours never overlap, so the meeting takes the least-bad slot on a working day of both,
    # shared at the edge of their days: 17:45 Thursday in New York, 07:45 Friday in Tokyo.
    assert (meeting.subject, meeting.sequence, meeting.start) == (
        "milestone:m-outline",
        0,
        at("2026-12-03 22:45"),
    )


@pytest.mark.parametrize("event_first", [True, False], ids=["event-then-tick", "tick-then-event"])
def test_a_tick_and_an_event_seeing_the_same_completion_send_each_message_once(
    small_store: Store, event_first: bool
) -> None:
    rules = load_rules(EVENT_RULES)
    window = Window(DONE - timedelta(hours=1), DONE + timedelta(hours=1))

    def tick() -> int:
        return plan_window(small_store, rules, window, window.end).planned

    def event() -> int:
        return plan_event_window(small_store, rules, COMPLETED, DONE).planned

    counts = [event(), tick()] if event_first else [tick(), event()]
    assert counts == [3, 0]
    assert len(_messages(small_store)) == 3


def test_later_ticks_keep_the_event_meeting_and_react_records_it(small_store: Store) -> None:
    rules = load_rules(EVENT_RULES)
    with small_store.session() as session:
        # The event transport: react() to the completion, as the on-event flow does.
        org = snapshot.load_organisation(session)
        planned = record_event(session, rules, org, COMPLETED, DONE)
    assert planned.planned == 3
    # Ticks after the event do not see it again; they must not cancel its meeting.
    for day in range(3):
        start = DONE + timedelta(days=day)
        plan_window(small_store, rules, Window(start, start + timedelta(days=1)), start + timedelta(days=1))
    assert [m for _, _, m in _messages(small_store)].count("CANCEL") == 0
    with small_store.session() as session:
        assert [m.status for m in invites.meetings(session)] == ["active"]


def test_the_on_event_reaction_sends_event_invites_too(small_store: Store) -> None:
    from strides.engine.react import react
    from strides.integrations.events import StridesEvent

    rules = load_rules(EVENT_RULES)
    happening = StridesEvent(
        "strides.milestone.completed",
        "goal:g-ben",
        {"milestone": "m-outline", "completed_at": DONE.isoformat()},
    )
    assert react(small_store, rules, happening, DONE).recorded == 3
    assert react(small_store, rules, happening, DONE + timedelta(minutes=1)).recorded == 0
    assert [k for k, _, m in _messages(small_store) if m == "REQUEST"] == ["celebrate", "celebrate"]
