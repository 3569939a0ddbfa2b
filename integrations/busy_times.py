"""Busy times in a calendar: events expanded, free-busy answers read, intervals merged.

A person's calendar is read for a range (`integrations/busy_ics.py`, `integrations/busy_caldav.py`);
what is busy in it becomes sorted, merged, UTC intervals inside that range. All-day and floating
events are placed in the person's own timezone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from urllib.parse import unquote, urlsplit

import recurring_ical_events
from icalendar import Calendar, Component

from strides.integrations import IntegrationError

Interval = tuple[datetime, datetime]
"""A busy time: its aware start and end (end after start), in UTC."""

# An all-day or floating event of another zone's day may reach into the range from outside it.
_MARGIN = timedelta(days=1)
# Free-busy types that mean the time is taken (RFC 5545 3.2.9); FREE is not.
_BUSY_TYPES = frozenset({"BUSY", "BUSY-TENTATIVE", "BUSY-UNAVAILABLE"})


class CalendarReadError(IntegrationError):
    """A person's calendar could not be read; `source` is redacted, `answer` is the server's."""

    def __init__(self, person_id: str, source: str, answer: str) -> None:
        super().__init__(f"person {person_id}: calendar {source}: {answer}")
        self.person_id = person_id
        self.source = source
        self.answer = answer


def merge(spans: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The spans clipped to [start, end), in UTC, sorted, overlapping or touching ones joined."""
    lower, upper = start.astimezone(UTC), end.astimezone(UTC)
    clipped = sorted((max(a.astimezone(UTC), lower), min(b.astimezone(UTC), upper)) for a, b in spans)
    merged: list[Interval] = []
    for a, b in clipped:
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _aware(value: date | datetime, zone: tzinfo) -> datetime:
    """A DTSTART or DTEND as an aware moment: a day starts at midnight in the person's zone, and
    a floating time is read there too."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _event_span(event: Component, zone: tzinfo) -> Interval:
    first = event.decoded("DTSTART")
    if "DTEND" in event:
        last = event.decoded("DTEND")
    elif "DURATION" in event:
        last = first + event.decoded("DURATION")
    elif isinstance(first, datetime):
        last = first  # a moment, not a span (RFC 5545 3.6.1): it takes no time
    else:
        last = first + timedelta(days=1)
    return _aware(first, zone), _aware(last, zone)


def _is_busy(event: Component) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    return str(event.get("STATUS", "CONFIRMED")).upper() != "CANCELLED"


def busy_in_calendar(
    calendars: Sequence[Calendar], start: datetime, end: datetime, zone: tzinfo
) -> list[Interval]:
    """The busy intervals of iCalendar data within [start, end): every occurrence of its events
    (RRULE, RDATE, EXDATE and moved occurrences by RECURRENCE-ID), less transparent and
    cancelled ones. Raises ValueError on a series that cannot be expanded."""
    spans: list[Interval] = []
    for calendar in calendars:
        try:
            occurrences = recurring_ical_events.of(calendar).between(start - _MARGIN, end + _MARGIN)
            spans.extend(_event_span(event, zone) for event in occurrences if _is_busy(event))
        except Exception as exc:  # the expansion's errors have no common root; a bad event is bad data
            raise ValueError(f"cannot expand its events: {type(exc).__name__}: {exc}") from exc
    return merge(spans, start, end)


def busy_in_freebusy(calendars: Sequence[Calendar], start: datetime, end: datetime) -> list[Interval]:
    """The busy periods of VFREEBUSY answers (FBTYPE BUSY, BUSY-TENTATIVE, BUSY-UNAVAILABLE;
    periods are in UTC, RFC 5545 3.8.2.6)."""
    spans: list[Interval] = []
    for calendar in calendars:
        for component in calendar.walk("VFREEBUSY"):
            found = component.get("FREEBUSY", [])
            for period in found if isinstance(found, list) else [found]:
                if str(period.params.get("FBTYPE", "BUSY")).upper() not in _BUSY_TYPES:
                    continue
                first, last = period.dt
                last = first + last if isinstance(last, timedelta) else last
                spans.append((_aware(first, UTC), _aware(last, UTC)))
    return merge(spans, start, end)


def parse_calendar(body: bytes | str) -> Calendar:
    """iCalendar text as one VCALENDAR; ValueError when it is not one."""
    calendar = Calendar.from_ical(body)
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise ValueError("not an iCalendar VCALENDAR")
    return calendar


# --- saying where without telling the secret ----------------------------------------------------


def redact_address(url: str, *, secret_path: bool) -> str:
    """A calendar address fit for a log: never a password; with `secret_path` (a published ICS
    address, whose path is its key) only the scheme and host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        user = f"{parts.username}@" if parts.username else ""
    except ValueError:
        return "(an address that cannot be read)"
    if secret_path:
        return f"{parts.scheme}://{host}{port}/… (address redacted)"
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def secrets_of(url: str, password: str | None = None) -> list[str]:
    """The parts of a source that must not show in a message: the password, and a published
    address's path, query and longer path segments (a server may echo any of them)."""
    found = [password] if password else []
    try:
        parts = urlsplit(url)
    except ValueError:
        return [*found, url]
    pieces = [parts.path, parts.query, *(s for s in parts.path.split("/") if len(s) >= 6)]
    if parts.password:
        pieces.append(parts.password)
    for piece in pieces:
        found.extend({piece, unquote(piece)} - {""})
    return sorted(found, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str], limit: int = 300) -> str:
    """`text` with every secret replaced by '…', on one line, at most `limit` characters."""
    for secret in secrets:
        if len(secret) >= 4:
            text = text.replace(secret, "…")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
