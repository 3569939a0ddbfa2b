"""An outbox as its recipients' calendars read it: double-bookings, nights, days off, holidays.

Each person's calendar holds, per meeting UID, the last message they received about it (the
highest SEQUENCE; a CANCEL removes it). Over those calendars `audit` counts what a calendar user
would notice. Used by the placement tests and to audit `strides demo`:

    .venv/bin/python -m tools.calendar_audit .strides/demo/outbox examples/org
"""

from __future__ import annotations

import email
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path

from icalendar import Calendar

from strides.domain.model import Organisation, Person
from strides.integrations.org_files import load_organisation
from strides.rules.calendar import public_holidays


@dataclass(frozen=True)
class Received:
    """One invite message as its recipient's calendar takes it."""

    uid: str
    sequence: int
    method: str
    start: datetime
    end: datetime
    sent: datetime
    title: str
    file: str


@dataclass
class Audit:
    """What the calendars show: each list names the meetings (or pairs) concerned."""

    meetings: int = 0
    double_booked: list[str] = field(default_factory=list)
    night: list[str] = field(default_factory=list)
    day_off: list[str] = field(default_factory=list)
    holiday: list[str] = field(default_factory=list)
    outside_hours: list[str] = field(default_factory=list)
    # Of those, meetings whose attendees' working hours did overlap within three days of it.
    outside_although_overlap: list[str] = field(default_factory=list)
    sent_after_start: list[str] = field(default_factory=list)
    short_notice: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "meetings": self.meetings,
            "double-booked pairs": len(self.double_booked),
            "night (22:00-07:00) for someone": len(self.night),
            "on someone's day off": len(self.day_off),
            "on someone's public holiday": len(self.holiday),
            "outside someone's working hours": len(self.outside_hours),
            "  ... although their hours overlapped that week": len(self.outside_although_overlap),
            "invites sent at or after the start": len(self.sent_after_start),
            "first invites sent less than 12 hours ahead": len(self.short_notice),
        }


def _read(path: Path) -> Received | None:
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    part = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
    if part is None:
        return None
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    calendar = Calendar.from_ical(payload)
    [event] = calendar.walk("VEVENT")
    return Received(
        uid=str(event["UID"]),
        sequence=int(event.get("SEQUENCE", 0)),
        method=str(calendar.get("METHOD", "REQUEST")),
        start=event.decoded("DTSTART"),
        end=event.decoded("DTEND"),
        sent=parsedate_to_datetime(str(message["Date"])),
        title=str(event.get("SUMMARY", "")),
        file=path.name,
    )


def calendars(outbox: Path, org: Organisation) -> dict[str, dict[str, Received]]:
    """Each person's meetings by UID, as their calendar holds them after every message."""
    by_email = {str(p.email).lower(): p.id for p in org.people.values()}
    held: dict[str, dict[str, Received]] = defaultdict(dict)
    for path in sorted(outbox.glob("*.eml")):
        received = _read(path)
        if received is None:
            continue
        message = email.message_from_bytes(path.read_bytes(), policy=default)
        address = str(message["To"]).rsplit("<", 1)[-1].rstrip(">").strip().lower()
        person = by_email.get(address)
        if person is None:
            continue
        mine = held[person]
        before = mine.get(received.uid)
        if before is None or (received.sequence, received.method == "CANCEL") >= (
            before.sequence,
            before.method == "CANCEL",
        ):
            mine[received.uid] = received
    return {
        person: {uid: r for uid, r in mine.items() if r.method != "CANCEL"} for person, mine in held.items()
    }


def _night(start: datetime, end: datetime, person: Person) -> bool:
    moment = start
    while moment < end:
        local = moment.astimezone(person.tz).time()
        if local >= time(22) or local < time(7):
            return True
        moment += timedelta(minutes=5)
    return False


def _fits(start: datetime, length: timedelta, person: Person) -> bool:
    local, end = start.astimezone(person.tz), (start + length).astimezone(person.tz)
    hours, day = person.working_hours, local.date()
    return (
        day == end.date()
        and day.isoweekday() in hours.days
        and day not in public_holidays(person.country, person.subdivision, day.year)
        and hours.start <= local.time()
        and end.time() <= hours.end
    )


def _overlap_near(meeting: Received, people: list[Person]) -> bool:
    """Could the attendees have met inside everyone's working hours within three days of it?"""
    length = meeting.end - meeting.start
    start = meeting.start - timedelta(days=3)
    while start <= meeting.start + timedelta(days=3):
        if all(_fits(start, length, p) for p in people):
            return True
        start += timedelta(minutes=15)
    return False


def audit(outbox: Path, org: Organisation) -> Audit:
    """Count what the recipients' calendars show (see the module's docstring)."""
    found = Audit()
    held = calendars(outbox, org)
    seen: dict[str, set[str]] = defaultdict(set)
    for person_id, meetings in held.items():
        person = org.people[person_id]
        hours = person.working_hours
        ordered = sorted(meetings.values(), key=lambda r: r.start)
        for index, second in enumerate(ordered):
            for first in ordered[:index]:
                if second.start < first.end:
                    found.double_booked.append(f"{person_id}: {first.file} / {second.file}")
        for meeting in ordered:
            label = f"{meeting.file} ({person_id})"
            local, end = meeting.start.astimezone(person.tz), meeting.end.astimezone(person.tz)
            day = local.date()
            checks = {
                "night": _night(meeting.start, meeting.end, person),
                "day_off": day.isoweekday() not in hours.days,
                "holiday": day in public_holidays(person.country, person.subdivision, day.year),
                "outside_hours": not (
                    local.date() == end.date() and hours.start <= local.time() and end.time() <= hours.end
                ),
            }
            for name, hit in checks.items():
                if hit and meeting.uid not in seen[name]:
                    seen[name].add(meeting.uid)
                    getattr(found, name).append(label)
    attendees: dict[str, list[Person]] = defaultdict(list)
    for person_id, meetings in held.items():
        for uid in meetings:
            attendees[uid].append(org.people[person_id])
    outside = {label.split(" ")[0] for label in found.outside_hours}
    for meetings in held.values():
        for meeting in meetings.values():
            if meeting.file in outside and _overlap_near(meeting, attendees[meeting.uid]):
                outside.discard(meeting.file)
                found.outside_although_overlap.append(meeting.file)
    first_sent: dict[str, Received] = {}
    for meetings in held.values():
        for meeting in meetings.values():
            first_sent.setdefault(meeting.uid, meeting)
    found.meetings = len(first_sent)
    for path in sorted(outbox.glob("*.eml")):
        received = _read(path)
        if received is None or received.method != "REQUEST":
            continue
        if received.sent >= received.start:
            found.sent_after_start.append(received.file)
        elif received.sequence == 0 and received.start - received.sent < timedelta(hours=12):
            found.short_notice.append(received.file)
    return found


def main(argv: list[str]) -> int:
    outbox, org_dir = Path(argv[0]), Path(argv[1])
    loaded = load_organisation(org_dir)
    result = audit(outbox, loaded.organisation)
    for name, count in result.counts().items():
        print(f"{count:6d}  {name}")
    if "-v" in argv:
        for name in (
            "double_booked",
            "night",
            "day_off",
            "holiday",
            "outside_although_overlap",
            "sent_after_start",
        ):
            for line in getattr(result, name)[:10]:
                print(f"  {name}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
