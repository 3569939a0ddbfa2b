"""The slot finder: a meeting goes where every attendee can take it, as near its intended time as
possible, the same whatever order its inputs come in, and never at night for anyone."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from strides.domain.model import Person, WorkingHours
from strides.domain.schema import Calendar, Otherwise, QuietHours, Slot
from strides.rules.calendar import is_business_day
from strides.rules.placement import Attendee, find_slot

PLACES = [
    ("Asia/Tokyo", "JP", None),
    ("Europe/London", "GB", "ENG"),
    ("Europe/Berlin", "DE", "BY"),
    ("America/New_York", "US", "NY"),
    ("America/Los_Angeles", "US", "CA"),
    ("Australia/Sydney", "AU", "NSW"),
    ("Asia/Kolkata", "IN", None),
    ("America/Sao_Paulo", "BR", None),
]
HOURS = [(time(9), time(17)), (time(8), time(12)), (time(13), time(19)), (time(7, 30), time(16))]
DAYS = [(1, 2, 3, 4, 5), (1, 2, 3), (2, 3, 4, 5, 6), (4, 5)]


def person(
    pid: str, place: tuple[str, str, str | None], hours: tuple[time, time], days: tuple[int, ...]
) -> Person:
    zone, country, subdivision = place
    return Person(
        id=pid,
        name=pid,
        email=f"{pid}@example.com",
        timezone=zone,
        country=country,
        subdivision=subdivision,
        working_hours=WorkingHours(start=hours[0], end=hours[1], days=days),
    )


def fits(start: datetime, duration: timedelta, attendee: Attendee, calendar: Calendar) -> bool:
    """A calendar user's reading: the meeting lies in their working hours on a working day."""
    who = attendee.person
    local, end = start.astimezone(who.tz), (start + duration).astimezone(who.tz)
    hours = who.working_hours
    if local.date() != end.date() or not is_business_day(local.date(), who, calendar):
        return False
    if not hours.start <= local.time() or not end.time() <= hours.end:
        return False
    return not any(a < start + duration and start < b for a, b in (*attendee.busy, *attendee.paused))


def at_night(start: datetime, duration: timedelta, who: Person) -> bool:
    """Does [start, start + duration) touch 22:00-07:00 on their clock (checked every minute)?"""
    moment = start
    while moment < start + duration:
        local = moment.astimezone(who.tz).time()
        if local >= time(22) or local < time(7):
            return True
        moment += timedelta(minutes=1)
    return False


def candidates(intended: datetime, slot: Slot, duration: timedelta) -> list[datetime]:
    """The grid, counted in UTC (steps on a wall clock would skip or repeat a DST hour)."""
    base = intended.astimezone(UTC)
    steps = int(slot.within / slot.step)
    return [base + k * slot.step for k in range(-steps, steps + 1)]


meetings = st.fixed_dictionaries(
    {
        # Around both daylight-saving changes of the northern and southern hemispheres.
        "day": st.sampled_from([date(2027, 3, 12), date(2027, 3, 26), date(2027, 4, 2), date(2027, 10, 29)])
        | st.dates(min_value=date(2026, 12, 1), max_value=date(2028, 1, 31)),
        "at": st.sampled_from([time(h, m) for h in range(0, 24) for m in (0, 30)]),
        "zone": st.sampled_from([p[0] for p in PLACES]),
        "duration": st.sampled_from([timedelta(minutes=m) for m in (15, 30, 45, 60, 90)]),
        "people": st.lists(
            st.tuples(st.sampled_from(PLACES), st.sampled_from(HOURS), st.sampled_from(DAYS)),
            min_size=1,
            max_size=4,
        ),
        "busy": st.lists(
            st.tuples(st.integers(0, 3), st.integers(-48 * 4, 48 * 4), st.integers(1, 8)), max_size=8
        ),
        "within": st.sampled_from([timedelta(days=1), timedelta(days=2), timedelta(days=3)]),
    }
)


# Los Angeles moves its clocks on 14 March 2027: a grid counted on its wall clock once put a
# Tokyo meeting at 06:30 there.
SPRING_FORWARD = {
    "day": date(2027, 3, 12),
    "at": time(0, 0),
    "zone": "America/Los_Angeles",
    "duration": timedelta(minutes=15),
    "people": [(("Asia/Tokyo", "JP", None), (time(7, 30), time(16, 0)), (1, 2, 3))],
    "busy": [],
    "within": timedelta(days=3),
}


