"""Placing a meeting in its attendees' calendars: the slot finder. Pure.

A meeting occurrence has an intended start (the rule's time on the owner's clock), a duration
and attendees. `find_slot` chooses its start on a grid (`step`, counted from the intended start)
no further than `within` either side of it:

1. A start that fits: inside every attendee's working hours on one of their working days, off
   their public holidays and paused periods, outside the rule's quiet hours, overlapping none of
   their busy intervals (other meetings, their own calendars), and not before `earliest` (the
   notice an invite needs). The fitting start closest to the intended one wins; of two equally
   close, the earlier.
2. Else, under `otherwise: least-bad`: of the starts that are never at night (22:00-07:00 local)
   for anyone, on a working day (not a public holiday) of everyone, overlapping no busy interval
   and not before `earliest`, the one with the fewest minutes outside working hours summed over
   the attendees (how far each one's working day would have to stretch to hold the meeting),
   then the least stretch for any one of them (so it is shared), then the fewest minutes inside
   pauses, then the closest to the intended start (as in 1).
3. Else no start: the caller records a skip with cause `no-slot`.

Every choice depends on the inputs only, never on their order (busy intervals are sets), so the
same occurrence is placed the same way in any tick, shard or process.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

from strides.domain.model import Person
from strides.domain.schema import Calendar, Otherwise, Slot
from strides.rules.calendar import is_business_day, local_moment
from strides.rules.intents import Intent, Meeting

Span = tuple[datetime, datetime]

_MINUTE = timedelta(minutes=1)
# Night for everyone: a least-bad slot never touches these local hours.
NIGHT = (time(22, 0), time(7, 0))


@dataclass(frozen=True)
class Booked:
    """Time a person is not free: a meeting strides sent (its `uid`), busy time known from their
    own calendar (no uid), or a pause of their mail (`paused`)."""

    person: str
    start: datetime
    end: datetime
    uid: str | None = None
    paused: bool = False


class Bookings(Protocol):
    """Where the planner learns what people are already booked for (the store, calendars)."""

    def booked(self, people: Collection[str], low: datetime, high: datetime) -> Iterable[Booked]:
        """Everything of these people that overlaps [low, high), in any order."""
        ...


class NoBookings:
    """Nobody is booked for anything: an organisation in memory, before any tick."""

    def booked(self, people: Collection[str], low: datetime, high: datetime) -> Iterable[Booked]:
        return ()


class PlannedBookings:
    """The meetings of intents planned before, as bookings: what a preview's or a rule test's
    ticks have planned stands in for the store's meetings (the last planned of each UID)."""

    def __init__(self, intents: Iterable[Intent]) -> None:
        latest: dict[str, Meeting] = {}
        for intent in intents:
            if intent.meeting is not None and intent.meeting.method == "REQUEST":
                latest[intent.meeting.uid] = intent.meeting
        self.meetings = list(latest.values())

    def booked(self, people: Collection[str], low: datetime, high: datetime) -> Iterable[Booked]:
        for m in self.meetings:
            if m.start < high and low < m.end:
                yield from (Booked(a, m.start, m.end, m.uid) for a in m.attendees if a in people)


@dataclass(frozen=True)
class Attendee:
    """One person's constraints: their working hours, days, holidays (by the rule's calendar),
    paused periods and busy intervals, as half-open [start, end) spans of aware datetimes."""

    person: Person
    busy: tuple[Span, ...] = ()
    paused: tuple[Span, ...] = ()
    # Of `busy`, what a meeting already placed must still keep clear of (busy times from their
    # own calendar); other strides meetings do not move it: new ones go around it.
    firm: tuple[Span, ...] = ()


@dataclass(frozen=True)
class Placement:
    """Where a meeting goes: `start` (None: no slot), and why it is not at the intended time."""

    intended: datetime
    start: datetime | None
    # What was wrong with the intended start ("busy: mentor-1", "holiday: ada"...); empty if it fit.
    moved: tuple[str, ...] = ()
    # No start fitted everyone: this is the least-bad one.
    least_bad: bool = False

    @property
    def cause(self) -> str | None:
        """A skip's cause when there is no start: `min-notice` if only notice stood in the way."""
        if self.start is not None:
            return None
        return "min-notice" if self.moved == ("min notice",) else "no-slot"


