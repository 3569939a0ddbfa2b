"""The listener (flows/listen.py): each event handled once, a failed one tried again, the
catch-up resuming where the store says; and with the real on-event flow, the same completion
announced by two events is one message. The stream and the catch-up against a real Prefect
server are in test_serve_e2e.py."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from uuid import uuid4

import pytest

from strides.config import Settings
from strides.flows.listen import KEEP, MARGIN, Incoming, Listener, event_filter, run_on_event
from strides.rules.reactions import CONGRATULATION
from strides.store import Store, handled, ledger
from tests.conftest import at

NOW = at("2026-12-04 12:00")
COMPLETED = {"milestone": "m000007", "completed_at": "2026-12-03T15:30:00+00:00"}


def incoming(occurred=NOW, event_id: str | None = None) -> Incoming:
    return Incoming(
        event_id or str(uuid4()),
        "strides.milestone.completed",
        "strides.goal.g00003",
        dict(COMPLETED),
        occurred,
    )


class Recorder:
    def __init__(self, outcomes: list[object] | None = None):
        self.calls: list[Incoming] = []
        self.outcomes = list(outcomes or [])

    def __call__(self, _settings: Settings, event: Incoming) -> bool:
        self.calls.append(event)
        outcome = self.outcomes.pop(0) if self.outcomes else True
        if isinstance(outcome, Exception):
            raise outcome
        return bool(outcome)


def quiet(_line: str) -> None:
    pass


def test_an_event_is_handled_once_however_often_it_is_seen(store: Store, settings: Settings):
    handler = Recorder()
    listener = Listener(settings, handler, log=quiet)
    event = incoming()
    assert listener.handle(event) is True
    # Seen again: by the catch-up after the stream, or after a restart.
    assert listener.handle(event) is False
    assert listener.handle(incoming(event_id=event.id)) is False
    assert handler.calls == [event]
    with store.session() as session:
        assert handled.handled_among(session, [event.id, str(uuid4())]) == {event.id}


def test_an_event_whose_flow_failed_is_not_recorded_and_is_tried_again(store: Store, settings: Settings):
    handler = Recorder([RuntimeError("the store is away"), False, True])
    listener = Listener(settings, handler, log=quiet)
    event = incoming()
    assert listener.handle(event) is False  # raised: the listener goes on
    assert listener.handle(event) is False  # the flow run did not complete
    assert listener.handle(event) is True
    assert listener.handle(event) is False
    assert len(handler.calls) == 3


def test_a_deadline_move_found_after_a_newer_one_is_recorded_but_not_applied(
    store: Store, settings: Settings
):
    handler = Recorder()
    listener = Listener(settings, handler, log=quiet)

    def moved(goal: str, deadline: str, occurred) -> Incoming:
        payload = {"deadline": deadline}
        return Incoming(
            str(uuid4()), "strides.goal.deadline-moved", f"strides.goal.{goal}", payload, occurred
        )

    newer = moved("g00003", "2027-03-01", NOW)
    older = moved("g00003", "2027-02-01", NOW - timedelta(seconds=40))
    other_goal = moved("g00004", "2027-02-01", NOW - timedelta(seconds=40))
    assert listener.handle(newer) is True
    assert listener.handle(older) is False  # a sweep found it late: the deadline stays 2027-03-01
    assert listener.handle(other_goal) is True
    assert handler.calls == [newer, other_goal]
    with store.session() as session:
        assert handled.handled_among(session, [older.id]) == {older.id}


def test_the_catch_up_resumes_a_margin_before_the_newest_handled_event(store: Store, settings: Settings):
    listener = Listener(settings, Recorder(), log=quiet)
    # Nothing handled yet: from a margin before now.
    assert listener.since(NOW) == NOW - MARGIN
    listener.handle(incoming(NOW - timedelta(hours=3)))
    listener.handle(incoming(NOW - timedelta(hours=2)))
    ancient = incoming(NOW - KEEP - timedelta(days=1))
    listener.handle(ancient)
    assert listener.since(NOW) == NOW - timedelta(hours=2) - MARGIN
    # Records older than Prefect keeps events are dropped on the way.
    with store.session() as session:
        assert handled.handled_among(session, [ancient.id]) == set()


def test_the_filter_asks_for_what_on_event_reacts_to_oldest_first():
    from prefect.events.filters import EventOrder

    found = event_filter(NOW - MARGIN, NOW)
    assert found.event is not None and found.resource is not None
    assert sorted(found.event.name or []) == ["strides.goal.deadline-moved", "strides.milestone.completed"]
    assert found.resource.id_prefix == ["strides.goal."]
    assert found.order == EventOrder.ASC
    assert (found.occurred.since, found.occurred.until) == (NOW - MARGIN, NOW)


@pytest.mark.flow
def test_the_same_completion_announced_twice_is_one_message(
    prefect_harness: None, loaded_store: Store, settings: Settings
):
    """Two events (two ids: the HR system and sync both report it) run the real on-event flow
    twice; the ledger's keys make it one congratulation."""
    listener = Listener(settings, partial(run_on_event, now=NOW), log=quiet)
    assert listener.handle(incoming()) is True
    assert listener.handle(incoming()) is True
    with loaded_store.session() as session:
        rows = [r for r in ledger.messages(session) if r.rule_id == CONGRATULATION]
    assert [r.status for r in rows] == [ledger.SENT]
    assert len(list(settings.outbox.glob(f"*{CONGRATULATION}*.eml"))) == 1


@pytest.mark.parametrize(("path", "triggered"), [("listen", False), ("trigger", True)])
def test_serve_triggers_on_event_only_when_it_does_not_listen(path: str, triggered: bool, tmp_path):
    from strides.flows.deployments import SPECS
    from strides.flows.serve import build

    settings = Settings(state_dir=tmp_path, event_path=path)
    deployments = {spec.name: build(spec, settings) for spec in SPECS}
    assert bool(deployments["on-event"].triggers) is triggered
    assert not any(d.triggers for name, d in deployments.items() if name != "on-event")
