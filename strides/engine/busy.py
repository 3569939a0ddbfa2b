"""Busy times from people's own calendars for one tick: each read at most once, an unreadable
calendar a warning for its person, never a failed tick."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from strides.domain.model import Person
from strides.integrations.busy_caldav import read_caldav
from strides.integrations.busy_ics import read_ics
from strides.integrations.busy_times import CalendarReadError, Interval, merge, redact_address

# A calendar read for a range: its busy intervals, or why it could not be read.
Answer = list[Interval] | CalendarReadError


@dataclass(frozen=True)
class BusyTimes:
    """What people's calendars say for a range: busy intervals by person id (empty for a person
    without a calendar, or whose calendar could not be read) and one warning per unreadable one."""

    busy: Mapping[str, tuple[Interval, ...]]
    warnings: tuple[CalendarReadError, ...] = ()


def read_busy(
    person: Person, start: datetime, end: datetime, *, environ: Mapping[str, str], timeout: float = 5.0
) -> list[Interval]:
    """A person's busy intervals in [start, end) from their calendar (none without one)."""
    source = person.calendar
    if source is None:
        return []
    if source.ics is not None:
        return read_ics(source.ics, person.id, start, end, person.tz, timeout=timeout)
    assert source.caldav is not None  # a calendar is one or the other (CalendarSource)
    password = None
    if source.password_env is not None:
        password = environ.get(source.password_env)
        if not password:
            where = f"caldav {redact_address(source.caldav, secret_path=False)}"
            raise CalendarReadError(
                person.id, where, f"environment variable {source.password_env} is not set"
            )
    return read_caldav(
        source.caldav, source.username, password, person.id, start, end, person.tz, timeout=timeout
    )


@dataclass
class BusyCache:
    """A tick's reads of calendars, by person and range: a range inside one already read (or
    failed) is answered from it, so each calendar is read once for the whole tick when the first
    question asks for the widest range."""

    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    timeout: float = 5.0
    # Calendars read at once: reading is waiting on servers, each at most `timeout` seconds.
    workers: int = 8
    _read: dict[str, list[tuple[datetime, datetime, Answer]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def _read_one(self, person: Person, start: datetime, end: datetime) -> Answer:
        try:
            return read_busy(person, start, end, environ=self.environ, timeout=self.timeout)
        except CalendarReadError as error:
            return error

    def _known(self, person_id: str, start: datetime, end: datetime) -> Answer | None:
        for first, last, found in self._read.get(person_id, ()):
            if first <= start and end <= last:
                return found if isinstance(found, CalendarReadError) else merge(found, start, end)
        return None

    def busy(
        self, people: Mapping[str, Person], ids: Iterable[str], start: datetime, end: datetime
    ) -> BusyTimes:
        """Busy intervals in [start, end) of the people `ids` (unknown ids are left out), each
        calendar read at most once per range; a calendar that cannot be read is a warning."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("busy times are asked for aware datetimes")
        asked = sorted({pid for pid in ids if pid in people})
        found: dict[str, Answer | None] = {pid: self._known(pid, start, end) for pid in asked}
        missing = [people[pid] for pid in asked if found[pid] is None and people[pid].calendar is not None]
        if missing:
            with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(missing)))) as pool:
                answers = list(pool.map(lambda p: self._read_one(p, start, end), missing))
            for person, answer in zip(missing, answers, strict=True):
                self._read.setdefault(person.id, []).append((start, end, answer))
                found[person.id] = answer
        busy: dict[str, tuple[Interval, ...]] = {}
        warnings: list[CalendarReadError] = []
        for pid in asked:
            known = found[pid]
            if isinstance(known, CalendarReadError):
                warnings.append(known)
            busy[pid] = tuple(known) if isinstance(known, list) else ()
        return BusyTimes(busy, tuple(warnings))
