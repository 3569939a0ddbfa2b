"""Events the rules react to: injected by the event transport, or read from the state itself."""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from strides.domain.parse import RuleSet
from strides.domain.schema import EventKind, EventTrigger
from strides.rules.calendar import local_moment
from strides.rules.index import OrgIndex, OrgLike


@dataclass(frozen=True)
class Event:
    """Something that happened to a goal (and maybe one of its milestones) at a moment."""

    kind: EventKind
    at: datetime
    goal: str
    milestone: str | None = None
    # goal.deadline_moved: the deadline before the move.
    previous_deadline: date | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an event's moment must be timezone-aware")
        if self.kind.value.startswith("milestone.") and self.milestone is None:
            raise ValueError(f"a {self.kind.value} event names its milestone")


def derived_events(
    org: OrgLike,
    start: datetime,
    end: datetime,
    index: OrgIndex,
    kinds: Container[EventKind] | None = None,
) -> Iterator[Event]:
    """The events the state itself records in [start, end): creations, completions, overdue.

    goal.updated and goal.deadline_moved leave no trace in a snapshot; they come only from the
    event transport (plan_event). Keys are the same either way, so nothing is sent twice.
    Milestones become overdue only while their goal is active. With `kinds`, only the events of
    those kinds are looked for (the milestones due around the window are read only for
    milestone.overdue).
    """
    for moment, what, goal, milestone in index.moments((start - timedelta(days=1)).date(), end.date()):
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
    for milestone in index.milestones_due(first, last):
        owner = org.people.get(org.goals[milestone.goal].owner)
        if owner is None:
            continue
        overdue = local_moment(milestone.due + timedelta(days=1), time(0), owner.tz)
        late = milestone.completed_at is None or milestone.completed_at >= overdue
        if late and start <= overdue < end:
            yield Event(EventKind.MILESTONE_OVERDUE, overdue, milestone.goal, milestone.id)


def event_rule_ids(rules: RuleSet, kind: EventKind | None = None) -> frozenset[str]:
    """The enabled event rules (of one event kind, if given)."""
    return frozenset(
        r.id
        for r in rules.enabled
        if isinstance(r.trigger, EventTrigger) and (kind is None or r.trigger.event is kind)
    )
