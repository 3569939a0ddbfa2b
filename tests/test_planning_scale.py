"""Planning that scales changes how much is read and planned, never what is decided.

- the store's window view (indexed SQL queries, strides/store/window.py) plans what the
  in-memory snapshot plans, and what scanning every record plans;
- shards of a tick together decide exactly what one unsharded run decides;
- a steady-state tick (what falls due, plus the subjects whose records changed) decides what
  planning every meeting again and comparing it with the ledger decides.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from strides import engine
from strides.domain.model import GoalStatus, Milestone, Organisation, Person
from strides.domain.parse import RuleSet
from strides.integrations.org_changes import OrgChange, apply_change
from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from strides.rules.reconcile import Reason
from strides.store import Store, StoreError, snapshot
from strides.store.shards import WHOLE, Shard
from strides.store.tables import MentorshipRow, OrgChangeRow
from strides.store.window import StoreView
from tools.scan_view import ScanView
from tools.synthetic import Shape, generate

from .conftest import at

ORG = generate(Shape(people=150, goals_per_person=3, milestones_per_goal=4), seed=11)
RULES = load_rules()
START = at("2026-11-25 00:00")


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('scale') / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, ORG)
    return store


@pytest.mark.parametrize("days", [0, 4, 7, 11, 21, 36])
@pytest.mark.parametrize("hours", [1, 9, 30])
def test_the_store_view_plans_what_the_snapshot_and_a_full_scan_plan(
    synthetic_store: Store, days: int, hours: int
) -> None:
    window = Window(START + timedelta(days=days), START + timedelta(days=days, hours=hours))
    in_memory = plan(RULES, ORG, window)
    scanned = plan(RULES, ScanView(ORG), window)
    with synthetic_store.session() as session:
        view = StoreView(session)
        from_store = plan(RULES, view, window)
    assert in_memory.intents, "a window with nothing planned proves nothing"
    assert from_store.intents == in_memory.intents == scanned.intents
    assert from_store.skips == in_memory.skips == scanned.skips


@pytest.mark.parametrize("days", [0, 9, 16])
def test_a_settled_plan_from_the_store_matches_the_snapshot(synthetic_store: Store, days: int) -> None:
    """The steady state's inputs (settled, changed subjects) give the same answer either way."""
    window = Window(START + timedelta(days=days), START + timedelta(days=days + 1))
    changed = {f"person:{pid}" for pid in list(ORG.people)[:20]} | {
        f"goal:{gid}" for gid in list(ORG.goals)[:30]
    }
    settled = window.start
    in_memory = plan(RULES, ORG, window, settled=settled, changed=changed)
    scanned = plan(RULES, ScanView(ORG), window, settled=settled, changed=changed)
    with synthetic_store.session() as session:
        view = StoreView(session)
        from_store = plan(RULES, view, window, settled=settled, changed=changed)
    assert from_store.intents == in_memory.intents == scanned.intents
    # Settled: fewer invites than planning every meeting still ahead.
    everything = plan(RULES, ORG, window)
    assert len(in_memory.intents) < len(everything.intents)


def _decided(plan_: engine.WindowPlan) -> tuple[list[str], list[str]]:
    notices = sorted(i.key for i in plan_.notices)
    meetings = sorted(m.key for d in plan_.decisions for m in d.messages)
    return notices, meetings


def _record_day(store: Store, rules: RuleSet, window: Window) -> engine.PlanBasis:
    basis = engine.plan_basis(store, rules)
    outcome = engine.plan_window(store, rules, window, window.end, basis=basis)
    engine.record_tick(store, window.end, window, outcome.planned, engine.DeliveryOutcome(), basis)
    return basis


def _full(basis: engine.PlanBasis) -> engine.PlanBasis:
    return engine.PlanBasis(basis.upto, basis.rules)


# The demo's changes (examples/org-changes.yaml), each on a day its meeting is already invited to.
CHANGES = [
    OrgChange(day=date(2026, 12, 5), goal="g00002", set={"deadline": "2026-12-30"}),
    OrgChange(day=date(2026, 12, 12), goal="g00016", set={"status": "dropped"}),
    OrgChange(day=date(2026, 12, 23), person="p003", set={"mentors": ["p030"]}),
]


