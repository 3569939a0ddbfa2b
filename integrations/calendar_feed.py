"""Calendars to subscribe to or import: a person's upcoming strides meetings (a webcal feed), and
the meetings a plan would make (`strides plan --ics`).

A feed is published, not a scheduling message (METHOD:PUBLISH, no ATTENDEE): clients show
it read-only and replace it wholesale on each refresh, so a meeting that is no longer
wanted simply disappears from it. Each event keeps the meeting's invite UID and SEQUENCE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vDuration

from strides.domain.model import Organisation
from strides.integrations.calendar_invite import PRODID, add_local
from strides.rules.intents import Intent

REFRESH = timedelta(hours=1)


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    summary: str
    description: str
    start: datetime
    end: datetime
    sequence: int
    changed: datetime  # when strides last changed the meeting: the event's DTSTAMP


def build_feed(name: str, events: Sequence[FeedEvent], *, location: str | None = None) -> bytes:
    """The feed's bytes; the same events always give the same bytes (so ETags are stable)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    # RFC 7986 and the older Microsoft hint: how often clients should fetch again.
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    for item in sorted(events, key=lambda e: (e.start, e.uid)):
        if not isinstance(item.start.tzinfo, ZoneInfo):
            raise ValueError(f"feed event {item.uid}: times must carry an IANA zone")
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.changed.astimezone(UTC))
        add_local(event, "dtstart", item.start)
        add_local(event, "dtend", item.end)
        event.add("summary", item.summary)
        if item.description:
            event.add("description", item.description)
        if location:
            event.add("location", location)
        event.add("sequence", item.sequence)
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    if events:
        calendar.add_missing_timezones(
            first_date=(min(e.start for e in events) - timedelta(days=31)).date(),
            last_date=(max(e.end for e in events) + timedelta(days=31)).date(),
        )
    data: bytes = calendar.to_ical()
    return data


def planned_meetings_ics(intents: Sequence[Intent], org: Organisation, stamp: datetime) -> bytes:
    """An .ics of the planned meetings (one VEVENT per meeting, every attendee)."""
    calendar = Calendar()
    calendar.add("prodid", "-//strides//plan//EN")
    calendar.add("version", "2.0")
    seen: set[str] = set()
    for intent in intents:
        meeting = intent.meeting
        if meeting is None or meeting.uid in seen:
            continue
        seen.add(meeting.uid)
        event = Event()
        event.add("uid", meeting.uid)
        event.add("dtstamp", stamp.astimezone(UTC))
        event.add("dtstart", meeting.start)
        event.add("dtend", meeting.end)
        event.add("summary", intent.title)
        if intent.body:
            event.add("description", intent.body)
        for attendee in meeting.attendees:
            person = org.people.get(attendee)
            address = vCalAddress(f"mailto:{person.email if person else attendee}")
            if person:
                address.params["CN"] = person.name
            event.add("attendee", address, encode=False)
        calendar.add_component(event)
    if seen:
        first = min(i.meeting.start for i in intents if i.meeting)
        last = max(i.meeting.end for i in intents if i.meeting)
        calendar.add_missing_timezones(first_date=first.date(), last_date=last.date())
    data: bytes = calendar.to_ical()
    return data
