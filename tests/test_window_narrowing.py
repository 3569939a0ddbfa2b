"""Narrowed window queries still find everything that fires, in every timezone.

The store's window view reads anchors by the days their moment can fall on in each owner's
timezone, only open milestones for escalations and reminders, only the inhibiting milestones
that can be open and firing, and digests by their time of day (strides/store/window.py,
strides/rules/planning/). Each narrowing may only drop what cannot fire: planning from the narrowed
view must equal planning from the whole snapshot and from a scan of every record, for people
spread over timezones from UTC-11 to UTC+14 (half and quarter hours, both hemispheres'
daylight-saving changes), digests at any time of day, and windows of any length and start.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from strides.domain.model import DigestPreferences, Organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from strides.rules.calendar import local_moment
from strides.rules.planning.timing import days_at, wall_minutes
from strides.speed import two_at_once
from strides.store import Store, snapshot
from strides.store.shards import Shard
from strides.store.window import StoreView
from tools.scan_view import ScanView
from tools.synthetic import Shape, generate

ZONES = (
    "Pacific/Pago_Pago",  # UTC-11
    "America/Los_Angeles",
    "America/St_Johns",  # UTC-3:30, DST
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Kolkata",  # UTC+5:30
    "Asia/Kathmandu",  # UTC+5:45
    "Asia/Tokyo",
    "Australia/Lord_Howe",  # a half-hour daylight-saving change
    "Australia/Sydney",
    "Pacific/Chatham",  # UTC+12:45 / +13:45
    "Pacific/Kiritimati",  # UTC+14
)
# Around 2027-03-28 Europe and Lord Howe/Sydney (in April) change their clocks; North America on
# March 14, Chatham on April 4.
AS_OF = date(2027, 3, 24)
RULES = load_rules()


def _spread(org: Organisation, seed: int) -> Organisation:
    """The generated organisation with its people moved around the world, digests at any time."""
    rng = random.Random(seed)
    people = {}
    for pid, person in org.people.items():
        at = time(rng.randrange(24), rng.choice((0, 15, 30, 45)))
        digest = DigestPreferences(weekday=rng.randint(1, 7), at=at, enabled=rng.random() > 0.1)
        people[pid] = person.model_copy(update={"timezone": rng.choice(ZONES), "digest": digest})
    return Organisation.model_construct(people=people, goals=org.goals, milestones=org.milestones)


ORG = _spread(generate(Shape(people=160, goals_per_person=3, milestones_per_goal=4), seed=5, as_of=AS_OF), 5)


@pytest.fixture(scope="module")
def world_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('world') / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, ORG)
    return store


def _both_ways(store: Store, window: Window, **steady: object) -> None:
    in_memory = plan(RULES, ORG, window, **steady)
    scanned = plan(RULES, ScanView(ORG), window, **steady)
    with store.session() as session:
        view = StoreView(session)
        narrowed = plan(RULES, view, window, **steady)
    assert narrowed.intents == in_memory.intents == scanned.intents
    assert narrowed.skips == in_memory.skips == scanned.skips


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    day=st.integers(min_value=-12, max_value=16),
    minutes=st.integers(min_value=0, max_value=24 * 60 - 1),
    hours=st.sampled_from([1, 3, 24, 30]),
)
# A meeting after Chatham's clocks go back (2027-04-04) whose wall-clock send time, ten days
# earlier, falls a minute before the window's end: an hour inside it, not outside.
@example(day=0, minutes=856, hours=30)
def test_a_narrowed_view_plans_what_every_record_plans(
    world_store: Store, day: int, minutes: int, hours: int
) -> None:
    start = datetime.combine(AS_OF, time(0), UTC) + timedelta(days=day, minutes=minutes)
    _both_ways(world_store, Window(start, start + timedelta(hours=hours)))


@pytest.mark.parametrize("day", [-3, 0, 4, 5, 11])
def test_a_narrowed_steady_day_plans_what_every_record_plans(world_store: Store, day: int) -> None:
    """In the steady state the invites' days start at `settled` plus their lead."""
    start = datetime.combine(AS_OF + timedelta(days=day), time(0), UTC)
    window = Window(start, start + timedelta(days=1))
    changed = {f"person:{p}" for p in list(ORG.people)[:10]} | {f"goal:{g}" for g in list(ORG.goals)[::40]}
    _both_ways(world_store, window, settled=start - timedelta(hours=7), changed=changed)


