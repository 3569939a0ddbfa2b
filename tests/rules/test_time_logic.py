"""Time logic as properties: local times, business days, quiet hours, meeting overlap, events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from strides.domain.check import load_checked
from strides.domain.model import Goal, Milestone, Organisation, Person, WorkingHours
from strides.domain.schema import Calendar, EventKind, QuietHours, Shift
from strides.rules.calendar import (
    is_business_day,
    local_moment,
    meeting_slot,
    out_of_quiet_hours,
    shift_day,
)
from strides.rules.events import Event
from strides.rules.intents import Window
from strides.rules.planning import plan, plan_event

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Sao_Paulo"]
PLACES = {"Europe/Berlin": ("DE", "BY"), "America/New_York": ("US", "NY"), "Australia/Sydney": ("AU", "NSW")}
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
clock = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def person(pid: str, zone: str, start: time = time(9), end: time = time(17)) -> Person:
    country, subdivision = PLACES.get(zone, ("IN", None))
    return Person(
        id=pid,
        name=pid.title(),
        email=f"{pid}@example.com",
        timezone=zone,
        country=country,
        subdivision=subdivision,
        working_hours=WorkingHours(start=start, end=end),
    )


@given(day=days, at=clock, zone=st.sampled_from(ZONES))
def test_a_local_time_is_kept_on_its_day_or_moved_forward_over_a_dst_gap(
    day: date, at: time, zone: str
) -> None:
    moment = local_moment(day, at, ZoneInfo(zone))
    local = moment.astimezone(ZoneInfo(zone))
    assert local.date() == day
    assert local.time() == at or timedelta(0) < (
        datetime.combine(day, local.time()) - datetime.combine(day, at)
    ) <= timedelta(hours=1)


@given(day=days, zone=st.sampled_from(list(PLACES)), direction=st.sampled_from([Shift.NEXT, Shift.PREVIOUS]))
def test_shifting_lands_on_the_nearest_business_day_in_the_asked_direction(
    day: date, zone: str, direction: Shift
) -> None:
    who, rules = person("ada", zone), Calendar(business_days=direction)
    moved = shift_day(day, who, rules)
    assert is_business_day(moved, who, rules)
    step = 1 if direction is Shift.NEXT else -1
    between = [day + timedelta(days=step * n) for n in range(abs((moved - day).days))]
    assert not any(is_business_day(d, who, rules) for d in between)


@given(
    moment=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
    start=clock,
    end=clock,
)
def test_quiet_hours_only_ever_delay_and_never_end_inside_the_quiet_span(
    moment: datetime, zone: str, start: time, end: time
) -> None:
    quiet = QuietHours(start=start, end=end)
    moved = out_of_quiet_hours(moment, ZoneInfo(zone), quiet)
    assert moved >= moment - timedelta(hours=1)  # a DST fold can repeat a wall-clock hour
    local = moved.astimezone(ZoneInfo(zone)).time()
    if start < end:
        assert not (start <= local < end) or local == end
    elif start > end:
        assert not (local >= start or local < end)


@settings(max_examples=60)
@given(day=days, a=st.sampled_from(ZONES), b=st.sampled_from(ZONES), at=clock)
def test_a_meeting_slot_lies_inside_both_peoples_working_hours(day: date, a: str, b: str, at: time) -> None:
    owner, other = person("ada", a), person("cy", b)
    slot = meeting_slot(day, at, timedelta(minutes=30), owner, [other])
    if slot is None:
        return
    for who in (owner, other):
        start, end = slot.astimezone(who.tz), (slot + timedelta(minutes=30)).astimezone(who.tz)
        assert start.isoweekday() in who.working_hours.days
        assert who.working_hours.start <= start.time() and end.time() <= who.working_hours.end
        assert start.date() == end.date()


RULES = load_checked(
    [
        (
            "events.yaml",
            """
