"""Window arithmetic: how far a rule's calendar moves a moment, and which days a moment can fall on.

The planner narrows what it reads by these bounds; each one may be wider than needed, never
narrower, because every occasion is then checked exactly against the window.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from strides.domain.schema import Kind, Role, Rule, Shift
from strides.rules.calendar import local_moment

# An invite's send time is its meeting's start less the lead on the wall clock (aware datetime
# arithmetic), so across a daylight-saving change it lies up to that change (at most two hours)
# away from the instant a lead before the meeting: the bounds that narrow by it are widened so.
WALL_LEAD = timedelta(hours=3)
# How much earlier than an occasion's day a milestone must be due, past its escalation's first
# step, for that escalation to have certainly fired before the occasion on any clock: more than
# two days apart on the wall, and no timezone moves its offset by more than a day at once.
QUIET_MARGIN = timedelta(days=3)
# Recipients elsewhere see the same wall time up to a day apart (UTC-12 to UTC+14).
OTHER_CLOCKS = timedelta(hours=27)

# Per owner timezone, the days an occasion may fall on; None: every timezone's days together.
ZoneSpans = dict[str, tuple[date, date]]
Days = tuple[date, date, ZoneSpans | None]


def slack(rule: Rule) -> timedelta:
    """How far business-day shifts and working hours can move a moment (long weekends, holidays)."""
    moves = rule.calendar.business_days is not Shift.NONE or rule.calendar.working_hours
    return timedelta(days=8) if moves else timedelta(0)


def moves(rule: Rule) -> tuple[timedelta, timedelta]:
    """How far business-day shifts, working hours and quiet hours move a moment earlier and later."""
    earlier = slack(rule)
    later = earlier
    if rule.calendar.working_hours:
        later += timedelta(days=8)
    if rule.calendar.quiet_hours is not None:
        later += timedelta(days=1)
    return earlier, later


def lead(rule: Rule) -> timedelta:
    """How long before its meeting an invite is sent; nothing for other messages."""
    return rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)


def owner_clock(rule: Rule) -> bool:
    """Do all of the rule's moments fall on its owner's wall clock (so one per timezone)?"""
    if rule.trigger.zone is not None:
        return False
    if rule.action.kind is Kind.INVITE:
        return rule.calendar.overlap is None
    return all(t == Role.OWNER.value or "@" in t for t in rule.action.to)


@functools.lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def days_at(tz: ZoneInfo, at: time, low: datetime, high: datetime) -> tuple[date, date]:
    """The days [first, last] whose `at` on the wall clock of `tz` falls in [low, high)."""
    first = low.astimezone(tz).date() - timedelta(days=1)
    while local_moment(first, at, tz) < low:
        first += timedelta(days=1)
    last = high.astimezone(tz).date() + timedelta(days=1)
    while local_moment(last, at, tz) >= high:
        last -= timedelta(days=1)
    return first, last


def wall_minutes(day: date, tz: ZoneInfo, low: datetime, high: datetime) -> tuple[int, int]:
    """The wall-clock minutes of `day` in `tz` whose moment may fall in [low, high), widened by
    two hours each way for daylight-saving jumps (a wall time they skip moves forward)."""
    start = local_moment(day, time(0), tz)
    end = local_moment(day + timedelta(days=1), time(0), tz)
    low, high = max(low, start), min(high, end)
    if low >= high:
        return 0, -1
    first = low.astimezone(tz)
    last = high.astimezone(tz)
    minutes = 0 if first.date() < day else first.hour * 60 + first.minute
    until = 24 * 60 if last.date() > day else last.hour * 60 + last.minute + 1
    return max(0, minutes - 120), min(24 * 60, until + 120)


def shifted(days: Days, by: timedelta) -> Days:
    """Occasion days moved to anchor days (an anchor is its occasion less the offset)."""
    first, last, by_zone = days
    if by_zone is None:
        return first + by, last + by, None
    return first + by, last + by, {z: (a + by, b + by) for z, (a, b) in by_zone.items()}
