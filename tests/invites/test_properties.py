"""Properties across IANA timezones and daylight-saving transitions: the meeting is intended at the
local time the rule asked for (placement may move it into its attendees' calendars, and the
invite carries the start it chose), its UID never changes, and its SEQUENCE only goes up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import example, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from strides.domain.model import Goal, GoalStatus, Organisation, Person
from strides.domain.parse import RuleSet
from strides.domain.schema import Rule
from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.rules import Window, plan
from strides.rules.reconcile import Reason, SentMeeting, reconcile

ZONES = sorted(
    z
    for z in available_timezones()
    if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/"))
)
# Most zones that observe daylight saving change clocks in March-April or September-November.
NEAR_TRANSITIONS = st.one_of(
    st.dates(date(2026, 3, 1), date(2028, 4, 30)).filter(lambda d: d.month in (3, 4, 9, 10, 11)),
    st.dates(date(2026, 1, 1), date(2028, 12, 31)),
)
MINUTES = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


def review_rule(at: time) -> RuleSet:
    rule = Rule.model_validate(
        {
            "id": "review",
            "trigger": {"anchor": "goal.deadline", "offsets": ["-7d"], "at": at.strftime("%H:%M")},
            "action": {
                "kind": "invite",
                "to": ["owner", "manager"],
                "title": "Review: {goal.title}",
                "body": "Due {goal.deadline}.",
                "duration": "30m",
                "lead": "10d",
            },
            # Wide enough that a slot on a working day of both is always within reach (Easter).
            "calendar": {"slot": {"within": "4d"}},
        }
    )
    return RuleSet((rule,))


def organisation(zone: str, deadline: date, status: GoalStatus = GoalStatus.ACTIVE) -> Organisation:
    people = {
        "ann": Person(
            id="ann", name="Ann", email="ann@example.com", timezone=zone, country="DE", manager="max"
        ),
        "max": Person(id="max", name="Max", email="max@example.com", timezone="UTC", country="DE"),
    }
    goal = Goal(
        id="g1",
        owner="ann",
        title="Ship it",
        deadline=deadline,
        status=status,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
        completed_at=datetime(2025, 6, 1, tzinfo=UTC) if status is GoalStatus.COMPLETED else None,
    )
    return Organisation(people=people, goals={"g1": goal}, milestones={})


def expected_wall_clock(day: date, at: time, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The naive local time asked for, and whether it exists on that day (not in a DST gap)."""
    naive = datetime.combine(day, at)
    exists = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
    return naive, exists


def assert_starts_as_asked(start: datetime | None, day: date, at: time, zone: ZoneInfo) -> None:
    assert start is not None and isinstance(start.tzinfo, ZoneInfo) and start.tzinfo.key == zone.key
    naive, exists = expected_wall_clock(day, at, zone)
    local = start.replace(tzinfo=None)
    if exists:
        # An ambiguous time (clocks going back) is its first occurrence.
        assert local == naive and start.fold == 0
    else:
        # A time skipped by the clocks going forward moves forward by the gap, as calendars do.
        assert naive < local <= naive + timedelta(hours=3)


def tick_before(day: date) -> Window:
    """A one-day window ending the day before `day`: after the invite is due, before the meeting."""
    end = datetime.combine(day - timedelta(days=1), time(0), tzinfo=UTC)
    return Window(end - timedelta(days=1), end)


def fold(state: dict[str, SentMeeting], decisions) -> list[tuple[str, int, str]]:
    """Apply decisions to the remembered state; return (uid, sequence, method) of each message."""
    sent = []
    for decision in decisions:
        state[decision.uid] = decision.state
        sent.extend((m.meeting.uid, m.meeting.sequence, m.meeting.method) for m in decision.messages)
    return sent


def parsed_start(decision, zone: str) -> datetime:
    """Build the invite as the tick would and read DTSTART back with icalendar."""
    message = decision.messages[0]
    meeting = message.meeting
    spec = InviteSpec(
        uid=meeting.uid,
        summary=message.title,
        description=message.body,
        start=meeting.start,
        end=meeting.end,
        organiser=Party("strides", "growth@strides.example", "CHAIR"),
        attendees=(Party("Ann", "ann@example.com"),),
        sequence=meeting.sequence,
    )
    calendar = Calendar.from_ical(build_ics(spec, stamp=message.send_at, method=meeting.method))
    assert calendar.errors == []
    [event] = calendar.events
    assert event.errors == [] and int(event["SEQUENCE"]) == meeting.sequence
    assert str(event["DTSTART"].params["TZID"]) == zone
    start: datetime = event.start
    return start


