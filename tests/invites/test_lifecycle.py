"""The tick keeps invites in line with the organisation: update, cancel, never a duplicate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from strides import engine
from strides.integrations.org_changes import OrgChange
from strides.rules import Window
from strides.store import invites, ledger
from strides.store.tables import InviteRow

REVIEW = "deadline-review-meeting"
CHECKIN = "monthly-mentor-checkin"


def methods(rows) -> list[tuple[str, int, str]]:
    return sorted((r.recipient, r.sequence, r.payload["meeting"]["method"]) for r in rows)


def test_a_moved_deadline_updates_the_review_instead_of_inviting_twice(simulation):
    simulation.tick(5, deliver=True)  # the review of g00002 (deadline Dec 18) went out on Dec 1 for Dec 11
    [first] = {r.payload["meeting"]["uid"] for r in simulation.messages(REVIEW, "goal:g00002")}
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    simulation.tick(1, deliver=True)
    rows = simulation.messages(REVIEW, "goal:g00002")
    assert {r.payload["meeting"]["uid"] for r in rows} == {first}
    assert methods(rows) == [
        ("p001", 0, "REQUEST"),
        ("p001", 1, "REQUEST"),
        ("p002", 0, "REQUEST"),
        ("p002", 1, "REQUEST"),
    ]
    updated = [r for r in rows if r.sequence == 1]
    assert {r.occurrence.date() for r in updated} == {date(2026, 12, 23)}
    assert all(r.status == "sent" for r in rows)


def test_a_dropped_goal_cancels_its_review(simulation):
    simulation.tick(12)
    assert methods(simulation.messages(REVIEW, "goal:g00016")) == [
        ("p002", 0, "REQUEST"),
        ("p009", 0, "REQUEST"),
    ]
    simulation.change(OrgChange(day=date(2026, 12, 12), goal="g00016", set={"status": "dropped"}))
    simulation.tick(3)
    rows = simulation.messages(REVIEW, "goal:g00016")
    assert methods(rows) == [
        ("p002", 0, "REQUEST"),
        ("p002", 1, "CANCEL"),
        ("p009", 0, "REQUEST"),
        ("p009", 1, "CANCEL"),
    ]
    with simulation.store.session() as session:
        row = session.get(InviteRow, rows[0].uid)
        assert row is not None and (row.status, row.sequence) == ("cancelled", 1)


def test_a_new_mentor_gets_the_meeting_and_the_old_one_a_cancel(simulation):
    simulation.tick(24)
    before = simulation.messages(CHECKIN, "person:p003")
    january = [r for r in before if r.occurrence.month == 1]
    assert methods(january) == [("p003", 0, "REQUEST"), ("p028", 0, "REQUEST")]
    simulation.change(OrgChange(day=date(2026, 12, 24), person="p003", set={"mentors": ["p030"]}))
    simulation.tick(1)
    january = [r for r in simulation.messages(CHECKIN, "person:p003") if r.occurrence.month == 1]
    assert methods(january) == [
        ("p003", 0, "REQUEST"),
        ("p003", 1, "REQUEST"),
        ("p028", 0, "REQUEST"),
        ("p028", 1, "CANCEL"),
        ("p030", 1, "REQUEST"),
    ]
    cancel = next(r for r in january if r.recipient == "p028" and r.sequence == 1)
    assert cancel.payload["meeting"]["attendees"] == ["p028"]


def test_planning_the_same_window_again_adds_nothing(simulation):
    simulation.tick(3)
    window = Window(simulation.now - timedelta(days=1), simulation.now)
    again = engine.plan_window(simulation.store, simulation.rules, window, simulation.now)
    assert again.planned == 0


def test_a_crash_between_deciding_and_recording_leaves_one_uid_and_no_duplicate(simulation, monkeypatch):
    simulation.tick(5)
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    real_apply = invites.apply

    def apply_then_crash(*args, **kwargs):
        real_apply(*args, **kwargs)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(invites, "apply", apply_then_crash)
    with pytest.raises(RuntimeError):
        simulation.tick(1)
    monkeypatch.setattr(invites, "apply", real_apply)
    simulation.now -= timedelta(days=1)
    simulation.tick(1)
    simulation.tick(1)
    rows = simulation.messages(REVIEW, "goal:g00002")
    assert len({r.uid for r in rows}) == 1
    assert methods(rows) == [
        ("p001", 0, "REQUEST"),
        ("p001", 1, "REQUEST"),
        ("p002", 0, "REQUEST"),
        ("p002", 1, "REQUEST"),
    ]


def test_an_update_supersedes_an_older_message_not_yet_sent(simulation):
    simulation.tick(5)
    with simulation.store.session() as session:
        rows = ledger.messages(session, rule=REVIEW)
        row = next(r for r in rows if r.subject == "goal:g00002" and r.recipient == "p002")
        row.status = ledger.FAILED  # as if the transport had refused the first invitation
    simulation.change(OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}))
    simulation.tick(1)
    statuses = {(r.recipient, r.sequence): r.status for r in simulation.messages(REVIEW, "goal:g00002")}
    assert statuses[("p002", 0)] == ledger.SUPERSEDED
    assert statuses[("p002", 1)] == ledger.PENDING


def test_a_deadline_moved_event_updates_the_review_and_the_next_tick_adds_nothing(simulation):
    from strides.engine import react
    from strides.integrations.events import StridesEvent
    from strides.rules.reactions import Change

    simulation.tick(5)  # the review of g00002 went out on Dec 1 for Dec 11
    event = StridesEvent(Change.DEADLINE_MOVED, "goal:g00002", {"deadline": "2026-12-30"})
    reaction = react.react(simulation.store, simulation.rules, event, simulation.now)
    assert reaction.recorded == 2  # the update to both attendees, nothing else
    rows = simulation.messages(REVIEW, "goal:g00002")
    assert len({r.uid for r in rows}) == 1
    assert methods(rows) == [
        ("p001", 0, "REQUEST"),
        ("p001", 1, "REQUEST"),
        ("p002", 0, "REQUEST"),
        ("p002", 1, "REQUEST"),
    ]
    simulation.tick(1)
    assert methods(simulation.messages(REVIEW, "goal:g00002")) == methods(rows)
