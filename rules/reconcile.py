"""Invite lifecycle by reconciliation: what the rules want now against what was sent. Pure.

The planner says which meetings the rules want (each with a UID stable per rule, subject and
slot, see rules/keys.py). The ledger remembers, per UID, the meeting as last sent: its
SEQUENCE, time, attendees, organiser, title and description, and whether it was cancelled. Comparing
the two gives every iTIP message a real organiser would send (RFC 5546):

| rules want            | ledger remembers            | decision                                      |
|-----------------------|-----------------------------|-----------------------------------------------|
| a meeting             | nothing                     | REQUEST, SEQUENCE 0, to every attendee        |
| a meeting             | same time, people and text  | nothing                                       |
| a meeting             | another time, text, organiser | REQUEST, SEQUENCE + 1, to every attendee    |
| a meeting             | other attendees             | REQUEST, SEQUENCE + 1, to those who remain    |
|                       |                             | and CANCEL (same SEQUENCE) to those removed   |
| a meeting             | cancelled                   | REQUEST, SEQUENCE + 1 (reinstated)            |
| nothing, still ahead  | a meeting                   | CANCEL, SEQUENCE + 1, to every attendee       |

Every message gets an idempotency key from (UID, SEQUENCE, method, recipient), so deciding
the same change twice records it once, and a crash between deciding and recording repeats
the same decision with the same keys. The UID never depends on the meeting's time, so one
meeting never gets two UIDs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from strides.domain.schema import Kind
from strides.rules.intents import Intent, Meeting, Method, Window
from strides.rules.keys import invite_message_key

ACTIVE, CANCELLED = "active", "cancelled"


class Reason(StrEnum):
    NEW = "new"
    TIME = "time"
    ATTENDEES = "attendees"
    DETAILS = "details"
    REINSTATED = "reinstated"
    UNWANTED = "unwanted"


@dataclass(frozen=True)
class SentMeeting:
    """A meeting as the ledger remembers it from the last message sent about it."""

    uid: str
    rule_id: str
    subject: str
    sequence: int
    status: str
    start: datetime
    end: datetime
    timezone: str
    attendees: tuple[str, ...]
    title: str
    body: str = ""
    organiser: str | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


@dataclass(frozen=True)
class Decision:
    """One change to one meeting: the state to remember and the messages that announce it.

    `previous` is the sequence the change was decided against (None for a new meeting): the
    store records the change only if the meeting still has that sequence, so two ticks that
    race each other cannot both bump it.
    """

    uid: str
    reasons: tuple[Reason, ...]
    state: SentMeeting
    previous: int | None
    messages: tuple[Intent, ...]

    @property
    def method(self) -> Method:
        return "CANCEL" if self.state.status == CANCELLED else "REQUEST"


@dataclass(frozen=True)
class _Wanted:
    meeting: Meeting
    rule_id: str
    subject: str
    title: str
    body: str
    send_at: datetime


def _wanted(intents: Iterable[Intent]) -> dict[str, _Wanted]:
    """One entry per meeting UID (the planner yields one intent per attendee)."""
    found: dict[str, _Wanted] = {}
    for intent in intents:
        meeting = intent.meeting
        if intent.kind is not Kind.INVITE or meeting is None or meeting.uid in found:
            continue
        found[meeting.uid] = _Wanted(
            meeting, intent.rule_id, intent.subject, intent.title, intent.body, intent.send_at
        )
    return found


def _message(
    state: SentMeeting, recipient: str, method: Method, attendees: tuple[str, ...], send_at: datetime
) -> Intent:
    meeting = Meeting(
        uid=state.uid,
        start=state.start,
        end=state.end,
        timezone=state.timezone,
        attendees=attendees,
        sequence=state.sequence,
        method=method,
        organiser=state.organiser,
    )
    return Intent(
        key=invite_message_key(state.uid, state.sequence, method, recipient),
        rule_id=state.rule_id,
        kind=Kind.INVITE,
        subject=state.subject,
        occurrence=state.start,
        recipient=recipient,
        send_at=send_at,
        title=state.title,
        body=state.body,
        meeting=meeting,
    )


def _state(wanted: _Wanted, sequence: int) -> SentMeeting:
    meeting = wanted.meeting
    return SentMeeting(
        uid=meeting.uid,
        rule_id=wanted.rule_id,
        subject=wanted.subject,
        sequence=sequence,
        status=ACTIVE,
        start=meeting.start,
        end=meeting.end,
        timezone=meeting.timezone,
        attendees=meeting.attendees,
        title=wanted.title,
        body=wanted.body,
        organiser=meeting.organiser,
    )


def _requests(state: SentMeeting, send_at: datetime) -> list[Intent]:
    return [_message(state, person, "REQUEST", state.attendees, send_at) for person in state.attendees]


def _changed(sent: SentMeeting, wanted: _Wanted) -> tuple[Reason, ...]:
    meeting = wanted.meeting
    reasons: list[Reason] = []
    if (sent.start, sent.end) != (meeting.start, meeting.end) or sent.timezone != meeting.timezone:
        reasons.append(Reason.TIME)
    if set(sent.attendees) != set(meeting.attendees):
        reasons.append(Reason.ATTENDEES)
    if (sent.title, sent.body, sent.organiser) != (wanted.title, wanted.body, meeting.organiser):
        reasons.append(Reason.DETAILS)
    return tuple(reasons)


def reconcile(
    intents: Iterable[Intent], sent: Iterable[SentMeeting], window: Window, now: datetime
) -> list[Decision]:
    """Every change needed so that attendees' calendars show what the rules want.

    `intents` are the planner's invite intents for `window` (planned with the UIDs of `sent`
    as known); `sent` holds the remembered state of those UIDs and of every active meeting
    that starts after the window's start. Updates and cancels are due at `now`; a new
    meeting keeps the planner's send time.
    """
    wanted = _wanted(intents)
    remembered = {s.uid: s for s in sent}
    decisions: list[Decision] = []
    for uid in sorted(wanted):
        want = wanted[uid]
        before = remembered.get(uid)
        if before is None:
            state = _state(want, 0)
            decisions.append(Decision(uid, (Reason.NEW,), state, None, tuple(_requests(state, want.send_at))))
            continue
        if not before.active:
            state = _state(want, before.sequence + 1)
            messages = _requests(state, max(want.send_at, now))
            decisions.append(Decision(uid, (Reason.REINSTATED,), state, before.sequence, tuple(messages)))
            continue
        reasons = _changed(before, want)
        if not reasons:
            continue
        state = _state(want, before.sequence + 1)
        messages = _requests(state, now)
        removed = tuple(p for p in before.attendees if p not in state.attendees)
        # The removed attendee's CANCEL names only them (RFC 5546 3.2.5); the others keep the meeting.
        messages += [_message(state, person, "CANCEL", (person,), now) for person in removed]
        decisions.append(Decision(uid, reasons, state, before.sequence, tuple(messages)))
    for uid in sorted(remembered):
        before = remembered[uid]
        if uid in wanted or not before.active or before.start <= window.start:
            continue
        state = replace(before, sequence=before.sequence + 1, status=CANCELLED)
        messages = [_message(state, person, "CANCEL", state.attendees, now) for person in state.attendees]
        decisions.append(Decision(uid, (Reason.UNWANTED,), state, before.sequence, tuple(messages)))
    return decisions