def subjects(state: dict[str, SentMeeting]) -> dict[str, str]:
    """What the engine tells the planner about meetings already sent: UID to subject."""
    return {uid: meeting.subject for uid, meeting in state.items()}


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    deadline=NEAR_TRANSITIONS,
    at=MINUTES,
    shift=st.integers(1, 120),
)
@example(zone="Europe/Berlin", deadline=date(2027, 4, 4), at=time(2, 30), shift=7)  # spring gap
@example(zone="America/New_York", deadline=date(2027, 11, 14), at=time(1, 30), shift=1)  # autumn overlap
@example(zone="Australia/Lord_Howe", deadline=date(2026, 10, 11), at=time(2, 15), shift=3)  # 30-min DST
def test_a_review_moves_and_is_cancelled_with_one_uid_and_rising_sequence(zone, deadline, at, shift):
    tz = ZoneInfo(zone)
    rules = review_rule(at)
    window = tick_before(deadline - timedelta(days=7))
    state: dict[str, SentMeeting] = {}

    first = plan(rules, organisation(zone, deadline), window).intents
    assert {i.recipient for i in first} == {"ann", "max"}
    assert_starts_as_asked(first[0].meeting.intended, deadline - timedelta(days=7), at, tz)
    created = reconcile(first, state.values(), window, window.end)
    assert [d.reasons for d in created] == [(Reason.NEW,)]
    assert parsed_start(created[0], zone) == first[0].meeting.start
    sent = fold(state, created)

    # The same tick again: nothing new (idempotent), whatever the zone.
    again = plan(rules, organisation(zone, deadline), window, known=subjects(state)).intents
    assert reconcile(again, state.values(), window, window.end) == []

    moved_deadline = deadline + timedelta(days=shift)
    moved = plan(rules, organisation(zone, moved_deadline), window, known=subjects(state)).intents
    assert_starts_as_asked(moved[0].meeting.intended, moved_deadline - timedelta(days=7), at, tz)
    updated = reconcile(moved, state.values(), window, window.end)
    # The body names the deadline, so the text changed too; placement may keep the start.
    time_changed = moved[0].meeting.start != first[0].meeting.start
    assert [d.reasons for d in updated] == [
        (Reason.TIME, Reason.DETAILS) if time_changed else (Reason.DETAILS,)
    ]
    assert parsed_start(updated[0], zone) == moved[0].meeting.start
    sent += fold(state, updated)

    dropped = plan(
        rules, organisation(zone, moved_deadline, GoalStatus.DROPPED), window, known=subjects(state)
    )
    cancelled = reconcile(dropped.intents, state.values(), window, window.end)
    assert [d.reasons for d in cancelled] == [(Reason.UNWANTED,)]
    parsed_start(cancelled[0], zone)
    sent += fold(state, cancelled)

    assert len({uid for uid, _, _ in sent}) == 1
    sequences = [sequence for _, sequence, _ in sent]
    assert sequences == sorted(sequences) and sorted(set(sequences)) == [0, 1, 2]
    assert [method for _, _, method in sent][-2:] == ["CANCEL", "CANCEL"]


@settings(max_examples=60, deadline=None)
@given(first=st.sampled_from(ZONES), second=st.sampled_from(ZONES), deadline=NEAR_TRANSITIONS, at=MINUTES)
def test_the_uid_names_the_meeting_not_its_time_or_zone(first, second, deadline, at):
    window = tick_before(deadline - timedelta(days=7))
    one = plan(review_rule(at), organisation(first, deadline), window).intents
    other_time = time((at.hour + 5) % 24, at.minute)
    two = plan(review_rule(other_time), organisation(second, deadline), window).intents
    if one and two:
        assert one[0].meeting.uid == two[0].meeting.uid
