"""First invitations are recorded in batches, and still exactly once."""

from __future__ import annotations

from sqlalchemy import func, select

from strides.rules import Window, plan
from strides.rules.reconcile import reconcile
from strides.store import invites
from strides.store.tables import InviteRow, MessageRow
from tests.conftest import at


def _first_decisions(org, rules):
    window = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))
    wanted = [i for i in plan(rules, org, window).intents if i.meeting is not None]
    decisions = reconcile(wanted, [], window, window.end)
    assert decisions and all(d.previous is None for d in decisions)
    return decisions, window.end


def _counts(session) -> tuple[int, int]:
    meetings = session.scalar(select(func.count()).select_from(InviteRow))
    messages = session.scalar(select(func.count()).select_from(MessageRow))
    return meetings, messages


def test_a_first_tick_of_new_meetings_is_recorded_across_batches_once(
    loaded_store, sample_org, builtin_rules, monkeypatch
):
    monkeypatch.setattr(invites, "NEW_BATCH", 7)  # several batches even in the sample
    decisions, now = _first_decisions(sample_org, builtin_rules)
    expected = sum(len(d.messages) for d in decisions)
    with loaded_store.session() as session:
        assert invites.apply(session, decisions, sample_org, now) == expected
    with loaded_store.session() as session:
        # The same decisions again (a retried task, a second worker): nothing new.
        assert invites.apply(session, decisions, sample_org, now) == 0
        assert _counts(session) == (len(decisions), expected)


def test_meetings_already_recorded_by_another_worker_bring_no_messages(
    loaded_store, sample_org, builtin_rules, monkeypatch
):
    monkeypatch.setattr(invites, "NEW_BATCH", 5)
    decisions, now = _first_decisions(sample_org, builtin_rules)
    half = decisions[: len(decisions) // 2]
    with loaded_store.session() as session:
        first = invites.apply(session, half, sample_org, now)
    with loaded_store.session() as session:
        rest = invites.apply(session, decisions, sample_org, now)
        assert first + rest == sum(len(d.messages) for d in decisions)
        assert _counts(session) == (len(decisions), first + rest)