def test_a_steady_tick_decides_what_replanning_everything_decides(
    loaded_store: Store, sample_org: Organisation, builtin_rules: RuleSet
) -> None:
    org = sample_org
    now = at("2026-12-03 00:00")
    reasons: set[Reason] = set()
    steady_days = 0
    for _ in range(21):
        window = Window(now, now + timedelta(days=1))
        todays = [c for c in CHANGES if c.day == now.date()]
        for change in todays:
            org = apply_change(org, change)
        if todays:
            with loaded_store.session() as session:
                snapshot.save_organisation(session, org)
        basis = engine.plan_basis(loaded_store, builtin_rules)
        with loaded_store.session() as session:
            steady = engine.decide(session, builtin_rules, window, window.end, basis)
            full = engine.decide(session, builtin_rules, window, window.end, _full(basis))
        assert _decided(steady) == _decided(full), f"day {now:%Y-%m-%d}"
        if basis.seen is not None:
            steady_days += 1
            assert steady.changed is not None and len(steady.changed) < 100
        reasons |= {r for d in steady.decisions for r in d.reasons}
        _record_day(loaded_store, builtin_rules, window)
        if basis.seen is not None:
            # The change log keeps only what the last tick has not read past (and its newest row).
            with loaded_store.session() as session:
                ids = list(session.scalars(select(OrgChangeRow.id).order_by(OrgChangeRow.id)))
            assert all(i > basis.seen for i in ids[:-1])
        now = window.end
    assert steady_days == 20
    # The changes were seen: a moved review, a cancelled one, a new mentor in the check-in.
    assert {Reason.TIME, Reason.UNWANTED, Reason.ATTENDEES} <= reasons


def test_new_rules_plan_everything_again(loaded_store: Store, builtin_rules: RuleSet) -> None:
    window = Window(at("2026-11-30 00:00"), at("2026-12-01 00:00"))
    _record_day(loaded_store, builtin_rules, window)
    assert engine.plan_basis(loaded_store, builtin_rules).seen is not None
    fewer = RuleSet(builtin_rules.rules[1:])
    assert engine.plan_basis(loaded_store, fewer).seen is None


@pytest.mark.parametrize("steady", [False, True])
def test_shards_together_decide_what_one_run_decides(
    loaded_store: Store, sample_org: Organisation, builtin_rules: RuleSet, steady: bool
) -> None:
    window = Window(at("2026-11-30 00:00"), at("2026-12-01 00:00"))
    if steady:
        _record_day(loaded_store, builtin_rules, window)
        with loaded_store.session() as session:
            snapshot.save_organisation(
                session, apply_change(apply_change(sample_org, CHANGES[0]), CHANGES[2])
            )
        window = Window(window.end, window.end + timedelta(days=1))
    basis = engine.plan_basis(loaded_store, builtin_rules)
    assert (basis.seen is not None) == steady
    with loaded_store.session() as session:
        whole = _decided(engine.decide(session, builtin_rules, window, window.end, basis))
        parts = [
            _decided(engine.decide(session, builtin_rules, window, window.end, basis, Shard(i, 5)))
            for i in range(5)
        ]
    notices = [k for part in parts for k in part[0]]
    meetings = [k for part in parts for k in part[1]]
    assert len(notices) == len(set(notices)) and len(meetings) == len(set(meetings))
    assert (sorted(notices), sorted(meetings)) == whole
    assert sum(1 for part in parts if part[0] or part[1]) > 1


def test_a_tick_plans_in_shards_of_plan_chunk_people(loaded_store: Store) -> None:
    assert len(engine.plan_shards(loaded_store, 5000)) == 1
    shards = engine.plan_shards(loaded_store, 10)
    assert len(shards) == 5 and {s.count for s in shards} == {5}


