"""A message that failed for now is tried again later, waiting longer each time, until its lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from strides.rules.retries import Retry

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_the_waits_double_from_five_minutes_up_to_an_hour() -> None:
    waits = [Retry().wait(n) for n in range(1, 9)]
    assert waits == [timedelta(minutes=m) for m in (5, 10, 20, 40, 60, 60, 60, 60)]


def test_a_day_of_waiting_gives_a_message_about_thirty_tries() -> None:
    # 5 + 10 + 20 + 40 minutes, then an hour at a time: 22 hourly waits fit in the rest of the day.
    assert Retry().attempts == 27
    assert Retry(lifetime=timedelta(minutes=30)).attempts == 3  # waits of 5 and 10 minutes fit, 20 does not


@given(st.integers(min_value=1, max_value=26), st.text(min_size=1, max_size=20))
def test_each_wait_varies_by_at_most_a_fifth_and_the_same_way_for_the_same_try(
    attempt: int, key: str
) -> None:
    retry = Retry()
    when = retry.next_try(attempt, key, NOW)
    assert when is not None
    assert retry.wait(attempt) * 0.8 <= when - NOW <= retry.wait(attempt) * 1.2
    assert retry.next_try(attempt, key, NOW) == when


def test_a_message_is_given_up_after_its_last_try() -> None:
    retry = Retry()
    assert retry.next_try(retry.attempts - 1, "k", NOW) is not None
    assert retry.next_try(retry.attempts, "k", NOW) is None


def test_what_failed_together_does_not_come_back_together() -> None:
    moments = {Retry().next_try(1, f"key-{n}", NOW) for n in range(100)}
    assert len(moments) > 90
