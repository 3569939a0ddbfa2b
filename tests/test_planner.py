"""The planner: a pure function of rules, organisation, window and ledger, with a controlled clock."""

from __future__ import annotations

import functools
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strides.domain.model import Organisation, Person
from strides.domain.parse import RuleSet, parse_rules
from strides.domain.schema import Kind
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from strides.rules.calendar import local_moment
from strides.rules.keys import message_key
from strides.speed import two_at_once

from .conftest import FIXTURES, at


@pytest.fixture(scope="module")
def org():
    result = load_organisation(FIXTURES / "org-small", base=FIXTURES)
    assert result.ok, result.rejected
    return result.organisation


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def only(rules: RuleSet, rule_id: str) -> RuleSet:
    return RuleSet(tuple(r for r in rules.rules if r.id == rule_id))


def day(text: str) -> Window:
    start = datetime.fromisoformat(text).replace(tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


def test_deadline_reminders_fire_at_nine_in_the_owners_timezone(org, rules):
    reminders = only(rules, "deadline-reminder")
    # Ben's goal is due 2026-12-18 (New York): reminders on 12-04, 12-15 and 12-18 at 09:00 EST = 14:00 UTC.
    found = []
    for offset in range(30):
        window = day(f"2026-12-{1 + offset:02d}") if offset < 31 else None
        if window is None or window.start.month != 12:
            break
        found += [i for i in plan(reminders, org, window).intents if i.subject == "goal:g-ben"]
    assert [i.send_at for i in found] == [
        at("2026-12-04 14:00"),
        at("2026-12-15 14:00"),
        at("2026-12-18 14:00"),
    ]
    assert [i.title for i in found] == [
        "“Give a tech talk” is due in 14 days",
        "“Give a tech talk” is due in 3 days",
        "“Give a tech talk” is due in 0 days",
    ]
    assert {i.recipient for i in found} == {"ben"}
    assert all(i.kind is Kind.EMAIL for i in found)


def test_dropped_goals_get_no_reminders(org, rules):
    window = Window(at("2026-12-01 00:00"), at("2027-01-01 00:00"))
    subjects = {i.subject for i in plan(rules, org, window).intents}
    assert "goal:g-dropped" not in subjects


def test_digest_arrives_at_each_persons_own_day_and_time(org, rules):
    digests = only(rules, "weekly-digest")
    week = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))
    sent = {i.recipient: i.send_at for i in plan(digests, org, week).intents}
    assert sent == {
        "ana": datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        "ben": datetime(2026, 12, 4, 17, 30, tzinfo=ZoneInfo("America/New_York")),
        # Monday 08:00 in Tokyo on 11-30 is still Sunday in UTC: outside this window; the next one is in.
        "cara": datetime(2026, 12, 7, 8, 0, tzinfo=ZoneInfo("Asia/Tokyo")),
    }


def test_an_empty_digest_is_not_sent(org, rules):
    digests = only(rules, "weekly-digest")
    lonely = org.model_copy(
        update={
            "goals": {},
            "milestones": {},
            "people": {"cara": org.people["cara"].model_copy(update={"manager": None})},
        }
    )
    result = plan(digests, lonely, Window(at("2026-11-29 00:00"), at("2026-11-30 12:00")))
    assert result.intents == ()
    assert [s.reason for s in result.skips] == ["cara: empty digest"]


def _with_slot(rules: RuleSet, within: timedelta) -> RuleSet:
    """The same rules with another placement range."""
    changed = []
    for rule in rules.rules:
        slot = rule.calendar.slot.model_copy(update={"within": within})
        changed.append(rule.model_copy(update={"calendar": rule.calendar.model_copy(update={"slot": slot})}))
    return RuleSet(tuple(changed))