@dataclass
class _Frame:
    """The search's bounds and, per attendee, their spans in UTC over the range."""

    low: datetime
    high: datetime
    duration: timedelta
    working: list[list[Span]] = field(default_factory=list)
    # Per attendee, their working days in range less public holidays, as [start, end) in UTC.
    days: list[list[Span]] = field(default_factory=list)
    night: list[list[Span]] = field(default_factory=list)
    blocked: list[list[Span]] = field(default_factory=list)
    paused: list[list[Span]] = field(default_factory=list)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _local_span(day: date, start: time, end: time, person: Person) -> Span:
    """`start` to `end` on `day` in `person`'s zone; an end before the start is on the next day."""
    tz = person.tz
    until = day + timedelta(days=1) if end <= start else day
    return _utc(local_moment(day, start, tz)), _utc(local_moment(until, end, tz))


def _days(frame: _Frame, person: Person) -> Iterable[date]:
    day = frame.low.astimezone(person.tz).date() - timedelta(days=1)
    last = frame.high.astimezone(person.tz).date() + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def _subtract(spans: Sequence[Span], cuts: Iterable[Span]) -> list[Span]:
    """`spans` less every one of `cuts`."""
    result = list(spans)
    for c0, c1 in cuts:
        kept: list[Span] = []
        for s0, s1 in result:
            if c1 <= s0 or s1 <= c0:
                kept.append((s0, s1))
                continue
            if s0 < c0:
                kept.append((s0, c0))
            if c1 < s1:
                kept.append((c1, s1))
        result = kept
    return result


def _intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    return [(max(a0, b0), min(a1, b1)) for a0, a1 in a for b0, b1 in b if max(a0, b0) < min(a1, b1)]


def _overlap(start: datetime, end: datetime, spans: Iterable[Span]) -> timedelta:
    return sum((min(end, s1) - max(start, s0) for s0, s1 in spans if s0 < end and start < s1), timedelta())


def _frame(
    intended: datetime, duration: timedelta, attendees: Sequence[Attendee], calendar: Calendar
) -> _Frame:
    within = calendar.slot.within
    frame = _Frame(_utc(intended) - within, _utc(intended) + within + duration, duration)
    quiet = calendar.quiet_hours
    for attendee in attendees:
        person, hours = attendee.person, attendee.person.working_hours
        working: list[Span] = []
        days: list[Span] = []
        night: list[Span] = []
        quiet_spans: list[Span] = []
        for day in _days(frame, person):
            night.append(_local_span(day, *NIGHT, person))
            if quiet is not None:
                quiet_spans.append(_local_span(day, quiet.start, quiet.end, person))
            if is_business_day(day, person, calendar):
                working.append(_local_span(day, hours.start, hours.end, person))
                days.append(_local_span(day, time(0), time(0), person))
        frame.days.append(days)
        working = _subtract(working, [*quiet_spans, *attendee.paused])
        frame.working.append(working)
        frame.night.append(night)
        frame.blocked.append([(_utc(a), _utc(b)) for a, b in attendee.busy])
        frame.paused.append([(_utc(a), _utc(b)) for a, b in attendee.paused])
    return frame


class _Grid:
    """Candidate starts `intended + k * step`, ranked by closeness to the intended start: first
    the nearest day (on the intended start's own clock, earlier first), then the nearest time to
    the intended time of day on that day, then the earlier."""

    def __init__(self, intended: datetime, step: timedelta) -> None:
        # Steps are counted in UTC: adding to a zone's wall clock would skip or repeat an hour
        # where its clocks change.
        self.intended, self.step = intended.astimezone(UTC), step
        self.tz = intended.tzinfo
        self.day = intended.date()
        self.at = intended.timetz().replace(tzinfo=None)

    def start(self, k: int) -> datetime:
        return self.intended + k * self.step

    def rank(self, k: int) -> tuple[int, int, timedelta, int]:
        start = self.start(k)
        local = start.astimezone(self.tz)
        days = (local.date() - self.day).days
        target = local_moment(local.date(), self.at, self.tz)
        return abs(days), days, abs(start - target), k

    def best_in(self, low: datetime, high: datetime) -> int | None:
        """The best-ranked k whose start lies in [low, high]."""
        first = math.ceil((low - self.intended) / self.step)
        last = math.floor((high - self.intended) / self.step)
        if first > last:
            return None
        best: int | None = None
        day = low.astimezone(self.tz).date()
        while True:
            # One piece per local day: the target time of that day, and the grid points around it.
            midnight = local_moment(day + timedelta(days=1), time(0), self.tz)
            target = local_moment(day, self.at, self.tz)
            near = math.floor((target - self.intended) / self.step)
            lo = max(first, math.ceil((local_moment(day, time(0), self.tz) - self.intended) / self.step))
            hi = min(last, math.ceil((midnight - self.intended) / self.step) - 1)
            for k in {min(max(near, lo), hi), min(max(near + 1, lo), hi)}:
                if lo <= k <= hi and (best is None or self.rank(k) < self.rank(best)):
                    best = k
            if midnight > high:
                return best
            day += timedelta(days=1)