def build(m: dict) -> tuple[datetime, timedelta, list[Attendee], Calendar]:
    intended = datetime.combine(m["day"], m["at"], ZoneInfo(m["zone"]))
    people = [person(f"p{n}", *spec) for n, spec in enumerate(m["people"])]
    busy: dict[int, list[tuple[datetime, datetime]]] = {}
    for who, quarter, length in m["busy"]:
        if who < len(people):
            start = intended.astimezone(UTC) + quarter * timedelta(minutes=15)
            busy.setdefault(who, []).append((start, start + length * timedelta(minutes=15)))
    attendees = [Attendee(p, tuple(busy.get(n, ()))) for n, p in enumerate(people)]
    return intended, m["duration"], attendees, Calendar(slot=Slot(within=m["within"]))


@settings(max_examples=120, deadline=None)
@given(meetings)
@example(SPRING_FORWARD)
def test_a_slot_that_fits_everyone_is_taken_whenever_one_exists(m: dict) -> None:
    intended, duration, attendees, calendar = build(m)
    placed = find_slot(intended, duration, attendees, calendar)
    fitting = [
        s
        for s in candidates(intended, calendar.slot, duration)
        if all(fits(s, duration, a, calendar) for a in attendees)
    ]
    if fitting:
        assert placed.start is not None and not placed.least_bad
        assert all(fits(placed.start, duration, a, calendar) for a in attendees)
        assert placed.start in fitting
        # Nothing fitting is on a nearer day of the intended clock.
        near = min(abs((s.astimezone(intended.tzinfo).date() - intended.date()).days) for s in fitting)
        assert abs((placed.start.astimezone(intended.tzinfo).date() - intended.date()).days) == near
        assert (placed.start == intended) == (placed.moved == ())
    else:
        assert placed.start is None or placed.least_bad


@settings(max_examples=120, deadline=None)
@given(meetings)
@example(SPRING_FORWARD)
def test_never_at_night_for_anyone_and_never_double_booked(m: dict) -> None:
    intended, duration, attendees, calendar = build(m)
    placed = find_slot(intended, duration, attendees, calendar)
    if placed.start is not None:
        for attendee in attendees:
            assert not at_night(placed.start, duration, attendee.person)
            end = placed.start + duration
            assert not any(a < end and placed.start < b for a, b in attendee.busy)
        # In UTC: two datetimes of one zone subtract on the wall clock.
        assert abs(placed.start.astimezone(UTC) - intended.astimezone(UTC)) <= calendar.slot.within


@settings(max_examples=60, deadline=None)
@given(meetings, st.randoms(use_true_random=False))
def test_the_same_inputs_in_any_order_give_the_same_slot(m: dict, shuffle: random.Random) -> None:
    intended, duration, attendees, calendar = build(m)
    placed = find_slot(intended, duration, attendees, calendar)
    shuffled = [Attendee(a.person, tuple(shuffle.sample(a.busy, len(a.busy)))) for a in attendees]
    shuffle.shuffle(shuffled)
    again = find_slot(intended, duration, shuffled, calendar)
    assert again.start == placed.start and again.least_bad == placed.least_bad
    assert sorted(again.moved) == sorted(placed.moved)


@settings(max_examples=60, deadline=None)
@given(meetings, st.integers(0, 48 * 4))
def test_never_before_the_earliest_start_an_invite_allows(m: dict, quarters: int) -> None:
    intended, duration, attendees, calendar = build(m)
    earliest = intended - calendar.slot.within + quarters * timedelta(minutes=15)
    placed = find_slot(intended, duration, attendees, calendar, earliest)
    assert placed.start is None or placed.start >= earliest


