"""Reactions as plain functions: the diff of two snapshots, the congratulation, a moved deadline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from strides import engine
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.domain.schema import EventKind
from strides.engine import react
from strides.integrations.events import EventError, StridesEvent, about_of, resource_id
from strides.rules import Window
from strides.rules.events import Event
from strides.rules.planning import plan, plan_event
from strides.rules.reactions import CONGRATULATION, Change, diff, replan_goal
from strides.store import Store, ledger, slices
from tests.conftest import at

NOW = at("2026-12-04 12:00")


def with_milestone_done(org: Organisation, mid: str, when) -> Organisation:
    milestones = dict(org.milestones)
    milestones[mid] = milestones[mid].model_copy(update={"completed_at": when})
    return org.model_copy(update={"milestones": milestones})


def with_deadline(org: Organisation, gid: str, deadline: date) -> Organisation:
    goals = dict(org.goals)
    goals[gid] = goals[gid].model_copy(update={"deadline": deadline})
    return org.model_copy(update={"goals": goals})


# -- diff --------------------------------------------------------------------------------------------


def test_an_unchanged_organisation_has_no_changes(sample_org: Organisation):
    assert diff(sample_org, sample_org) == []


def test_a_completed_milestone_and_a_moved_deadline_are_reported_about_their_goal(sample_org):
    after = with_deadline(with_milestone_done(sample_org, "m000007", NOW), "g00003", date(2026, 12, 21))
    found = diff(sample_org, after)
    assert [(h.change, h.about) for h in found] == [
        (Change.DEADLINE_MOVED, "goal:g00003"),
        (Change.MILESTONE_COMPLETED, "goal:g00003"),
    ]
    assert found[0].details == {"owner": "p002", "previous": "2026-12-07", "deadline": "2026-12-21"}
    assert found[1].details == {"milestone": "m000007", "completed_at": NOW.isoformat()}


def test_people_who_join_or_leave_are_reported(sample_org: Organisation):
    people = dict(sample_org.people)
    newcomer = people["p002"].model_copy(update={"id": "p999", "email": "new.person@example.com"})
    smaller = sample_org.model_copy(update={"people": {**people, "p999": newcomer}})
    assert [(h.change, h.about) for h in diff(sample_org, smaller)] == [(Change.PERSON_JOINED, "person:p999")]
    assert [(h.change, h.about) for h in diff(smaller, sample_org)] == [(Change.PERSON_LEFT, "person:p999")]


# -- the congratulation ------------------------------------------------------------------------------


def test_a_completed_milestone_brings_one_congratulation_to_its_owner(
    sample_org: Organisation, builtin_rules: RuleSet
):
    done = with_milestone_done(sample_org, "m000007", at("2026-12-03 15:30"))
    event = Event(EventKind.MILESTONE_COMPLETED, at("2026-12-03 15:30"), "g00003", "m000007")
    (intent,) = plan_event(builtin_rules, done, event, NOW).intents
    assert (intent.rule_id, intent.recipient) == (CONGRATULATION, "p002")
    assert intent.title.startswith("Well done: ")
    # The same completion seen later (a second report of it, or a tick) is the same message.
    assert plan_event(builtin_rules, done, event, NOW + timedelta(hours=1)).intents[0].key == intent.key
    ticked = plan(builtin_rules, done, Window(at("2026-12-03 00:00"), at("2026-12-04 00:00")))
    assert intent.key in {i.key for i in ticked.intents}


def deadline_rules(rules: RuleSet) -> RuleSet:
    """The deadline rules alone: in the full pack g00003's overdue milestone inhibits its reminders."""
    return RuleSet(tuple(r for r in rules.rules if r.id in {"deadline-reminder", "deadline-review-meeting"}))


def test_replanning_a_goal_keeps_to_that_goal(sample_org: Organisation, builtin_rules: RuleSet):
    window = Window(at("2026-12-04 00:00"), NOW)
    subjects = {
        i.subject for i in replan_goal(deadline_rules(builtin_rules), sample_org, "g00003", window).intents
    }
    assert subjects == {"goal:g00003"}


# -- events ------------------------------------------------------------------------------------------


