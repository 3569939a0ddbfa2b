"""Anchored triggers: offsets from a date on each active goal (deadline, creation), open milestone
(due day) or person (hire date), at a local time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import cast

from strides.domain.durations import BusinessDays
from strides.domain.model import Goal, GoalStatus, Milestone, Person
from strides.domain.schema import Anchor, AnchorTrigger, Kind, Rule
from strides.rules.calendar import add_business_days, business_span
from strides.rules.planning import timing
from strides.rules.planning.kinds.base import TriggerKind
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import Planner
from strides.rules.planning.view import Quieted


class AnchorKind(TriggerKind):
    def weight(self, rule: Rule) -> int:
        # One query an offset.
        return len(cast(AnchorTrigger, rule.trigger).offsets)

    def reopens(self, rule: Rule) -> str | None:
        return rule.trigger.subject

    def occasions(self, planner: Planner, rule: Rule, part: int | None = None) -> Iterator[Occasion]:
        trigger = cast(AnchorTrigger, rule.trigger)
        first, last = planner.span(self.reach(rule))
        if planner.settled is not None and rule.action.kind is Kind.INVITE:
            # Steady state: only invites whose send time can fall after `settled`; the
            # reopened subjects are planned in full below.
            reach = rule.action.lead - timing.slack(rule) - timedelta(days=2)
            first = max(first, (planner.settled + reach).date())
        seen: set[tuple[str, int | None]] = set()
        for occasion in _between(planner, rule, trigger, first, last):
            seen.add((occasion.subject, occasion.offset_days))
            yield occasion
        if rule.action.kind is not Kind.INVITE or not planner.reopened:
            return
        # A meeting already invited to stays wanted wherever its anchor has moved, even beyond
        # this window's reach: the reconciler then updates it instead of cancelling it. So do
        # the meetings of subjects whose records changed.
        for subject in sorted(planner.reopened):
            for occasion in _of_subject(planner, rule, trigger, subject):
                if (occasion.subject, occasion.offset_days) not in seen:
                    yield occasion


def _between(
    planner: Planner, rule: Rule, trigger: AnchorTrigger, first: date, last: date
) -> Iterator[Occasion]:
    """Occasions whose day falls in [first, last], found through the view's date questions."""
    view, held_back = planner.view, planner.held_back
    if trigger.anchor is Anchor.PERSON_HIRED:
        for person in view.people_hired():
            for occasion in _of_person(rule, trigger, person):
                if first <= occasion.moment_day <= last:
                    yield occasion
        return
    # An inhibited rule reads the milestones of each goal it fires for (`HeldBack.inhibitor`).
    inhibited = rule.id in held_back.inhibitors
    days = planner.occasion_days(rule, trigger.at, planner.facts(rule).owner_clock, first, last)
    for offset in trigger.offsets:
        if isinstance(offset, BusinessDays):
            # Business days span a varying number of calendar days: read the anchors of the
            # widest span, and keep the occasions that land in [first, last].
            yield from _business(planner, rule, trigger, offset, days, first, last)
            continue
        low, high, by_zone = timing.shifted(days, -offset)
        if low > high:
            continue
        quiet = held_back.quiet(rule, low, offset)
        quieted: Sequence[Quieted] = ()
        if trigger.anchor is Anchor.MILESTONE_DUE:
            if quiet is None:
                milestones = list(view.milestones_due(low, high, by_zone, open_at=planner.now))
            else:
                due, quieted = view.quiet_milestones_due(low, high, by_zone, planner.now, quiet)
                milestones = list(due)
            if inhibited:
                held_back.prefetch(rule, {m.goal for m in milestones})
            owners = (planner.owner(view.goals[m.goal]) for m in milestones)
            planner.prefetch_related(rule, rule.action.to, owners)
            for milestone in milestones:
                yield from _of_milestone(planner, rule, milestone, (offset,))
            planner.skips.extend(held_back.quiet_skips(rule, "milestone", offset, quieted))
            continue
        if trigger.anchor is Anchor.GOAL_DEADLINE and quiet is not None:
            deadlines, quieted = view.quiet_goals_due(low, high, by_zone, quiet)
            goals = list(deadlines)
        elif trigger.anchor is Anchor.GOAL_DEADLINE:
            goals = list(view.goals_due(low, high, by_zone))
        else:
            goals = list(view.goals_created(first - offset, last - offset))
        if inhibited:
            held_back.prefetch(rule, {g.id for g in goals})
        planner.prefetch_related(rule, rule.action.to, (planner.owner(g) for g in goals))
        for goal in goals:
            yield from _of_goal(planner, rule, trigger, goal, (offset,))
        planner.skips.extend(held_back.quiet_skips(rule, "goal", offset, quieted))


