"""Properties of busy times across timezones and DST changes: merging, days, weekly series."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from strides.integrations.busy_times import busy_in_calendar, merge, parse_calendar

# Zones with DST changes north and south, a half-hour zone, and a zone without DST.
ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Pacific/Auckland",
]
BASE = datetime(2027, 1, 1, tzinfo=UTC)

# Moments on a quarter-hour grid over three days, so that spans often touch and overlap.
QUARTER = timedelta(minutes=15)
moments = st.builds(
    lambda quarters, zone: (BASE + quarters * QUARTER).astimezone(ZoneInfo(zone)),
    st.integers(0, 4 * 24 * 3),
    st.sampled_from(ZONES),
)
# Some end before they start (nothing busy), most last up to a day.
spans = st.builds(
    lambda start, quarters: (start, start + quarters * QUARTER), moments, st.integers(-4, 4 * 24)
)


def _covered(intervals: list[tuple[datetime, datetime]], moment: datetime) -> bool:
    return any(a <= moment < b for a, b in intervals)


@given(st.lists(spans, max_size=20), moments, st.integers(0, 4 * 24 * 3))
def test_merged_busy_times_are_sorted_apart_in_utc_and_cover_exactly_the_spans_within_the_range(
    given_spans, start, length
):
    end = start + length * QUARTER
    merged = merge(given_spans, start, end)
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in merged)
    assert all(start <= a < b <= end for a, b in merged)
    # Sorted, and apart: touching or overlapping spans became one.
    assert all(first[1] < second[0] for first, second in itertools.pairwise(merged))
    # The same moments are busy: check every edge and a moment inside each piece between edges.
    edges = sorted({start, end, *(t for span in given_spans for t in span)})
    probes = edges + [a + (b - a) / 2 for a, b in itertools.pairwise(edges)]
    for moment in probes:
        inside = start <= moment < end
        assert _covered(merged, moment) == (inside and _covered(given_spans, moment))


def _calendar(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:e{i}@t\r\nDTSTAMP:20270101T000000Z\r\n{e}END:VEVENT\r\n"
        for i, e in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}END:VCALENDAR\r\n"


@given(st.dates(date(2026, 1, 1), date(2030, 12, 31)), st.sampled_from(ZONES))
@settings(deadline=None)
def test_an_all_day_event_is_busy_from_midnight_to_midnight_in_the_persons_zone(day, zone_name):
    zone = ZoneInfo(zone_name)
    text = _calendar(
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}\r\nDTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}\r\n"
    )
    start = datetime.combine(day - timedelta(days=3), time(), tzinfo=UTC)
    busy = busy_in_calendar([parse_calendar(text)], start, start + timedelta(days=7), zone)
    assert len(busy) == 1
    first, last = (moment.astimezone(zone) for moment in busy[0])
    assert (first.date(), first.time(), last.date(), last.time()) == (
        day,
        time(),
        day + timedelta(days=1),
        time(),
    )
    # A day of a DST change is 23 or 25 hours long, as the person lives it.
    assert busy[0][1] - busy[0][0] in (timedelta(hours=23), timedelta(hours=24), timedelta(hours=25))


@given(st.sampled_from(ZONES), st.integers(7, 19), st.sampled_from([0, 15, 30, 45]))
@settings(deadline=None, max_examples=30)
def test_a_weekly_series_keeps_its_local_time_through_a_year_of_dst_changes(zone_name, hour, minute):
    zone = ZoneInfo(zone_name)
    text = _calendar(
        f"DTSTART;TZID={zone_name}:20270104T{hour:02d}{minute:02d}00\r\nDURATION:PT45M\r\nRRULE:FREQ=WEEKLY\r\n"
    )
    start = datetime(2027, 1, 1, tzinfo=UTC)
    busy = busy_in_calendar([parse_calendar(text)], start, start + timedelta(days=365), ZoneInfo("UTC"))
    assert len(busy) == 52
    for first, last in busy:
        local = first.astimezone(zone)
        assert (local.weekday(), local.hour, local.minute) == (0, hour, minute)
        assert last - first == timedelta(minutes=45)