def test_events_concern_a_goal_or_a_person_as_a_prefect_resource():
    assert resource_id("goal:g00003") == "strides.goal.g00003"
    assert about_of("strides.person.p001") == "person:p001"
    with pytest.raises(EventError, match="goal:<id> or person:<id>"):
        resource_id("milestone:m1")
    with pytest.raises(EventError, match="unknown event"):
        StridesEvent("strides.goal.exploded", "goal:g00003")


# -- react on a store --------------------------------------------------------------------------------


def test_a_reported_completion_updates_the_snapshot_and_is_congratulated_once(
    loaded_store: Store, builtin_rules: RuleSet
):
    event = StridesEvent(
        Change.MILESTONE_COMPLETED,
        "goal:g00003",
        {"milestone": "m000007", "completed_at": "2026-12-03T15:30Z"},
    )
    first = react.react(loaded_store, builtin_rules, event, NOW)
    again = react.react(loaded_store, builtin_rules, event, NOW + timedelta(minutes=5))
    assert (first.recorded, again.recorded) == (1, 0)
    with loaded_store.session() as session:
        (row,) = ledger.messages(session, rule=CONGRATULATION)
    assert (row.recipient, row.occurrence) == ("p002", at("2026-12-03 15:30"))


def test_a_moved_deadline_withdraws_its_old_reminder_and_plans_the_new_dates(
    loaded_store: Store, builtin_rules: RuleSet
):
    builtin_rules = deadline_rules(builtin_rules)
    engine.plan_window(loaded_store, builtin_rules, Window(at("2026-12-04 00:00"), NOW), NOW)
    with loaded_store.session() as session:
        (old,) = [r for r in ledger.messages(session, rule="deadline-reminder") if r.subject == "goal:g00003"]
    event = StridesEvent(Change.DEADLINE_MOVED, "goal:g00003", {"deadline": "2026-12-21"})
    reaction = react.react(loaded_store, builtin_rules, event, NOW)
    assert reaction.cancelled == [old.key]
    with loaded_store.session() as session:
        rows = [r for r in ledger.messages(session) if r.subject == "goal:g00003"]
    assert {r.key: r.status for r in rows}[old.key] == ledger.CANCELLED
    # The review meeting a week before the new deadline is now due to be invited to (10 days' lead).
    review = [r for r in rows if r.rule_id == "deadline-review-meeting"]
    assert {r.recipient for r in review} == {"p002", "p001"}
    assert {r.occurrence.date() for r in review} == {date(2026, 12, 14)}
    assert reaction.recorded == len(review)


def test_an_event_reads_only_its_goals_slice_yet_plans_what_the_whole_organisation_would(
    loaded_store: Store, builtin_rules: RuleSet, sample_org: Organisation
):
    planned = replanned = 0
    for goal in sample_org.goals.values():
        with loaded_store.session() as session:
            part = slices.goal_slice(session, goal.id)
        owner = sample_org.people[goal.owner]
        manager = sample_org.people.get(owner.manager or "")
        addressed = {owner.id, *owner.mentors} | ({manager.id, manager.manager} if manager else set())
        assert addressed - {None} <= set(part.people)
        assert len(part.people) < len(sample_org.people)
        for milestone in sample_org.milestones_of(goal.id):
            happened = Event(EventKind.MILESTONE_COMPLETED, NOW - timedelta(hours=1), goal.id, milestone.id)
            wanted = plan_event(builtin_rules, sample_org, happened, NOW)
            assert plan_event(builtin_rules, part, happened, NOW) == wanted
            planned += len(wanted.intents)
        window = Window(NOW - timedelta(days=3), NOW + timedelta(days=10))
        wanted = replan_goal(builtin_rules, sample_org, goal.id, window)
        assert replan_goal(builtin_rules, part, goal.id, window) == wanted
        replanned += len(wanted.intents)
    assert planned > 0 and replanned > 0


def test_an_event_about_an_unknown_goal_reads_nothing_and_says_so(
    loaded_store: Store, builtin_rules: RuleSet
):
    event = StridesEvent(Change.MILESTONE_COMPLETED.value, "goal:g99999", {"milestone": "m000007"})
    assert (
        react.react(loaded_store, builtin_rules, event, NOW).note
        == "unknown milestone 'm000007' of goal:g99999"
    )
