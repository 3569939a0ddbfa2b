"""Placing a plan's meetings in their attendees' calendars, all together and in one order.

Every invite rule adds its meetings to `Planner.pending`; once every rule is planned they are
placed one by one in a canonical order (the rule's time, then rule id, subject and UID), each
against what its attendees are already booked for (`Planner.bookings`: meetings strides sent
before, busy times, pauses) and against the meetings placed before it in this plan. The order
does not depend on how the rules were run, so the same plan places the same way; the engine
plans shards one after another, so a shard sees what the shards before it recorded.

A meeting already sent keeps its start while it still fits on as near a day (`find_slot`'s
`keep`; other strides meetings never bump it, new ones go around it), so placing everything
again reproduces what was placed tick by tick; one that has taken place is not planned again.
It keeps its start, too, once it is within the rule's `freeze` of the window's start, and when
no slot is found for it any more. A new one is never
placed earlier than its notice allows (`min_notice`, at most the lead), and is skipped
(`no-slot`, `min-notice`) when nothing fits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from strides.domain.durations import format_duration
from strides.domain.schema import Calendar, NoOverlap, Otherwise, Slot
from strides.rules.intents import Skip
from strides.rules.placement import Attendee, Booked, Span, find_slot
from strides.rules.planning.messages import emit_invite
from strides.rules.planning.occasions import PendingMeeting
from strides.rules.planning.planner import Planner


def _calendar(calendar: Calendar) -> Calendar:
    """The rule's calendar as placement reads it: `overlap: skip` skips when nothing fits."""
    if calendar.overlap is NoOverlap.SKIP and calendar.slot.otherwise is not Otherwise.SKIP:
        slot = Slot(within=calendar.slot.within, step=calendar.slot.step, otherwise=Otherwise.SKIP)
        return calendar.model_copy(update={"slot": slot})
    return calendar


def _read(planner: Planner, pending: list[PendingMeeting]) -> list[Booked]:
    """What the attendees of these meetings are booked for around them."""
    people = {p.id for m in pending for p in m.people}
    reach = max(m.occasion.rule.calendar.slot.within + m.occasion.rule.action.duration for m in pending)
    low = min(m.intended for m in pending) - reach - timedelta(days=1)
    high = max(m.intended for m in pending) + reach + timedelta(days=1)
    return list(planner.bookings.booked(people, low, high))


def place_meetings(planner: Planner) -> None:
    """Place every pending meeting and plan its invites (the module's order)."""
    # Two occasions of one rule and subject at one moment (two offsets a business-day shift brought
    # together) are one meeting: the last in the canonical order, as `_finish` keeps one message.
    unique = {
        (m.occasion.rule.id, m.occasion.subject, m.intended): m
        for m in sorted(planner.pending, key=lambda m: m.order)
    }
    pending = list(unique.values())
    planner.pending = []
    if not pending:
        return
    placing = {m.uid for m in pending}
    sent: dict[str, datetime] = {}
    busy: defaultdict[str, list[Span]] = defaultdict(list)
    paused: defaultdict[str, list[Span]] = defaultdict(list)
    # Busy times from people's own calendars: a meeting already sent moves off them too.
    firm: defaultdict[str, list[Span]] = defaultdict(list)
    for booked in _read(planner, pending):
        if booked.uid is not None and booked.uid in placing:
            # Being placed again here: its earlier start is no one's busy time.
            sent[booked.uid] = booked.start
        elif booked.paused:
            paused[booked.person].append((booked.start, booked.end))
        else:
            busy[booked.person].append((booked.start, booked.end))
            if booked.uid is None:
                firm[booked.person].append((booked.start, booked.end))
    for meeting in pending:
        start = _place(planner, meeting, sent.get(meeting.uid), busy, paused, firm)
        if start is None:
            continue
        end = start + meeting.occasion.rule.action.duration
        for person in meeting.people:
            busy[person.id].append((start, end))


def _place(
    planner: Planner,
    meeting: PendingMeeting,
    sent: datetime | None,
    busy: dict[str, list[Span]],
    paused: dict[str, list[Span]],
    firm: dict[str, list[Span]],
) -> datetime | None:
    """One meeting's start, its invites planned; None when it is not planned (a skip says why)."""
    occasion = meeting.occasion
    rule, subject = occasion.rule, occasion.subject
    action = rule.action
    # A late invite goes out at the window's start: the notice it gives counts from there.
    now = planner.window.start
    if sent is not None and sent <= now:
        # Placed earlier than the rule's time, it has taken place: nothing more to plan.
        return None
    emit: tuple[datetime, tuple[str, ...]]
    if sent is not None and now < sent < now + action.freeze:
        # Too close to its start to move: it stays where the attendees have it.
        emit = sent, ("frozen",)
    else:
        notice = action.freeze if sent is not None else min(action.min_notice, action.lead)
        attendees = [
            Attendee(p, tuple(busy.get(p.id, ())), tuple(paused.get(p.id, ())), tuple(firm.get(p.id, ())))
            for p in meeting.people
        ]
        calendar = _calendar(rule.calendar)
        placed = find_slot(meeting.intended, action.duration, attendees, calendar, now + notice, sent)
        if placed.start is not None:
            moved = placed.moved + (("least bad",) if placed.least_bad else ())
            emit = placed.start, moved
        elif sent is not None:
            emit = sent, (*placed.moved, "no slot: kept")
        else:
            if planner.window.contains(meeting.send_at) or meeting.send_at < planner.window.start:
                who = ", ".join(p.id for p in meeting.people)
                why = "; ".join(placed.moved)
                if placed.cause == "min-notice":
                    reason = f"too little notice (min_notice {format_duration(action.min_notice)}) for {who}"
                elif rule.calendar.overlap is NoOverlap.SKIP:
                    reason = f"no overlap of working hours ({who})"  # as rules with `overlap: skip` say
                else:
                    reason = f"no slot in the calendars of {who} ({why})"
                planner.skips.append(Skip(rule.id, subject, meeting.intended, reason))
            return None
    start, moved = emit
    if not planner.invite_due(subject, meeting.uid, start, meeting.send_at):
        return None
    emit_invite(planner, meeting, start, moved)
    return start