def test_tokyo_and_london_without_an_overlap_meet_at_the_edge_of_both_days() -> None:
    tokyo = person("hana", PLACES[0], (time(9), time(17)), (1, 2, 3, 4, 5))
    london = person("olly", PLACES[1], (time(9), time(17)), (1, 2, 3, 4, 5))
    intended = datetime(2027, 1, 12, 11, tzinfo=ZoneInfo("Asia/Tokyo"))
    placed = find_slot(intended, timedelta(minutes=30), [Attendee(tokyo), Attendee(london)], Calendar())
    assert placed.start is not None and placed.least_bad
    # 17:15-17:45 in Tokyo, 08:15-08:45 in London: each a quarter of an hour past or before their day.
    assert placed.start.astimezone(tokyo.tz).time() == time(17, 15)
    assert placed.start.astimezone(london.tz).time() == time(8, 15)
    assert placed.start.astimezone(london.tz).date() == date(2027, 1, 12)


def test_or_are_skipped_with_cause_no_slot_when_the_rule_says_so() -> None:
    tokyo = person("hana", PLACES[0], (time(9), time(17)), (1, 2, 3, 4, 5))
    london = person("olly", PLACES[1], (time(9), time(17)), (1, 2, 3, 4, 5))
    intended = datetime(2027, 1, 12, 11, tzinfo=ZoneInfo("Asia/Tokyo"))
    calendar = Calendar(slot=Slot(otherwise=Otherwise.SKIP))
    placed = find_slot(intended, timedelta(minutes=30), [Attendee(tokyo), Attendee(london)], calendar)
    assert placed.start is None and placed.cause == "no-slot"


def test_a_holiday_moves_the_meeting_to_the_same_time_on_the_nearest_working_day() -> None:
    london = person("olly", PLACES[1], (time(9), time(17)), (1, 2, 3, 4, 5))
    christmas = datetime(2026, 12, 25, 16, tzinfo=ZoneInfo("Europe/London"))
    placed = find_slot(christmas, timedelta(minutes=15), [Attendee(london)], Calendar())
    assert placed.start == datetime(2026, 12, 24, 16, tzinfo=ZoneInfo("Europe/London"))
    assert placed.moved == ("holiday: olly",)


def test_a_busy_mentor_gets_the_nearest_free_time_earlier_first_and_quiet_hours_are_kept() -> None:
    mentor = person("mia", PLACES[2], (time(9), time(17)), (1, 2, 3, 4, 5))
    mentee = person("max", PLACES[2], (time(9), time(17)), (1, 2, 3, 4, 5))
    eleven = datetime(2027, 1, 12, 11, tzinfo=ZoneInfo("Europe/Berlin"))
    busy = ((eleven, eleven + timedelta(minutes=30)),)
    placed = find_slot(eleven, timedelta(minutes=30), [Attendee(mentor, busy), Attendee(mentee)], Calendar())
    # 10:30 and 11:30 are as near: the earlier wins.
    assert placed.start == eleven - timedelta(minutes=30) and placed.moved == ("busy: mia",)
    quiet = Calendar(quiet_hours=QuietHours(start=time(10), end=time(12)))
    placed = find_slot(eleven, timedelta(minutes=30), [Attendee(mentee)], quiet)
    assert placed.start == eleven + timedelta(hours=1)


def test_too_little_notice_is_its_own_cause() -> None:
    mentee = person("max", PLACES[2], (time(9), time(17)), (1, 2, 3, 4, 5))
    eleven = datetime(2027, 1, 12, 11, tzinfo=ZoneInfo("Europe/Berlin"))
    placed = find_slot(
        eleven, timedelta(minutes=30), [Attendee(mentee)], Calendar(), eleven + timedelta(days=9)
    )
    assert placed.start is None and placed.cause == "min-notice"
    placed = find_slot(
        eleven, timedelta(minutes=30), [Attendee(mentee)], Calendar(), eleven + timedelta(hours=1)
    )
    assert placed.start == eleven + timedelta(hours=1) and placed.moved == ("min notice",)


@settings(max_examples=80, deadline=None)
@given(meetings)
def test_a_least_bad_slot_is_on_a_working_day_of_everyone_off_their_holidays(m: dict) -> None:
    intended, duration, attendees, calendar = build(m)
    placed = find_slot(intended, duration, attendees, calendar)
    if placed.start is not None:
        for attendee in attendees:
            who = attendee.person
            for moment in (placed.start, placed.start + duration - timedelta(minutes=1)):
                assert is_business_day(moment.astimezone(who.tz).date(), who, calendar)
