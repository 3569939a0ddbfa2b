"""What placement sees people booked for: the store's meetings and pauses, and the busy times of
their own calendars (published ICS, CalDAV), each calendar read once per tick."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from strides.domain.model import Person
from strides.rules.placement import Booked, Bookings

if TYPE_CHECKING:
    from strides.engine.busy import BusyCache


class Calendars:
    """One tick's reads of people's calendars, shared by the shards it plans in this process
    (a forked part reads its own). Each read may take `timeout` seconds (`calendar_timeout`)."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._cache: BusyCache | None = None

    def cache(self) -> BusyCache:
        if self._cache is None:
            # Imported here: the CalDAV and HTTP clients cost most of a second to load, which an
            # organisation without calendars never pays.
            from strides.engine.busy import BusyCache

            self._cache = BusyCache(timeout=self.timeout)
        return self._cache


class CalendarBookings:
    """`Bookings` from `store` plus, for each asked person who has a calendar, its busy
    intervals as firm bookings (no uid). A calendar that cannot be read adds nothing and one
    warning (`warnings`: "person ada: calendar ics https://…: HTTP 404 …").

    Calendars are read for at least `span` (the tick's reach), so that the questions of its
    shards, each for the meetings it places, are answered from one read of each calendar."""

    def __init__(
        self,
        store: Bookings,
        people: Mapping[str, Person],
        calendars: Calendars,
        span: tuple[datetime, datetime] | None = None,
    ) -> None:
        self.store = store
        self.people = people
        self.calendars = calendars
        self.span = span
        self.warnings: list[str] = []

    def booked(self, people: Collection[str], low: datetime, high: datetime) -> Iterator[Booked]:
        yield from self.store.booked(people, low, high)
        with_calendar: dict[str, Person] = {}
        for pid in people:
            person = self.people.get(pid)
            if person is not None and person.calendar is not None:
                with_calendar[pid] = person
        if not with_calendar:
            return
        first, last = (min(low, self.span[0]), max(high, self.span[1])) if self.span else (low, high)
        found = self.calendars.cache().busy(with_calendar, with_calendar, first, last)
        self.warnings.extend(str(w) for w in found.warnings if str(w) not in self.warnings)
        for pid in sorted(found.busy):
            for start, end in found.busy[pid]:
                if start < high and low < end:
                    yield Booked(pid, start, end)