def _free(frame: _Frame) -> list[Span]:
    """Where everyone is in working hours and free, over the range."""
    free: list[Span] = [(frame.low, frame.high)]
    for working, blocked in zip(frame.working, frame.blocked, strict=True):
        free = _intersect(free, _subtract(working, blocked))
        if not free:
            return []
    return free


def _fitting(frame: _Frame, grid: _Grid, earliest: datetime) -> int | None:
    """The best-ranked fitting start."""
    free = _free(frame)
    best: int | None = None
    for a, b in free:
        k = grid.best_in(max(a, frame.low, earliest), b - frame.duration)
        if k is not None and (best is None or grid.rank(k) < grid.rank(best)):
            best = k
    return best


def _stretch(start: int, end: int, working: Sequence[tuple[int, int]], starts: Sequence[int]) -> int:
    """How many minutes someone's working hours would have to stretch to hold [start, end) (in
    minutes from the intended start): 0 inside them. (`starts`: the spans' starts, in order.)"""
    if not working:
        return 30 * 24 * 60
    at = bisect.bisect_right(starts, start)
    return min(max(0, w0 - start) + max(0, end - w1) for w0, w1 in working[max(0, at - 2) : at + 2])


def _minutes(spans: Iterable[Span], origin: datetime) -> list[tuple[int, int]]:
    return sorted((int((a - origin) // _MINUTE), int((b - origin) // _MINUTE)) for a, b in spans)


def _allowed(frame: _Frame) -> list[Span]:
    """Where a least-bad start may lie: on everyone's working day, off their nights and bookings."""
    allowed: list[Span] = [(frame.low, frame.high)]
    for days, night, blocked in zip(frame.days, frame.night, frame.blocked, strict=True):
        allowed = _intersect(allowed, _subtract(days, [*night, *blocked]))
        if not allowed:
            return []
    return allowed


def _least_bad(frame: _Frame, grid: _Grid, earliest: datetime) -> int | None:
    """The least-bad start (the module's order), if any is not at night, busy or a day off."""
    best: tuple[int, int, int, tuple[int, int, timedelta, int]] | None = None
    step, intended = grid.step, grid.intended
    # In whole minutes from the intended start: integers are much cheaper than datetimes here.
    origin, length, every = _utc(intended), int(frame.duration // _MINUTE), int(step // _MINUTE)
    working = [_minutes(spans, origin) for spans in frame.working]
    starts = [[w0 for w0, _ in spans] for spans in working]
    pauses = [_minutes(spans, origin) for spans in frame.paused]
    for a, b in _allowed(frame):
        first = math.ceil((max(a, earliest) - intended) / step)
        last = math.floor((b - frame.duration - intended) / step)
        for k in range(first, last + 1):
            start = k * every
            end = start + length
            total = most = paused = 0
            for spans, firsts, breaks in zip(working, starts, pauses, strict=True):
                stretch = _stretch(start, end, spans, firsts)
                total, most = total + stretch, max(most, stretch)
                paused += sum(min(end, p1) - max(start, p0) for p0, p1 in breaks if p0 < end and start < p1)
            if best is not None and (total, most, paused) > best[:3]:
                continue
            score = (total, most, paused, grid.rank(k))
            if best is None or score < best:
                best = score
    return None if best is None else best[3][3]


def _why(
    frame: _Frame, attendees: Sequence[Attendee], calendar: Calendar, intended: datetime, earliest: datetime
) -> list[str]:
    """What is wrong with the intended start, attendee by attendee."""
    start, end = intended, intended + frame.duration
    found: list[str] = []
    if start < earliest:
        found.append("min notice")
    for attendee, working, blocked, pauses in zip(
        attendees, frame.working, frame.blocked, frame.paused, strict=True
    ):
        person = attendee.person
        if _overlap(start, end, blocked):
            found.append(f"busy: {person.id}")
        elif _overlap(start, end, pauses):
            found.append(f"paused: {person.id}")
        elif _overlap(start, end, working) < frame.duration:
            day = start.astimezone(person.tz).date()
            if day.isoweekday() not in person.working_hours.days:
                found.append(f"day off: {person.id}")
            elif not is_business_day(day, person, calendar):
                found.append(f"holiday: {person.id}")
            else:
                found.append(f"outside working hours: {person.id}")
    return found


def _fits_as_intended(
    start: datetime,
    duration: timedelta,
    attendees: Sequence[Attendee],
    calendar: Calendar,
    earliest: datetime,
) -> bool:
    """Does the intended start fit everyone (the same test as the whole range's, for one start)?"""
    if start < earliest or calendar.quiet_hours is not None:
        return False
    end = start + duration
    for attendee in attendees:
        person = attendee.person
        day = start.astimezone(person.tz).date()
        if not is_business_day(day, person, calendar):
            return False
        hours = person.working_hours
        low, high = _local_span(day, hours.start, hours.end, person)
        if start < low or high < end:
            return False
        if _overlap(start, end, attendee.busy) or _overlap(start, end, attendee.paused):
            return False
    return True


def _days_away(moment: datetime, intended: datetime) -> int:
    return abs((moment.astimezone(intended.tzinfo).date() - intended.date()).days)


def _keeps(frame: _Frame, attendees: Sequence[Attendee], keep: datetime, earliest: datetime) -> bool:
    """Does `keep` still fit (in range, in everyone's hours, clear of their firm busy times)?"""
    start = _utc(keep)
    end = start + frame.duration
    if start < max(frame.low, earliest) or end > frame.high:
        return False
    for attendee, working in zip(attendees, frame.working, strict=True):
        if _overlap(start, end, working) < frame.duration or _overlap(start, end, attendee.firm):
            return False
    return True


def find_slot(
    intended: datetime,
    duration: timedelta,
    attendees: Sequence[Attendee],
    calendar: Calendar,
    earliest: datetime | None = None,
    keep: datetime | None = None,
) -> Placement:
    """Where a meeting intended at `intended` goes (the module's order); never before `earliest`.

    `keep`: where the meeting already is (sent before). It stays there while that is in everyone's
    working hours, clear of their firm busy times and on as near a day as the best start now, so
    meetings do not swap places when they are placed again in another order, and another strides
    meeting never bumps one already sent; a rule time moved to another day moves it.
    """
    slot: Slot = calendar.slot
    intended_utc = _utc(intended)
    floor = _utc(earliest) if earliest is not None else intended_utc - slot.within - timedelta(days=1)
    if (keep is None or _utc(keep) == intended_utc) and _fits_as_intended(
        intended_utc, duration, attendees, calendar, floor
    ):
        return Placement(intended, intended)  # most meetings: checked without the whole range
    frame = _frame(intended_utc, duration, attendees, calendar)
    grid = _Grid(intended, slot.step)
    k = _fitting(frame, grid, floor)
    if (
        keep is not None
        and k is not None
        and _days_away(keep, intended) <= _days_away(grid.start(k), intended)
        and _keeps(frame, attendees, keep, floor)
    ):
        moved = (
            () if _utc(keep) == intended_utc else tuple(_why(frame, attendees, calendar, intended_utc, floor))
        )
        return Placement(intended, keep.astimezone(intended.tzinfo), moved)
    if k == 0:
        return Placement(intended, intended)
    why = tuple(_why(frame, attendees, calendar, intended_utc, floor))
    least_bad = False
    if k is None and slot.otherwise is Otherwise.LEAST_BAD:
        k, least_bad = _least_bad(frame, grid, floor), True
    if k is None:
        return Placement(intended, None, why)
    return Placement(intended, grid.start(k).astimezone(intended.tzinfo), why, least_bad)