def test_the_narrowed_view_reads_a_fraction_of_what_fires_nearby(world_store: Store) -> None:
    """The narrowing is real: a day's queries read fewer milestones than three days of them."""
    start = datetime.combine(AS_OF, time(0), UTC)
    window = Window(start, start + timedelta(days=1))
    with world_store.session() as session:
        view = StoreView(session)
        plan(RULES, view, window)
        read = view.loaded_ids("milestone")
    nearby = {
        m.id
        for m in ORG.milestones.values()
        if abs((m.due - AS_OF).days) <= 2 and ORG.goals[m.goal].status.value == "active"
    }
    assert read, "a day with no milestone read proves nothing"
    assert len(read & nearby) < len(nearby)


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    at=st.times(),
    low=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
)
def test_the_days_of_a_moment_are_exactly_those_whose_moment_falls_in_range(
    zone: str, at: time, low: datetime, span: timedelta
) -> None:
    tz = ZoneInfo(zone)
    first, last = days_at(tz, at, low, low + span)
    around = [low.date() + timedelta(days=n) for n in range(-3, span.days + 4)]
    wanted = [d for d in around if low <= local_moment(d, at, tz) < low + span]
    assert wanted == [d for d in around if first <= d <= last]


@settings(max_examples=200, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 1, 1)),
    low=st.integers(min_value=-30 * 60, max_value=30 * 60),
    span=st.integers(min_value=0, max_value=30 * 60),
)
def test_the_digest_minutes_hold_every_time_of_day_that_falls_in_range(
    zone: str, day: date, low: int, span: int
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), UTC) + timedelta(minutes=low)
    end = start + timedelta(minutes=span)
    first, last = wall_minutes(day, tz, start, end)
    for minute in range(0, 24 * 60, 5):
        moment = local_moment(day, time(minute // 60, minute % 60), tz)
        if start <= moment < end:
            assert first <= minute <= last, (minute, moment)


def test_reminders_an_escalation_holds_back_are_reported_without_reading_their_records(
    world_store: Store,
) -> None:
    """A reminder whose goal holds a milestone long overdue (its escalation has certainly fired)
    is only reported as inhibited: the view sets it aside without reading its goal, and the
    skips are those of planning from every record."""
    set_aside: set[str] = set()
    for day in range(8):
        start = datetime.combine(AS_OF + timedelta(days=day), time(0), UTC)
        window = Window(start, start + timedelta(days=1))
        in_memory = plan(RULES, ORG, window)
        with world_store.session() as session:
            view = StoreView(session)
            narrowed = plan(RULES, view, window)
            read = view.loaded_ids("goal")
        assert narrowed.intents == in_memory.intents
        assert narrowed.skips == in_memory.skips
        inhibited = {s.subject for s in in_memory.skips if s.reason.startswith("inhibited by")}
        set_aside |= {s for s in inhibited if s.startswith("goal:") and s.removeprefix("goal:") not in read}
    assert set_aside, "no reminder was set aside: this proves nothing"


def test_a_column_kept_off_sqlites_indexes_is_the_column_itself_on_postgresql() -> None:
    """SQLite's planner has no statistics: an expression keeps it on the date index. PostgreSQL's
    weighs indexes by statistics, and the expression hid them (it walked whole timezones)."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql, sqlite

    from strides.store.tables import PersonRow
    from strides.store.window_queries import unindexed

    query = select(PersonRow.id).where(
        unindexed(PersonRow.timezone).in_(["Asia/Tokyo"]), unindexed(PersonRow.bucket) < 5
    )
    literal = {"literal_binds": True}
    on_sqlite = str(query.compile(dialect=sqlite.dialect(), compile_kwargs=literal))
    on_postgresql = str(query.compile(dialect=postgresql.dialect(), compile_kwargs=literal))
    assert "(people.timezone || '') IN ('Asia/Tokyo')" in on_sqlite
    assert "(people.bucket + 0) < 5" in on_sqlite
    assert "people.timezone IN ('Asia/Tokyo')" in on_postgresql
    assert "people.bucket < 5" in on_postgresql


def test_rules_planned_two_at_once_share_the_view_safely(world_store: Store) -> None:
    """Two threads planning rules from one view (strides.engine on PostgreSQL), the view's own
    through the session's connection and the other through one of its own, plan what one thread
    plans; the other's connection is closed."""
    start = datetime.combine(AS_OF, time(0), UTC)
    for window in (Window(start, start + timedelta(days=1)), Window(start, start + timedelta(days=9))):
        with world_store.session() as session:
            view = StoreView(session)
            alone = plan(RULES, view, window)
        with world_store.session() as session:
            view = StoreView(session)
            together = plan(RULES, view, window, run_rules=two_at_once)
            assert view.other_connections, "the threads read through connections of their own"
            view.close()
            assert not view.other_connections
        assert together == alone
        assert together.intents


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "read",
    [
        lambda view, goal, person: view.milestones_of(goal.id),
        lambda view, goal, person: view.goals_of(person.id),
        lambda view, goal, person: view.reports_of(person.id),
        lambda view, goal, person: view.open_milestones_of(goal.id, date(2100, 1, 1), LONG_AGO),
    ],
    ids=["milestones of a goal", "goals of a person", "reports of a person", "open dues of a goal"],
)
def test_a_list_still_being_read_by_one_thread_is_not_seen_by_another(world_store: Store, read) -> None:
    """A goal's milestones (an owner's goals, a manager's reports, a goal's open dues) appear in
    the shared view once read whole: another thread asking meanwhile reads them itself."""
    goal = next(g for g in ORG.goals.values() if len(ORG.milestones_of(g.id)) > 1)
    person = next(p for p in ORG.people.values() if ORG.reports_of(p.id) and ORG.goals_of(p.id))
    reading, release = threading.Event(), threading.Event()

    def slow(*_: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            reading.set()  # read, not yet published
            release.wait(10)

    with world_store.session() as session:
        view = StoreView(session)
        with world_store.session() as other:
            expected = read(StoreView(other), goal, person)
        assert expected
        event.listen(world_store.engine, "after_cursor_execute", slow)
        worker = threading.Thread(target=read, args=(view, goal, person))
        worker.start()
        try:
            assert reading.wait(10)
            assert read(view, goal, person) == expected
        finally:
            release.set()
            worker.join()
            event.remove(world_store.engine, "after_cursor_execute", slow)
            view.close()
        assert read(view, goal, person) == expected


_MIDNIGHT = datetime.combine(AS_OF, time(0), UTC)


def _plan_of(store: Store, read: Callable[[StoreView], object], shard: Shard) -> str:
    """SQLite's query plan of the statement a view runs for `read`, with its parameters."""
    ran: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
        ran.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.session() as session:
            read(StoreView(session, shard))
            statement, parameters = ran[-1]
            rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            return "\n".join(str(row[-1]) for row in rows)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


@pytest.mark.parametrize(
    ("read", "index"),
    [
        (lambda view: list(view.goals_due(AS_OF, AS_OF + timedelta(days=2))), "ix_goals_deadline_bucket"),
        (
            lambda view: list(view.milestones_due(AS_OF, AS_OF + timedelta(days=2), open_at=_MIDNIGHT)),
            "ix_milestones_due_bucket",
        ),
    ],
    ids=["goals by deadline", "milestones by due day"],
)
def test_a_shard_finds_its_due_records_through_an_index_that_holds_the_bucket(
    world_store: Store, read: Callable[[StoreView], object], index: str
) -> None:
    # Other shards' records are then passed over in the index, not read row by row: a shard's
    # part of a day costs its share, not the whole day's reading (docs/benchmark.md).
    plan_text = _plan_of(world_store, read, Shard(1, 4))
    assert f"USING INDEX {index} (" in plan_text, plan_text