def test_invites_go_out_ahead_and_late_ones_still_go_until_the_meeting(org, rules):
    review = only(rules, "weekly-self-review")
    friday = datetime(2026, 12, 11, 16, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    ahead = plan(
        review, org, Window(friday - timedelta(days=7), friday - timedelta(days=7) + timedelta(hours=1))
    )
    cara = [i for i in ahead.intents if i.recipient == "cara"]
    assert len(cara) == 1 and cara[0].meeting is not None
    assert cara[0].meeting.start == friday and cara[0].meeting.end - friday == timedelta(minutes=15)
    # The engine was down when the invite was due: it still goes, with a day's notice (min_notice)...
    two_days = friday - timedelta(days=2)
    late = plan(review, org, Window(two_days, two_days + timedelta(hours=1)))
    assert [i.key for i in late.intents if i.recipient == "cara"] == [cara[0].key]
    # ...an hour ahead, it moves to the nearest slot a day's notice allows: Monday, same time...
    hour = plan(review, org, Window(friday - timedelta(hours=2), friday - timedelta(hours=1)))
    [moved] = [i.meeting for i in hour.intents if i.recipient == "cara"]
    assert moved is not None and moved.start == friday + timedelta(days=3) and moved.moved == ("min notice",)
    # ...or, with no slot in reach, is skipped and says why...
    near = only(_with_slot(rules, within=timedelta(days=1)), "weekly-self-review")
    hour = plan(near, org, Window(friday - timedelta(hours=2), friday - timedelta(hours=1)))
    assert not [i for i in hour.intents if i.recipient == "cara"]
    assert [s.cause for s in hour.skips if s.subject == "person:cara"] == ["min-notice"]
    # ...and never for a meeting that has begun.
    after = plan(review, org, Window(friday, friday + timedelta(hours=1)))
    assert not [i for i in after.intents if i.recipient == "cara" and i.meeting and i.meeting.start == friday]


def test_a_meeting_needs_its_people_and_says_who_was_missing(org, rules):
    checkin = only(rules, "monthly-mentor-checkin")
    # First Tuesday of January 2027 is the 5th; the invite goes 14 days ahead.
    window = Window(at("2026-12-20 00:00"), at("2026-12-24 00:00"))
    result = plan(checkin, org, window)
    assert {i.recipient for i in result.intents} == {"ben", "cara"}
    meetings = {i.meeting for i in result.intents}
    assert len(meetings) == 1, "both attendees get the same meeting (one UID)"
    assert sorted(s.reason for s in result.skips) == ["ana has no mentor", "cara has no mentor"]


def test_planning_again_with_the_ledger_adds_nothing_but_the_meetings_to_reconcile(org, rules):
    window = Window(at("2026-12-01 00:00"), at("2026-12-15 00:00"))
    first = plan(rules, org, window)
    assert first.intents
    again = plan(rules, org, window, already={i.key for i in first.intents})
    # Notices already in the ledger are gone; meetings come back for rules/reconcile.py to compare.
    assert {i.key for i in again.intents} == {i.key for i in first.intents if i.meeting is not None}
    assert all(i.meeting is not None for i in again.intents)


def test_keys_are_deterministic_and_distinct(org, rules):
    window = Window(at("2026-12-01 00:00"), at("2026-12-15 00:00"))
    one, two = plan(rules, org, window), plan(rules, org, window)
    assert [i.key for i in one.intents] == [i.key for i in two.intents]
    assert len({i.key for i in one.intents}) == len(one.intents)
    some = one.intents[0]
    assert some.key == message_key(some.rule_id, some.subject, some.occurrence, some.recipient)


def test_rules_from_text_can_be_planned(org):
    text = (FIXTURES / "rules" / "friday-nudge.yaml").read_text(encoding="utf-8")
    nudge = RuleSet(parse_rules(text, "friday-nudge.yaml"))
    result = plan(nudge, org, Window(at("2026-12-04 00:00"), at("2026-12-05 00:00")))
    assert {(i.recipient, i.send_at) for i in result.intents} == {
        ("ana", datetime(2026, 12, 4, 15, 0, tzinfo=ZoneInfo("Europe/Berlin"))),
        ("cara", datetime(2026, 12, 4, 15, 0, tzinfo=ZoneInfo("Asia/Tokyo"))),
        ("ben", datetime(2026, 12, 4, 15, 0, tzinfo=ZoneInfo("America/New_York"))),
    }
    assert all(i.title == f"Time to reflect, {i.recipient}" for i in result.intents)


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Europe/London",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    when=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)),
    hour=st.integers(0, 23),
    minute=st.sampled_from([0, 15, 30, 45]),
)
def test_local_times_hold_across_daylight_saving(zone, when, hour, minute):
    tz = ZoneInfo(zone)
    moment = local_moment(when, time(hour, minute), tz)
    assert moment.tzinfo is not None
    naive = datetime.combine(when, time(hour, minute))
    exists = naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive
    if exists:
        # The wall clock shows exactly what the rule asked for, summer or winter.
        assert (moment.date(), moment.time()) == (when, time(hour, minute))
    else:
        # Skipped by a spring-forward jump: the meeting moves later by the gap, never earlier.
        assert moment.replace(tzinfo=None) > naive
        assert moment.replace(tzinfo=None) - naive <= timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from(ZONES), weeks=st.integers(0, 104))
