"""Cadence triggers: an RFC 5545 recurrence at a local time, per person (counted from one day for
everyone, or from each person's hire date) or per goal (from its creation)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, time, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from strides.domain.model import Goal, Person
from strides.domain.schema import CadenceAnchor, CadenceTrigger, Kind, Rule, Shift
from strides.rules.calendar import local_moment
from strides.rules.planning import timing
from strides.rules.planning.kinds.base import TriggerKind
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import EVERYONE, NOBODY, Planner
from strides.rules.recurrence import recurrence_days


class CadenceKind(TriggerKind):
    def occasions(self, planner: Planner, rule: Rule, part: int | None = None) -> Iterator[Occasion]:
        trigger = cast(CadenceTrigger, rule.trigger)
        reach = self.reach(rule)
        if trigger.anchor is CadenceAnchor.GOAL_CREATED:
            for goal, owner in _active_goals(planner):
                starts = goal.created_at.astimezone(owner.tz).date()
                first, last = planner.local_days(owner.tz, reach)
                for day in recurrence_days(trigger.every, starts, first, last):
                    yield Occasion(rule, f"goal:{goal.id}", owner, day, goal=goal)
            return
        if trigger.anchor is CadenceAnchor.PERSON_HIRED:
            hired = list(_hired(planner, rule, trigger, reach))
            planner.prefetch_related(rule, rule.action.to, hired)
            for person in hired:
                assert person.hired_on is not None
                first, last = planner.local_days(timing.zone(trigger.timezone or person.timezone), reach)
                for day in recurrence_days(trigger.every, person.hired_on, first, last):
                    yield Occasion(rule, f"person:{person.id}", person, day)
            return
        # Computed once per timezone (the rule's phase), not per person: the people of a timezone
        # where the cadence cannot matter to this window are not wanted from the view.
        for zone in planner.view.zones():
            tz = timing.zone(trigger.timezone or zone)
            first, last = planner.local_days(tz, reach)
            for day in recurrence_days(trigger.every, trigger.starts, first, last):
                scope = _day_scope(planner, rule, trigger, day, tz)
                wanted: Sequence[Person] | None = None
                if scope == NOBODY:
                    wanted = ()
                elif scope != EVERYONE:
                    wanted = planner.reopened_people.get(zone, [])
                people = planner.view.people_in(zone, wanted)
                planner.prefetch_related(rule, rule.action.to, people)
                for person in people:
                    yield Occasion(rule, f"person:{person.id}", person, day)


def _active_goals(planner: Planner) -> Iterator[tuple[Goal, Person]]:
    for goal in planner.view.active_goals():
        owner = planner.view.people.get(goal.owner)
        if owner is not None:
            yield goal, owner


def _day_scope(planner: Planner, rule: Rule, trigger: CadenceTrigger, day: date, tz: ZoneInfo) -> int:
    """`Planner.scope` of the cadence's time on `day` in `tz`: exact on the owner's clock, else
    the day's whole span."""
    moment = local_moment(day, trigger.at, tz)
    if planner.facts(rule).owner_clock:
        return planner.scope(rule, moment, moment)
    if rule.action.kind is Kind.INVITE and trigger.timezone is None:
        # A working-hours overlap keeps the meeting on the owner's day.
        start, end = local_moment(day, time(0), tz), local_moment(day + timedelta(days=1), time(0), tz)
        return planner.scope(rule, start, end)
    return planner.scope(rule, moment - timing.OTHER_CLOCKS, moment + timing.OTHER_CLOCKS)


def _hired(
    planner: Planner, rule: Rule, trigger: CadenceTrigger, reach: tuple[timedelta, timedelta]
) -> Iterable[Person]:
    """People whose hire-date cadence may fall near the window (by anniversary when yearly).

    In the steady state an invite's anniversaries are looked up only where its send time can
    fall in the window; the reopened subjects' people are added whatever their anniversary.
    """
    if _simple_yearly(trigger.every) is None:
        return planner.view.people_hired()
    before, after = reach
    first = planner.window.start - before - timedelta(days=2)
    last = planner.window.end + after + timedelta(days=2)
    if planner.settled is not None and rule.action.kind is Kind.INVITE:
        slack = timing.slack(rule) + timedelta(days=2)
        first = max(first, planner.settled + rule.action.lead - slack)
        if rule.calendar.business_days is not Shift.PREVIOUS:
            # Only a shift to the previous business day moves a meeting before its anniversary:
            # otherwise an anniversary after the last meeting day this window can send for
            # cannot be sent now (two days' margin: local days and daylight saving).
            last = min(last, planner.window.end + rule.action.lead + timedelta(days=2))
    start, end = first.date(), last.date()
    days = [(d.month, d.day) for d in (start + timedelta(days=n) for n in range((end - start).days + 1))]
    found = {p.id: p for p in planner.view.hired_on_days(days)}
    if planner.settled is not None:
        for people in planner.reopened_people.values():
            found.update((p.id, p) for p in people if p.hired_on is not None)
    return [found[pid] for pid in sorted(found)]


@functools.lru_cache(maxsize=256)
def _simple_yearly(rrule: str) -> int | None:
    """The INTERVAL of a plain FREQ=YEARLY rule (anniversaries), else None."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    if parts.get("FREQ") != "YEARLY" or not set(parts) <= {"FREQ", "INTERVAL", "WKST"}:
        return None
    return int(parts.get("INTERVAL", "1"))


KIND = CadenceKind()
