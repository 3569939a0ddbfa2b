"""Business-day offsets (`-7bd`): counted on the owner's working days, less their public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from strides.domain.durations import BusinessDays, parse_offset
from strides.domain.model import Goal, Organisation, Person, WorkingHours
from strides.domain.parse import RuleSet, parse_rules
from strides.domain.schema import Calendar
from strides.rules.calendar import add_business_days, is_business_day
from strides.rules.intents import Window
from strides.rules.preview import ticked

PLACES = [("Europe/Berlin", "DE", "BY"), ("America/New_York", "US", "NY"), ("Asia/Tokyo", "JP", None)]


def person(pid: str, place: tuple[str, str, str | None], days: tuple[int, ...] = (1, 2, 3, 4, 5)) -> Person:
    zone, country, subdivision = place
    return Person(
        id=pid,
        name=pid.title(),
        email=f"{pid}@example.com",
        timezone=zone,
        country=country,
        subdivision=subdivision,
        working_hours=WorkingHours(start=time(9), end=time(17), days=days),
    )


@given(
    day=st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 12, 31)),
    count=st.integers(min_value=-40, max_value=40).filter(bool),
    place=st.sampled_from(PLACES),
    days=st.sampled_from([(1, 2, 3, 4, 5), (1, 2, 3, 4), (2, 3, 4, 5, 6), (7,)]),
    holidays=st.booleans(),
)
def test_n_business_days_away_is_a_business_day_with_n_of_them_on_the_way(
    day: date, count: int, place: tuple[str, str, str | None], days: tuple[int, ...], holidays: bool
) -> None:
    who, calendar = person("ada", place, days), Calendar(holidays=holidays)
    landed = add_business_days(day, count, who, calendar)
    assert is_business_day(landed, who, calendar)
    step = timedelta(days=1 if count > 0 else -1)
    on_the_way, cursor = 0, day
    while cursor != landed:
        cursor += step
        on_the_way += is_business_day(cursor, who, calendar)
    assert on_the_way == abs(count)


def test_offsets_read_business_days_and_refuse_what_is_not_an_offset() -> None:
    assert parse_offset("-7bd") == BusinessDays(days=-7) and isinstance(parse_offset("-7bd"), BusinessDays)
    assert parse_offset("-14d") == timedelta(days=-14) and not isinstance(parse_offset("-14d"), BusinessDays)
    for bad in ("-7b", "7bdd", "-99999bd", "1.5bd"):
        try:
            parse_offset(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


RULES = RuleSet(
    parse_rules(
        """
rules:
  - id: three-business-days
    trigger: {anchor: goal.deadline, offsets: [-3bd], at: "09:00"}
    action: {kind: email, title: "{goal.title}: three business days left"}
  - id: three-days
    trigger: {anchor: goal.deadline, offsets: [-3d], at: "09:00"}
    action: {kind: email, title: "{goal.title}: three days left"}
""",
        "bd.yaml",
    )
)


DEADLINE = date(2026, 12, 28)


def _org() -> Organisation:
    people = {p.id: p for p in (person("de", PLACES[0]), person("jp", PLACES[2]))}
    created = datetime(2026, 11, 1, tzinfo=UTC)
    goals = {
        f"g-{pid}": Goal(
            id=f"g-{pid}", owner=pid, title="Ship", deadline=date(2026, 12, 28), created_at=created
        )
        for pid in people
    }
    return Organisation(people=people, goals=goals, milestones={})


def test_three_business_days_before_a_monday_after_christmas_skip_each_owners_holidays() -> None:
    org = _org()
    window = Window(datetime(2026, 12, 18, tzinfo=UTC), datetime(2026, 12, 29, tzinfo=UTC))
    found = {
        (i.rule_id, i.recipient): i.occurrence.astimezone(ZoneInfo(org.people[i.recipient].timezone))
        for i in ticked(RULES, org, window).intents
    }
    # Monday 28 December: Berlin keeps the 25th and 26th as holidays, Tokyo works the 25th.
    assert found[("three-business-days", "de")].date() == date(2026, 12, 22)
    assert found[("three-business-days", "jp")].date() == date(2026, 12, 23)
    assert found[("three-days", "de")].date() == found[("three-days", "jp")].date() == date(2026, 12, 25)
    assert {moment.time() for moment in found.values()} == {time(9)}


def test_offsets_that_land_on_the_same_moment_make_one_meeting_not_two() -> None:
    # Thursday 10 December: one business day before and one day before are both Wednesday the 9th.
    both = RuleSet(
        parse_rules(
            """
rules:
  - id: both
    trigger: {anchor: goal.deadline, offsets: [-1bd, -1d], at: "09:00"}
    action: {kind: invite, title: "Check {goal.title}", lead: 1d}
""",
            "both.yaml",
        )
    )
    org = _org()
    org.goals["g-de"] = org.goals["g-de"].model_copy(update={"deadline": date(2026, 12, 10)})
    window = Window(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 10, tzinfo=UTC))
    meetings = [i.meeting for i in ticked(both, org, window).intents if i.recipient == "de"]
    assert [m.start.date() for m in meetings if m] == [date(2026, 12, 9)]


def test_a_business_day_offset_names_its_own_occurrence() -> None:
    from strides.rules.keys import occurrence_name

    assert occurrence_name(offset_days=-3, business=True) == "offset:-3bd"
    assert occurrence_name(offset_days=-3) == "offset:-3d"
