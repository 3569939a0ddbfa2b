"""Days on which an RRULE falls, fast for the common cadences.

dateutil walks a recurrence from its start each time, about a millisecond per call; a cadence
anchored per person (hire anniversaries, every second week from a goal's creation) asks once per
person and tick. Rules made only of FREQ and INTERVAL are plain calendar arithmetic, done here
directly; everything else goes to dateutil. A property test holds the two to the same answers.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.rrule import rrulestr

_SIMPLE = frozenset({"FREQ", "INTERVAL", "WKST"})


@functools.lru_cache(maxsize=1024)
def _simple(rrule: str) -> tuple[str, int] | None:
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    if not set(parts) <= _SIMPLE:
        return None
    return parts["FREQ"], int(parts.get("INTERVAL", "1"))


@functools.lru_cache(maxsize=65536)
def _parsed(rrule: str, starts: date) -> Any:
    return rrulestr(rrule, dtstart=datetime.combine(starts, time()))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _arithmetic(freq: str, interval: int, starts: date, first: date, last: date) -> tuple[date, ...] | None:
    begin = max(first, starts)
    if begin > last:
        return ()
    if freq in ("DAILY", "WEEKLY"):
        step = interval * (7 if freq == "WEEKLY" else 1)
        k = _ceil_div((begin - starts).days, step)
        found = []
        day = starts + timedelta(days=k * step)
        while day <= last:
            found.append(day)
            day += timedelta(days=step)
        return tuple(found)
    if freq == "YEARLY" and not (starts.month == 2 and starts.day == 29):
        years = range(begin.year, last.year + 1)
        days = (date(y, starts.month, starts.day) for y in years if (y - starts.year) % interval == 0)
        return tuple(d for d in days if begin <= d <= last)
    if freq == "MONTHLY" and starts.day <= 28:
        found = []
        index = (begin.year * 12 + begin.month - 1) - (starts.year * 12 + starts.month - 1)
        index = _ceil_div(index, interval) * interval if index > 0 else 0
        while True:
            months = starts.year * 12 + starts.month - 1 + index
            day = date(months // 12, months % 12 + 1, starts.day)
            if day > last:
                return tuple(found)
            if day >= begin:
                found.append(day)
            index += interval
    return None


def dateutil_days(rrule: str, starts: date, first: date, last: date) -> tuple[date, ...]:
    rule = _parsed(rrule, starts)
    begin = datetime.combine(max(first, starts), time())
    end = datetime.combine(last, time())
    return tuple(d.date() for d in rule.between(begin, end, inc=True))


@functools.lru_cache(maxsize=65536)
def recurrence_days(rrule: str, starts: date, first: date, last: date) -> tuple[date, ...]:
    """The days in [first, last] on which `rrule` (counted from `starts`) falls."""
    simple = _simple(rrule)
    if simple is not None:
        found = _arithmetic(simple[0], simple[1], starts, first, last)
        if found is not None:
            return found
    return dateutil_days(rrule, starts, first, last)
