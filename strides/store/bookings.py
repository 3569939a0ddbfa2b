"""What people are already booked for, as the planner's placement asks it (rules/placement.py).

Meetings strides sent (active ones, by attendee through `invite_attendees`) and paused mail
(`strides email pause`). Busy times from people's own calendars are added to these by the
engine (strides/engine/calendars.py), which reads them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from strides.rules.placement import Booked
from strides.rules.reconcile import ACTIVE
from strides.store.tables import EmailPreferenceRow, InviteAttendeeRow, InviteRow

# Far enough for a pause without an end: no placement looks further ahead than this.
_OPEN_END = datetime(9999, 1, 1, tzinfo=UTC)
_BATCH = 900


class StoreBookings:
    """The store's answer to `Bookings.booked` (one session, read when placement asks)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def booked(self, people: Collection[str], low: datetime, high: datetime) -> Iterator[Booked]:
        wanted = sorted(people)
        for first in range(0, len(wanted), _BATCH):
            batch = wanted[first : first + _BATCH]
            meetings = (
                select(InviteAttendeeRow.person, InviteRow.uid, InviteRow.start, InviteRow.end)
                .join(InviteRow, InviteRow.uid == InviteAttendeeRow.uid)
                .where(
                    InviteAttendeeRow.person.in_(batch),
                    InviteRow.status == ACTIVE,
                    InviteRow.start < high,
                    InviteRow.end > low,
                )
            )
            for person, uid, start, end in self.session.execute(meetings):
                yield Booked(person, start, end, uid)
            pauses = select(
                EmailPreferenceRow.person_id, EmailPreferenceRow.paused_from, EmailPreferenceRow.paused_until
            ).where(EmailPreferenceRow.person_id.in_(batch), EmailPreferenceRow.paused_from.is_not(None))
            for person, since, until in self.session.execute(pauses):
                if since is not None and since < high and (until or _OPEN_END) > low:
                    yield Booked(person, since, until or _OPEN_END, paused=True)
