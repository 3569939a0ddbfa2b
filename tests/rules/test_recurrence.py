"""The arithmetic fast path for simple RRULEs gives exactly dateutil's days."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from strides.rules.recurrence import dateutil_days, recurrence_days

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31))


@given(
    freq=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]),
    interval=st.integers(1, 5),
    starts=days,
    first=days,
    length=st.integers(0, 800),
)
def test_simple_rules_match_dateutil(
    freq: str, interval: int, starts: date, first: date, length: int
) -> None:
    rule = f"FREQ={freq};INTERVAL={interval}"
    last = first + timedelta(days=length)
    assert recurrence_days(rule, starts, first, last) == dateutil_days(rule, starts, first, last)


def test_the_31st_and_29_february_go_to_dateutil_which_skips_short_months() -> None:
    assert recurrence_days("FREQ=MONTHLY", date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 31)) == (
        date(2026, 3, 31),
    )
    assert recurrence_days("FREQ=YEARLY", date(2024, 2, 29), date(2025, 1, 1), date(2028, 12, 31)) == (
        date(2028, 2, 29),
    )
