"""Time awareness: business days, public holidays, working hours, quiet hours, meeting overlap.

Public holidays come from the `holidays` package, built once per (country, subdivision, year).
Everything here takes the moment or day it reasons about as an argument: no clock is read.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from strides.domain.model import Person, zone
from strides.domain.schema import Calendar, QuietHours, Shift

_UTC = ZoneInfo("UTC")
_MAX_SHIFT = 31


@functools.lru_cache(maxsize=65536)
def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`at` on `day` on the wall clock of `tz`; a time skipped by a DST jump moves forward."""
    aware = datetime.combine(day, at).replace(tzinfo=tz)
    # Round-trip through UTC: a wall time inside a spring-forward gap does not exist and
    # comes back shifted by the gap, which is what a person's calendar would do too.
    return aware.astimezone(_UTC).astimezone(tz)


def local_time(moment: datetime, timezone: str) -> str:
    """A moment as strides' messages word it for someone in `timezone`:
    "Monday 04 January 2027, 10:00 (Europe/Berlin)"."""
    return f"{moment.astimezone(zone(timezone)):%A %d %B %Y, %H:%M} ({timezone})"


@functools.lru_cache(maxsize=4096)
def public_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    """The public holidays of one country (and subdivision) in one year, built once."""
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year).keys())


def is_business_day(day: date, person: Person, calendar: Calendar) -> bool:
    if day.isoweekday() not in person.working_hours.days:
        return False
    if not calendar.holidays:
        return True
    country = calendar.country or person.country
    subdivision = None if calendar.country else person.subdivision
    return day not in public_holidays(country, subdivision, day.year)


def shift_day(day: date, person: Person, calendar: Calendar) -> date:
    """Move `day` to the next or previous business day of `person` if the rule asks for it."""
    if calendar.business_days is Shift.NONE:
        return day
    step = timedelta(days=1 if calendar.business_days is Shift.NEXT else -1)
    for _ in range(_MAX_SHIFT):
        if is_business_day(day, person, calendar):
            return day
        day += step
    return day


def add_business_days(day: date, count: int, person: Person, calendar: Calendar) -> date:
    """The day `count` business days of `person` after `day` (before, when negative), counted on
    their working days less their public holidays (the rule's `calendar` says which country's,
    and whether to count them at all). Day 0 is `day` itself, business day or not."""
    step = timedelta(days=1 if count > 0 else -1)
    left = abs(count)
    # A person with no working days at all would never get there: count calendar days then.
    if not person.working_hours.days:
        return day + timedelta(days=count)
    while left:
        day += step
        if is_business_day(day, person, calendar):
            left -= 1
    return day


def business_span(count: int) -> tuple[int, int]:
    """The fewest and most calendar days `count` business days can span (a working week of at
    least one day, and at most a fortnight of holidays in a row), signed like `count`."""
    low, high = abs(count), abs(count) * 7 + 14
    return (low, high) if count >= 0 else (-high, -low)


def into_working_hours(moment: datetime, person: Person, calendar: Calendar) -> datetime:
    """The first moment at or after `moment` inside the person's working hours on a business day."""
    hours, tz = person.working_hours, person.tz
    local = moment.astimezone(tz)
    day = local.date()
    if local.time() >= hours.end:
        day += timedelta(days=1)
    elif local.time() >= hours.start and is_business_day(day, person, calendar):
        return moment
    for _ in range(_MAX_SHIFT):
        if is_business_day(day, person, calendar):
            start = local_moment(day, hours.start, tz)
            return max(start, moment)
        day += timedelta(days=1)
    return moment


def out_of_quiet_hours(moment: datetime, tz: ZoneInfo, quiet: QuietHours) -> datetime:
    """`moment`, or the end of the quiet hours it falls in (local to `tz`)."""
    local = moment.astimezone(tz)
    now, day = local.time(), local.date()
    if quiet.start <= quiet.end:
        if quiet.start <= now < quiet.end:
            return local_moment(day, quiet.end, tz)
        return moment
    if now >= quiet.start:
        return local_moment(day + timedelta(days=1), quiet.end, tz)
    if now < quiet.end:
        return local_moment(day, quiet.end, tz)
    return moment


def _working_spans(person: Person, first: date, last: date) -> list[tuple[datetime, datetime]]:
    spans = []
    day = first
    while day <= last:
        if day.isoweekday() in person.working_hours.days:
            start = local_moment(day, person.working_hours.start, person.tz)
            end = local_moment(day, person.working_hours.end, person.tz)
            spans.append((start.astimezone(_UTC), end.astimezone(_UTC)))
        day += timedelta(days=1)
    return spans


def meeting_slot(
    day: date, at: time, duration: timedelta, owner: Person, others: Sequence[Person]
) -> datetime | None:
    """A start on the owner's `day` inside everyone's working hours, as near `at` as possible.

    Prefers the first fitting start at or after `at`, then the latest fitting one before it;
    None when the working hours of the people do not overlap long enough that day.
    """
    tz = owner.tz
    day_start = local_moment(day, time(0), tz).astimezone(_UTC)
    day_end = local_moment(day + timedelta(days=1), time(0), tz).astimezone(_UTC)
    spans = [(day_start, day_end)]
    for person in (owner, *others):
        theirs = _working_spans(person, day - timedelta(days=1), day + timedelta(days=1))
        spans = [
            (max(a, c), min(b, d)) for a, b in spans for c, d in theirs if max(a, c) + duration <= min(b, d)
        ]
    if not spans:
        return None
    wanted = local_moment(day, at, tz).astimezone(_UTC)
    after = [max(a, wanted) for a, b in spans if max(a, wanted) + duration <= b]
    if after:
        return min(after).astimezone(tz)
    before = [b - duration for a, b in spans if b - duration <= wanted]
    return max(before).astimezone(tz)
