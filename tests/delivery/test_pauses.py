"""A pause for holidays or leave: a message due inside it is skipped or shifted, by its rule's policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from strides import engine
from strides.domain.check import check_files
from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.rules.delivery import after_pause, hold_for, pause_of_days
from strides.rules.intents import Intent
from strides.store import Store, ledger, preferences

from .conftest import SENDER, intent

NOW = datetime(2026, 12, 22, 8, 0, tzinfo=UTC)
PAUSE_END = datetime(2027, 1, 4, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))

RULES = """
rules:
  - id: shifted-nudge
    trigger: {anchor: goal.deadline, offsets: [-7d], at: "10:00", max_lateness: 400d}
    action: {kind: email, title: "Your goal {goal.title} is due in a week", pause: shift}
  - id: skipped-nudge
    trigger: {anchor: goal.deadline, offsets: [-7d], at: "10:30", max_lateness: 400d}
    action: {kind: email, title: "Also due in a week: {goal.title}"}
"""


def _row(store: Store, key: str) -> ledger.MessageRow:
    with store.session() as session:
        return next(r for r in ledger.messages(session) if r.key == key)


def _berlin_person(org: Organisation) -> str:
    return next(p.id for p in org.people.values() if p.timezone == "Europe/Berlin")


def test_a_rule_with_pause_shift_sends_once_after_the_pause_at_the_planned_local_time(
    loaded_store: Store, sample_org: Organisation, tmp_path: Path
) -> None:
    person = _berlin_person(sample_org)
    planned = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, inside the pause
    shift = replace(intent(Kind.EMAIL, person, "shifted-nudge", "Due in a week"), on_pause="shift")
    shift = replace(shift, key=shift.key + "-s", send_at=planned, occurrence=planned)
    skip = replace(
        intent(Kind.EMAIL, person, "skipped-nudge", "Also due"), send_at=planned, occurrence=planned
    )
    with loaded_store.session() as session:
        ledger.record(session, [shift, skip], sample_org, NOW)
        preferences.pause(session, person, NOW, PAUSE_END, NOW)
    outbox = OutboxTransport(tmp_path / "out")

    during = engine.deliver_due(loaded_store, outbox, SENDER, planned, limit=100)

    back = datetime(2027, 1, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # first day back, 10:00 local
    assert during.shifted == [(shift.key, back)]
    assert during.held_back == [(skip.key, "paused until 2027-01-03 23:00 UTC")] and during.failed == []
    assert during.sent == []
    row = _row(loaded_store, shift.key)
    assert (row.status, row.send_at, row.attempts) == ("pending", back, 0)
    assert row.last_error.startswith(
        "shifted: paused until 2027-01-03 23:00 UTC; due again Monday 04 January"
    )
    assert _row(loaded_store, skip.key).status == "dead"

    # Nothing more goes out until the first deliverable moment, then the same message goes out once.
    assert (
        engine.deliver_due(loaded_store, outbox, SENDER, back - timedelta(minutes=1), limit=100).claimed == 0
    )
    after = engine.deliver_due(loaded_store, outbox, SENDER, back, limit=100)
    assert [s.key for s in after.sent] == [shift.key]
    assert engine.deliver_due(loaded_store, outbox, SENDER, back + timedelta(days=1), limit=100).claimed == 0
    assert len(list((tmp_path / "out").iterdir())) == 1
    assert _row(loaded_store, shift.key).status == "sent"


def test_a_shifted_message_waits_out_an_open_ended_pause_a_day_at_a_time(
    loaded_store: Store, sample_org: Organisation, tmp_path: Path
) -> None:
    person = _berlin_person(sample_org)
    message = replace(intent(Kind.EMAIL, person, "shifted-nudge", "Due in a week"), on_pause="shift")
    with loaded_store.session() as session:
        ledger.record(session, [message], sample_org, NOW)
        preferences.pause(session, person, NOW - timedelta(days=1), None, NOW)
    outbox = OutboxTransport(tmp_path / "out")
    first = engine.deliver_due(loaded_store, outbox, SENDER, NOW, limit=100)
    assert [key for key, _ in first.shifted] == [message.key]
    tomorrow = first.shifted[0][1]
    assert tomorrow - NOW <= timedelta(days=1)
    with loaded_store.session() as session:
        preferences.resume(session, person, tomorrow)
    assert [s.key for s in engine.deliver_due(loaded_store, outbox, SENDER, tomorrow, limit=100).sent] == [
        message.key
    ]


def test_the_planner_carries_each_rule_s_pause_policy_into_the_ledger(
    loaded_store: Store, sample_org: Organisation
) -> None:
    rules, errors = check_files([("pauses.yaml", RULES)])
    assert rules is not None and errors == []
    engine.plan_window(
        loaded_store, rules, Window(datetime(2026, 1, 1, tzinfo=UTC), NOW + timedelta(days=400)), NOW
    )
    with loaded_store.session() as session:
        intents = [ledger.intent_of(r) for r in ledger.messages(session)]
    policies = {i.rule_id: i.on_pause for i in intents}
    assert policies == {"shifted-nudge": "shift", "skipped-nudge": "skip"}


def test_rules_check_refuses_an_unknown_pause_policy() -> None:
    _, errors = check_files([("bad.yaml", RULES.replace("pause: shift", "pause: shfit"))])
    assert [str(e) for e in errors] == [
        "bad.yaml:5:77: rule shifted-nudge: action.pause: Input should be 'skip' or 'shift'"
    ]


ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"])
MOMENTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)


@given(planned=MOMENTS, until=MOMENTS, zone=ZONES)
def test_a_shifted_message_goes_out_after_the_pause_at_its_planned_wall_clock_time(
    planned: datetime, until: datetime, zone: str
) -> None:
    tz = ZoneInfo(zone)
    moment = after_pause(planned, until, planned, tz)
    assert moment >= until
    # Within a day (and a DST hour) of the pause's end, on the wall-clock time it was planned for,
    # unless that time does not exist that day (a spring-forward gap moves it on by the gap).
    assert moment - until < timedelta(days=1, hours=1)
    wanted, got = planned.astimezone(tz).time(), moment.astimezone(tz).time()
    gap = datetime.combine(moment.date(), wanted).replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    assert got == wanted or got == gap.time()


def test_an_intent_without_a_policy_skips() -> None:
    assert Intent.__dataclass_fields__["on_pause"].default == "skip"


def test_a_person_s_own_pause_choice_overrides_each_rule_s_policy(
    loaded_store: Store, sample_org: Organisation, tmp_path: Path
) -> None:
    """On their preference page a person says what becomes of mail due in their pause: "hold"
    holds back even a `pause: shift` rule's message, "shift" sends even a `pause: skip` one after."""
    from strides.domain.choices import OwnChoices, PauseChoice

    person = _berlin_person(sample_org)
    planned = datetime(2026, 12, 28, 9, 0, tzinfo=UTC)
    outcomes = {}
    for choice in (PauseChoice.HOLD, PauseChoice.SHIFT):
        shift = replace(intent(Kind.EMAIL, person, "shifted-nudge", "Due"), on_pause="shift")
        skip = intent(Kind.EMAIL, person, "skipped-nudge", "Also due")
        shift = replace(shift, key=f"{choice}-s", send_at=planned, occurrence=planned)
        skip = replace(skip, key=f"{choice}-k", send_at=planned, occurrence=planned)
        with loaded_store.session() as session:
            ledger.record(session, [shift, skip], sample_org, NOW)
            preferences.pause(session, person, NOW, PAUSE_END, NOW)
            preferences.choose(session, person, OwnChoices(pause=choice), "person (preference page)", NOW)
        during = engine.deliver_due(loaded_store, OutboxTransport(tmp_path / "out"), SENDER, planned, 100)
        outcomes[choice] = (sorted(k for k, _ in during.shifted), sorted(k for k, _ in during.held_back))
    assert outcomes == {
        PauseChoice.HOLD: ([], ["hold-k", "hold-s"]),
        PauseChoice.SHIFT: (["shift-k", "shift-s"], []),
    }


DAY_ZONES = st.sampled_from(
    ["Europe/Berlin", "America/Sao_Paulo", "America/Havana", "Asia/Beirut", "Pacific/Apia", "UTC"]
)


@given(
    zone=DAY_ZONES,
    first=st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    length=st.integers(min_value=0, max_value=40),
    minutes=st.integers(min_value=-3 * 24 * 60, max_value=45 * 24 * 60),
)
def test_a_pause_of_days_holds_exactly_those_local_days(
    zone: str, first: date, length: int, minutes: int
) -> None:
    """Whatever the timezone and its DST jumps (some at midnight), a pause from one day to another
    holds every moment of those days on the person's clock and none outside them."""
    tz = ZoneInfo(zone)
    last = first + timedelta(days=length)
    start, end = pause_of_days(first, last, tz)
    moment = start + timedelta(minutes=minutes)
    held = hold_for("email", {}, start, end, moment) is not None
    assert held == (first <= moment.astimezone(tz).date() <= last)