def test_weekly_cadence_keeps_its_wall_time_through_dst(zone, weeks):
    text = (FIXTURES / "rules" / "monday-morning.yaml").read_text(encoding="utf-8")
    rules = RuleSet(parse_rules(text, "monday-morning.yaml"))

    person = Person(id="p", name="P", email="p@example.com", timezone=zone, country="DE")
    org = Organisation(people={"p": person}, goals={}, milestones={})
    monday = date(2026, 1, 5) + timedelta(weeks=weeks)
    start = datetime.combine(monday, time(0), tzinfo=ZoneInfo(zone))
    result = plan(rules, org, Window(start, start + timedelta(days=1)))
    assert [i.send_at.astimezone(ZoneInfo(zone)).time() for i in result.intents] == [time(8, 0)]


def test_the_plan_is_the_same_whatever_order_or_threads_plan_the_rules_in(org, rules):
    """`run_rules` may plan the rules' parts (an escalation's rungs apart) in any order, or two at
    once (strides.engine does on PostgreSQL): the plan is the same."""

    def backwards(parts):
        for part in reversed(parts):
            part()

    # The pack's ladder has no repeat: one that has is planned in parts too (the repeats apart).
    ladder = "overdue-ladder-repeating"  # the fixture's rule
    repeating = load_rules(FIXTURES / "rules-repeat").rules
    rules = RuleSet(rules.rules + repeating)
    planned = skipped = repeats = 0
    for days in range(0, 70, 2):
        window = day(f"{date(2026, 11, 20) + timedelta(days=days)}")
        expected = plan(rules, org, window)
        assert plan(rules, org, window, run_rules=backwards) == expected
        assert plan(rules, org, window, run_rules=two_at_once) == expected
        planned += len(expected.intents)
        skipped += len(expected.skips)
        repeats += sum(i.rule_id == ladder and "12 day" in i.title for i in expected.intents)
    assert planned > 50 and skipped > 0 and repeats > 0


def test_two_at_once_raises_what_a_part_raised_and_takes_no_more_parts():
    ran: list[int] = []

    def fails() -> None:
        raise ValueError("this part failed")

    def slow(index: int) -> None:
        time_module.sleep(0.01)
        ran.append(index)

    parts = [fails, *(functools.partial(slow, index) for index in range(100))]
    with pytest.raises(ValueError, match="this part failed"):
        two_at_once(parts)
    # The other thread finishes the part it holds, and takes no more.
    assert len(ran) < 10


OPTIONAL = """
rules:
  - id: nudge
    optional: true
    trigger: {every: "FREQ=DAILY", at: "09:00"}
    action: {kind: email, title: "Nudge"}
  - id: team-nudge
    optional: true
    trigger: {every: "FREQ=DAILY", at: "10:00"}
    action: {kind: email, to: [owner, manager], title: "Team nudge"}
  - id: check-in
    optional: true
    trigger: {every: "FREQ=WEEKLY;BYDAY=TH", at: "11:00"}
    action: {kind: invite, to: [owner, manager], title: "Check-in", lead: 1d}
  - id: required
    trigger: {every: "FREQ=DAILY", at: "12:00"}
    action: {kind: email, title: "Required"}
"""


def test_an_optional_rule_is_not_sent_to_whoever_turned_it_off_and_says_so(org):
    rules = RuleSet(parse_rules(OPTIONAL, "optional.yaml"))
    # Ben turned off every rule, the required one too (which he cannot: it is not optional).
    declined = tuple(r.id for r in rules.rules)
    chose = org.model_copy(
        update={"people": {**org.people, "ben": org.people["ben"].model_copy(update={"declined": declined})}}
    )
    week = Window(at("2026-11-30 00:00"), at("2026-12-07 00:00"))
    before, after = plan(rules, org, week), plan(rules, chose, week)

    def gone(i):
        # Ben's optional messages, and meetings he would attend: a meeting is between its people.
        attendees = i.meeting.attendees if i.meeting else ()
        return i.rule_id != "required" and (i.recipient == "ben" or "ben" in attendees)

    assert {i.key for i in after.intents} == {i.key for i in before.intents if not gone(i)}
    assert any(gone(i) for i in before.intents if i.kind is Kind.INVITE)
    assert {i.key for i in after.intents if i.rule_id == "required" and i.recipient == "ben"}
    skipped = {(s.rule_id, s.cause) for s in after.skips} - {(s.rule_id, s.cause) for s in before.skips}
    assert skipped == {("nudge", "opted-out"), ("team-nudge", "opted-out"), ("check-in", "opted-out")}
    assert all("ben: opted out" in s.reason for s in after.skips if s.cause == "opted-out")