def test_a_steady_tick_of_a_short_window_with_few_changes_plans_in_one_pass(loaded_store: Store) -> None:
    from strides.engine import PlanBasis

    quarter = Window(at("2026-12-01 08:45"), at("2026-12-01 09:00"))
    steady = PlanBasis(upto=12, rules="r", seen=10, settled=quarter.start)
    assert engine.plan_shards(loaded_store, 10, quarter, steady) == [WHOLE]
    # A first tick (nothing seen), a long window, or many changes are sharded as before.
    first = PlanBasis(upto=12, rules="r")
    day = Window(quarter.end - timedelta(days=1), quarter.end)
    many = PlanBasis(upto=500, rules="r", seen=10, settled=quarter.start)
    for window, basis in ((quarter, first), (day, steady), (quarter, many)):
        assert len(engine.plan_shards(loaded_store, 10, window, basis)) == 5


def test_the_window_view_reads_a_part_of_the_organisation(synthetic_store: Store) -> None:
    window = Window(at("2026-12-02 00:00"), at("2026-12-03 00:00"))
    with synthetic_store.session() as session:
        view = StoreView(session)
        plan(RULES, view, window, settled=window.start)
        loaded = len(view.loaded_ids("person"))
    assert 0 < loaded < len(ORG.people)


def test_a_changed_mentor_reaches_their_mentees_by_the_mentorships(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'strides.db'}")
    store.migrate()
    # Someone whose first mentor reaches them as their mentor only (not as manager or report).
    mentee = next(
        p
        for p in ORG.people.values()
        if p.mentors
        and p.manager != p.mentors[0]
        and ORG.people[p.mentors[0]].manager != p.id
        and p.id not in ORG.people[p.mentors[0]].mentors
    )
    mentor = mentee.mentors[0]

    def reached(org: Organisation) -> frozenset[str] | None:
        with store.session() as session:
            snapshot.save_organisation(session, org)
            change = OrgChangeRow(kind="person", ident=mentor, parent=None)
            return StoreView(session).changed_subjects([change])

    assert f"person:{mentee.id}" in (reached(ORG) or ())
    people = dict(ORG.people)
    people[mentee.id] = mentee.model_copy(update={"mentors": mentee.mentors[1:]})
    assert f"person:{mentee.id}" not in (reached(ORG.model_copy(update={"people": people})) or ())
    with store.session() as session:
        pairs = {tuple(row) for row in session.execute(select(MentorshipRow.mentee, MentorshipRow.mentor))}
    assert (mentee.id, mentor) not in pairs


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_tables_match_the_migrations(database: str, tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from strides.store.tables import Base

    from .postgres import throwaway_store

    with ExitStack() as stack:
        if database == "sqlite":
            migrated = Store(f"sqlite:///{tmp_path / 'strides.db'}")
            migrated.migrate()
        else:
            migrated = stack.enter_context(throwaway_store())
        with migrated.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_digest_recipient_is_busy_when_they_own_an_active_goal_or_manage_someone(
    synthetic_store: Store,
) -> None:
    """The view answers it from ids for the people `digest_people` returned, and only for them."""
    reports = {p.manager for p in ORG.people.values() if p.manager}
    owners = {g.owner for g in ORG.goals.values() if g.status is GoalStatus.ACTIVE}
    with synthetic_store.session() as session:
        view = StoreView(session)
        assert view.busy(next(iter(ORG.people))) is None
        asked = [p for zone in view.zones() for day in range(1, 8) for p in view.digest_people(zone, day)]
        assert len(asked) == len(ORG.people)
        for person in asked:
            assert view.busy(person.id) is (person.id in owners or person.id in reports)
    assert any(p.id not in owners | reports for p in asked)


def test_records_read_back_trusted_equal_the_validated_ones(sample_org: Organisation) -> None:
    import orjson

    from strides.store import records

    org = generate(Shape(people=60, goals_per_person=3, milestones_per_goal=4), seed=3)
    for source in (sample_org, org):
        for person in source.people.values():
            assert records.person(person.model_dump_json()) == person
        for goal in source.goals.values():
            assert records.goal(goal.model_dump_json()) == goal
        for milestone in source.milestones.values():
            assert records.milestone(milestone.model_dump_json()) == milestone
        texts = [m.model_dump_json() for m in source.milestones.values()]
        assert records.decode_all(Milestone, texts) == list(source.milestones.values())
    # A stored record with a key the model no longer has reads back without it.
    person = next(iter(org.people.values()))
    assert records.person(orjson.dumps({**person.model_dump(mode="json"), "nickname": "x"})) == person
    hours = {**person.working_hours.model_dump(mode="json"), "lunch": "12:00"}
    old = orjson.dumps({**person.model_dump(mode="json"), "working_hours": hours})
    assert records.person(old) == person
    assert records.decode_all(Person, [old.decode(), person.model_dump_json()]) == [person, person]
    # Every field is set; records share that set, and copying one with a change leaves it be.
    first, second = (records.person(person.model_dump_json()) for _ in range(2))
    assert first.model_copy(update={"name": "Someone Else"}).name == "Someone Else"
    assert second.model_fields_set == set(type(person).model_fields) == first.model_fields_set
    # A record the model cannot read is the store's error, not a validation traceback.
    with pytest.raises(StoreError, match="a stored person cannot be read"):
        records.person(orjson.dumps({**person.model_dump(mode="json"), "name": ""}))


def test_a_meeting_moved_later_by_working_hours_stays_wanted_until_it_starts(builtin_rules: RuleSet) -> None:
    """Sydney 10:00 is 23:00 UTC the day before; the overlap with Kolkata moves it to 14:30.

    A planner that judged "still ahead" by the 10:00 start cancelled the meeting the next day.
    """
    from strides.domain.model import Person

    audit = RuleSet(tuple(r for r in builtin_rules.enabled if r.id == "annual-career-audit"))
    owner = Person(
        id="ana",
        name="Ana",
        email="ana@example.org",
        timezone="Australia/Sydney",
        country="AU",
        manager="ravi",
        hired_on=date(2023, 12, 3),
    )
    manager = Person(id="ravi", name="Ravi", email="ravi@example.org", timezone="Asia/Kolkata", country="IN")
    org = Organisation(people={"ana": owner, "ravi": manager}, goals={}, milestones={})
    first = plan(audit, org, Window(at("2026-12-02 00:00"), at("2026-12-03 00:00"))).intents
    assert {i.meeting.start for i in first if i.meeting} == {at("2026-12-03 03:30")}
    known = {i.meeting.uid: i.subject for i in first if i.meeting}
    second = plan(audit, org, Window(at("2026-12-03 00:00"), at("2026-12-04 00:00")), known=known).intents
    assert {i.meeting.uid for i in second if i.meeting} == set(known)


def test_the_store_view_plans_the_same_on_postgresql(
    sample_org: Organisation, builtin_rules: RuleSet
) -> None:
    """The same migrations and window queries on PostgreSQL; a steady day and shards included."""
    from .postgres import throwaway_database

    with throwaway_database() as url:
        store = Store(url)
        try:
            store.migrate()
            with store.session() as session:
                snapshot.save_organisation(session, sample_org)
            for days in (0, 3, 9):
                window = Window(
                    at("2026-11-30 00:00") + timedelta(days=days),
                    at("2026-12-01 00:00") + timedelta(days=days),
                )
                with store.session() as session:
                    view = StoreView(session)
                    assert plan(builtin_rules, view, window) == plan(builtin_rules, sample_org, window)
            window = Window(at("2026-12-04 00:00"), at("2026-12-05 00:00"))
            _record_day(store, builtin_rules, Window(at("2026-12-03 00:00"), window.start))
            with store.session() as session:
                snapshot.save_organisation(session, apply_change(sample_org, CHANGES[2]))
            basis = engine.plan_basis(store, builtin_rules)
            assert basis.seen is not None
            with store.session() as session:
                steady = _decided(engine.decide(session, builtin_rules, window, window.end, basis))
                full = _decided(engine.decide(session, builtin_rules, window, window.end, _full(basis)))
                parts = [
                    _decided(engine.decide(session, builtin_rules, window, window.end, basis, Shard(i, 3)))
                    for i in range(3)
                ]
            assert steady == full
            assert (sorted(k for p in parts for k in p[0]), sorted(k for p in parts for k in p[1])) == steady
        finally:
            store.engine.dispose()
