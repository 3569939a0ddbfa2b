"""The reconciler decides, from what the rules want and what was sent, every iTIP message."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from strides.domain.schema import Kind
from strides.rules import Intent, Meeting, Window
from strides.rules.reconcile import CANCELLED, Reason, SentMeeting, reconcile

from ..conftest import at

BERLIN = ZoneInfo("Europe/Berlin")
NOW = at("2026-12-05 00:00")
WINDOW = Window(at("2026-12-04 00:00"), NOW)
START = at("2026-12-11 09:00").astimezone(BERLIN)


def wanted(start=START, attendees=("ann", "bob"), title="Goal review", uid="u1@strides") -> list[Intent]:
    meeting = Meeting(uid, start, start + timedelta(minutes=30), "Europe/Berlin", attendees)
    return [
        Intent(
            key=f"k-{person}",
            rule_id="review",
            kind=Kind.INVITE,
            subject="goal:g1",
            occurrence=start,
            recipient=person,
            send_at=WINDOW.start,
            title=title,
            body="Bring the numbers.",
            meeting=meeting,
        )
        for person in attendees
    ]


def remembered(start=START, attendees=("ann", "bob"), sequence=0, status="active") -> SentMeeting:
    return SentMeeting(
        uid="u1@strides",
        rule_id="review",
        subject="goal:g1",
        sequence=sequence,
        status=status,
        start=start,
        end=start + timedelta(minutes=30),
        timezone="Europe/Berlin",
        attendees=attendees,
        title="Goal review",
        body="Bring the numbers.",
    )


def sent_to(decision) -> dict[str, tuple[str, int, tuple[str, ...]]]:
    return {
        m.recipient: (m.meeting.method, m.meeting.sequence, m.meeting.attendees) for m in decision.messages
    }


def test_a_new_meeting_is_requested_from_every_attendee_with_sequence_0():
    [decision] = reconcile(wanted(), [], WINDOW, NOW)
    assert decision.reasons == (Reason.NEW,)
    assert decision.previous is None
    assert sent_to(decision) == {
        "ann": ("REQUEST", 0, ("ann", "bob")),
        "bob": ("REQUEST", 0, ("ann", "bob")),
    }


def test_a_meeting_sent_as_wanted_needs_nothing():
    assert reconcile(wanted(), [remembered()], WINDOW, NOW) == []


def test_a_moved_meeting_is_updated_with_the_next_sequence_and_the_same_uid():
    later = START + timedelta(days=7)
    [decision] = reconcile(wanted(start=later), [remembered(sequence=2)], WINDOW, NOW)
    assert decision.reasons == (Reason.TIME,)
    assert decision.previous == 2
    assert {m.meeting.uid for m in decision.messages} == {"u1@strides"}
    assert sent_to(decision) == {
        "ann": ("REQUEST", 3, ("ann", "bob")),
        "bob": ("REQUEST", 3, ("ann", "bob")),
    }
    assert all(m.meeting.start == later and m.send_at == NOW for m in decision.messages)


def test_a_replaced_attendee_gets_a_cancel_and_the_others_an_update():
    [decision] = reconcile(wanted(attendees=("ann", "cy")), [remembered()], WINDOW, NOW)
    assert decision.reasons == (Reason.ATTENDEES,)
    assert sent_to(decision) == {
        "ann": ("REQUEST", 1, ("ann", "cy")),
        "cy": ("REQUEST", 1, ("ann", "cy")),
        # The removed attendee's CANCEL names only them.
        "bob": ("CANCEL", 1, ("bob",)),
    }


def test_a_new_title_is_an_update():
    [decision] = reconcile(wanted(title="Goal review: new name"), [remembered()], WINDOW, NOW)
    assert decision.reasons == (Reason.DETAILS,)


def test_a_meeting_no_longer_wanted_is_cancelled_for_everyone():
    [decision] = reconcile([], [remembered(sequence=1)], WINDOW, NOW)
    assert decision.reasons == (Reason.UNWANTED,)
    assert decision.state.status == CANCELLED
    assert decision.method == "CANCEL"
    assert sent_to(decision) == {
        "ann": ("CANCEL", 2, ("ann", "bob")),
        "bob": ("CANCEL", 2, ("ann", "bob")),
    }


def test_a_meeting_that_already_took_place_is_left_alone():
    past = WINDOW.start - timedelta(hours=1)
    assert reconcile([], [remembered(start=past)], WINDOW, NOW) == []


def test_a_cancelled_meeting_wanted_again_is_requested_with_a_higher_sequence():
    [decision] = reconcile(wanted(), [remembered(sequence=1, status=CANCELLED)], WINDOW, NOW)
    assert decision.reasons == (Reason.REINSTATED,)
    assert {m.meeting.sequence for m in decision.messages} == {2}


def test_a_cancelled_meeting_not_wanted_stays_cancelled():
    assert reconcile([], [remembered(sequence=1, status=CANCELLED)], WINDOW, NOW) == []


def test_message_keys_differ_per_sequence_method_and_recipient_and_repeat_exactly():
    first = reconcile(wanted(attendees=("ann", "cy")), [remembered()], WINDOW, NOW)
    again = reconcile(wanted(attendees=("ann", "cy")), [remembered()], WINDOW, NOW)
    keys = [m.key for m in first[0].messages]
    assert keys == [m.key for m in again[0].messages]
    assert len(set(keys)) == 3
    moved = reconcile(wanted(start=START + timedelta(days=1)), [remembered(sequence=1)], WINDOW, NOW)
    assert not set(keys) & {m.key for m in moved[0].messages}


def test_attendee_order_alone_is_no_change():
    assert reconcile(wanted(attendees=("bob", "ann")), [replace(remembered())], WINDOW, NOW) == []