rules:
  - id: follow-up
    trigger: {event: goal.completed, delay: 7d}
    action: {kind: email, to: [owner, manager], title: "What did {goal.title} teach you?"}
  - id: deadline-moved
    trigger: {event: goal.deadline-moved}
    action: {kind: email, to: [manager], title: "{goal.title} moved"}
""",
        )
    ]
)
ADA, BOB = person("ada", "Europe/Berlin"), person("bob", "Europe/Berlin")
ADA = ADA.model_copy(update={"manager": "bob"})
DONE = datetime(2026, 12, 1, 10, tzinfo=UTC)
ORG = Organisation(
    people={"ada": ADA, "bob": BOB},
    goals={
        "g1": Goal(
            id="g1",
            owner="ada",
            title="Ship",
            status="completed",
            created_at=DONE - timedelta(days=90),
            completed_at=DONE,
            deadline=date(2026, 12, 20),
        )
    },
    milestones={"m1": Milestone(id="m1", goal="g1", title="Draft", due=date(2026, 11, 1))},
)


def test_plan_event_plans_a_delayed_message_now_for_later() -> None:
    result = plan_event(RULES, ORG, Event(EventKind.GOAL_COMPLETED, DONE, "g1"), now=DONE)
    assert [(i.rule_id, i.recipient, i.send_at) for i in result.intents] == [
        ("follow-up", "ada", DONE + timedelta(days=7)),
        ("follow-up", "bob", DONE + timedelta(days=7)),
    ]


def test_the_same_event_from_the_state_and_from_the_transport_has_the_same_keys() -> None:
    from_event = plan_event(RULES, ORG, Event(EventKind.GOAL_COMPLETED, DONE, "g1"), now=DONE)
    from_state = plan(RULES, ORG, Window(DONE - timedelta(hours=1), DONE + timedelta(hours=1)))
    assert {i.key for i in from_event.intents} == {i.key for i in from_state.intents}


def test_an_event_older_than_max_lateness_is_skipped_and_recorded() -> None:
    old = Event(EventKind.GOAL_DEADLINE_MOVED, DONE, "g1", previous_deadline=date(2026, 12, 10))
    result = plan_event(RULES, ORG, old, now=DONE + timedelta(days=3))
    assert result.intents == ()
    assert [(s.rule_id, "max_lateness" in s.reason) for s in result.skips] == [("deadline-moved", True)]


def test_planning_a_window_again_with_the_ledger_adds_nothing() -> None:
    window = Window(DONE - timedelta(hours=1), DONE + timedelta(hours=1))
    first = plan(RULES, ORG, window)
    again = plan(RULES, ORG, window, {i.key for i in first.intents})
    assert first.intents and again.intents == ()


def test_the_two_instants_of_a_repeated_hour_have_their_own_keys() -> None:
    """Within one zone the two 02:30s of a clock going back compare (and hash) equal; their keys
    must not: the first is 00:30 UTC, the second 01:30 UTC."""
    from strides.rules.keys import message_key, occurrence_stamp

    first = datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    second = first.replace(fold=1)
    assert first == second
    assert [occurrence_stamp(first), occurrence_stamp(second)] == ["20261025T0030Z", "20261025T0130Z"]
    assert message_key("r", "goal:g", first, "p") != message_key("r", "goal:g", second, "p")


def test_the_planners_intents_equal_those_built_the_usual_way() -> None:
    """`intents.planned` fills every field of `Intent` (a field added later must be added there)."""
    from dataclasses import fields

    from strides.domain.schema import Kind
    from strides.rules.intents import Intent, planned

    at = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)
    values = dict(
        key="k",
        rule_id="r",
        kind=Kind.EMAIL,
        subject="goal:g1",
        occurrence=at,
        recipient="p1",
        send_at=at,
        title="t",
        body="b",
        meeting=None,
        on_pause="shift",
    )
    fast = planned(**values)  # type: ignore[arg-type]
    usual = Intent(**values)  # type: ignore[arg-type]
    assert fast == usual and hash(fast) == hash(usual)
    assert set(vars(fast)) == {f.name for f in fields(Intent)}