def _business(
    planner: Planner,
    rule: Rule,
    trigger: AnchorTrigger,
    offset: BusinessDays,
    days: timing.Days,
    first: date,
    last: date,
) -> Iterator[Occasion]:
    """The occasions of one business-day offset whose day falls in [first, last]."""
    view = planner.view
    shortest, longest = business_span(offset.count)
    low = days[0] - timedelta(days=max(shortest, longest))
    high = days[1] - timedelta(days=min(shortest, longest))
    found: Iterator[Occasion]
    if trigger.anchor is Anchor.MILESTONE_DUE:
        milestones = list(view.milestones_due(low, high, None, open_at=planner.now))
        found = (o for m in milestones for o in _of_milestone(planner, rule, m, (offset,)))
    elif trigger.anchor is Anchor.GOAL_DEADLINE:
        goals = list(view.goals_due(low, high, None))
        found = (o for g in goals for o in _of_goal(planner, rule, trigger, g, (offset,)))
    else:
        goals = list(view.goals_created(low, high))
        found = (o for g in goals for o in _of_goal(planner, rule, trigger, g, (offset,)))
    for occasion in found:
        if first <= occasion.moment_day <= last:
            yield occasion


def _landing(rule: Rule, owner: Person, anchor: date, offset: timedelta) -> date:
    """The occasion's day: `offset` from the anchor, in calendar days or the owner's business days."""
    if isinstance(offset, BusinessDays):
        return add_business_days(anchor, offset.count, owner, rule.calendar)
    return anchor + offset


def _occasion_of(
    rule: Rule,
    subject: str,
    owner: Person,
    anchor: date,
    offset: timedelta,
    goal: Goal | None = None,
    milestone: Milestone | None = None,
) -> Occasion:
    day = _landing(rule, owner, anchor, offset)
    business = isinstance(offset, BusinessDays)
    return Occasion(rule, subject, owner, day, goal, milestone, offset_days=offset.days, business=business)


def _of_subject(planner: Planner, rule: Rule, trigger: AnchorTrigger, subject: str) -> Iterator[Occasion]:
    """Every occasion of `rule` for one subject ("goal:ID", "milestone:ID", "person:ID")."""
    view = planner.view
    kind, _, ident = subject.partition(":")
    if kind == "person" and trigger.anchor is Anchor.PERSON_HIRED and ident in view.people:
        yield from _of_person(rule, trigger, view.people[ident])
    elif kind == "goal" and trigger.anchor in (Anchor.GOAL_DEADLINE, Anchor.GOAL_CREATED):
        goal = view.goals.get(ident)
        if goal is not None and goal.status is GoalStatus.ACTIVE:
            yield from _of_goal(planner, rule, trigger, goal, trigger.offsets)
    elif kind == "milestone" and trigger.anchor is Anchor.MILESTONE_DUE:
        milestone = view.milestones.get(ident)
        goal = view.goals.get(milestone.goal) if milestone else None
        if milestone is not None and goal is not None and goal.status is GoalStatus.ACTIVE:
            yield from _of_milestone(planner, rule, milestone, trigger.offsets)


def _of_person(rule: Rule, trigger: AnchorTrigger, person: Person) -> Iterator[Occasion]:
    if person.hired_on is None:
        return
    for offset in trigger.offsets:
        yield _occasion_of(rule, f"person:{person.id}", person, person.hired_on, offset)


def _of_goal(
    planner: Planner, rule: Rule, trigger: AnchorTrigger, goal: Goal, offsets: Sequence[timedelta]
) -> Iterator[Occasion]:
    owner = planner.owner(goal)
    if owner is None:
        return
    base = goal.deadline if trigger.anchor is Anchor.GOAL_DEADLINE else None
    if trigger.anchor is Anchor.GOAL_DEADLINE and base is None:
        return
    anchor = base or goal.created_at.astimezone(owner.tz).date()
    for offset in offsets:
        yield _occasion_of(rule, f"goal:{goal.id}", owner, anchor, offset, goal=goal)


def _of_milestone(
    planner: Planner, rule: Rule, milestone: Milestone, offsets: Sequence[timedelta]
) -> Iterator[Occasion]:
    goal = planner.view.goals[milestone.goal]
    owner = planner.owner(goal)
    if owner is None or planner.done(milestone):
        return
    for offset in offsets:
        subject = f"milestone:{milestone.id}"
        yield _occasion_of(rule, subject, owner, milestone.due, offset, goal=goal, milestone=milestone)


KIND = AnchorKind()
