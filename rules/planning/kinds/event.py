"""Event triggers: a goal created, updated or completed, its deadline moved, a milestone completed
or overdue. They fire from events (read from the state in a window, or injected by the event
transport), not from the window's days."""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from datetime import datetime, time, timedelta

from strides.domain.schema import EventKind, EventTrigger, Kind, Shift
from strides.rules.calendar import local_moment
from strides.rules.events import Event
from strides.rules.planning import messages
from strides.rules.planning.kinds.base import TriggerKind
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import Planner
from strides.rules.planning.view import OrgView


class EventTriggerKind(TriggerKind):
    """Fires from events only (`plan_events`): no occasions of its own in a window."""


def derived_events(
    view: OrgView, start: datetime, end: datetime, kinds: Container[EventKind] | None = None
) -> Iterator[Event]:
    """The events the state itself records in [start, end): creations, completions, overdue.

    goal.changed and goal.deadline-moved leave no trace in a snapshot; they come only from the
    event transport (plan_event). Keys are the same either way, so nothing is sent twice.
    Milestones become overdue only while their goal is active. With `kinds`, only the events of
    those kinds are looked for (the milestones due around the window are read only for
    milestone.overdue).
    """
    for moment, what, goal, milestone in view.moments((start - timedelta(days=1)).date(), end.date()):
        if not start <= moment < end:
            continue
        if milestone is not None:
            yield Event(EventKind.MILESTONE_COMPLETED, moment, goal.id, milestone.id)
        elif what == "created":
            yield Event(EventKind.GOAL_CREATED, moment, goal.id)
        else:
            yield Event(EventKind.GOAL_COMPLETED, moment, goal.id)
    if kinds is not None and EventKind.MILESTONE_OVERDUE not in kinds:
        return
    first, last = (start - timedelta(days=2)).date(), (end + timedelta(days=1)).date()
    for milestone in view.milestones_due(first, last):
        owner = view.people.get(view.goals[milestone.goal].owner)
        if owner is None:
            continue
        overdue = local_moment(milestone.due + timedelta(days=1), time(0), owner.tz)
        late = milestone.completed_at is None or milestone.completed_at >= overdue
        if late and start <= overdue < end:
            yield Event(EventKind.MILESTONE_OVERDUE, overdue, milestone.goal, milestone.id)


def _occasions(planner: Planner, event: Event) -> Iterator[Occasion]:
    view = planner.view
    goal = view.goals.get(event.goal)
    owner = view.people.get(goal.owner) if goal else None
    if goal is None or owner is None:
        return
    milestone = view.milestones.get(event.milestone) if event.milestone else None
    subject = f"milestone:{milestone.id}" if milestone else f"goal:{goal.id}"
    for rule in planner.rules.enabled:
        trigger = rule.trigger
        if not isinstance(trigger, EventTrigger) or trigger.event is not event.kind:
            continue
        moment = event.at + trigger.delay
        day = moment.astimezone(owner.tz).date()
        exact = None if trigger.at is not None or rule.calendar.business_days is not Shift.NONE else moment
        yield Occasion(rule, subject, owner, day, goal, milestone, moment=exact)


def plan_events(planner: Planner, events: Sequence[Event]) -> None:
    """Event occasions are not bound to the window: a delayed message is planned now for later."""
    for event in events:
        for occasion in _occasions(planner, event):
            if occasion.rule.action.kind is Kind.INVITE:
                messages.plan_invite(planner, occasion)
            else:
                messages.plan_event_notice(planner, occasion)


KIND = EventTriggerKind()
