"""`strides plan` lists what a deployment's ticks would send over the horizon: the preview
(`rules.preview.ticked`) against the engine ticking every 15 minutes into a real store."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from strides import engine
from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.integrations.org_files import load_organisation
from strides.integrations.rule_files import load_rules
from strides.rules import Window
from strides.rules.preview import TICK, ticked
from strides.store import Store, ledger, snapshot

from .conftest import FIXTURES, SAMPLE_ORG

START = datetime(2026, 11, 30, tzinfo=UTC)


def _ticks(store: Store, rules: RuleSet, start: datetime, end: datetime) -> set[tuple[str, str, datetime]]:
    """Tick the engine every 15 minutes from `start` (the first tick plans from there) to `end`:
    what each tick planned into the ledger, as (rule, recipient, occurrence)."""
    moment = start
    while moment < end:
        now = moment + TICK
        window = engine.next_window(store, now, TICK, since=start if moment == start else None)
        assert window is not None
        basis = engine.plan_basis(store, rules)
        outcome = engine.plan_window(store, rules, window, now, basis=basis)
        engine.record_tick(store, now, window, outcome.planned, engine.DeliveryOutcome(), basis)
        moment = now
    with store.session() as session:
        rows = ledger.messages(session)
    return {(r.rule_id, r.recipient, r.occurrence) for r in rows}


def _ticks_of(
    folder: Path, org: Organisation, rules: RuleSet, start: datetime, end: datetime
) -> set[tuple[str, str, datetime]]:
    """`_ticks` over `org` stored afresh in `folder`."""
    store = Store(f"sqlite:///{folder / 'strides.db'}")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    try:
        return _ticks(store, rules, start, end)
    finally:
        store.engine.dispose()


def _preview(
    rules: RuleSet, org: Organisation, start: datetime, end: datetime
) -> set[tuple[str, str, datetime]]:
    planned = ticked(rules, org, Window(start, end))
    return {(i.rule_id, i.recipient, i.occurrence) for i in planned.intents}


@pytest.mark.parametrize(
    ("org_folder", "rules_folder", "days", "start"),
    [
        (SAMPLE_ORG, None, 1, START),
        (FIXTURES / "org-small", None, 3, START),
        (FIXTURES / "org-small", FIXTURES / "rules-repeat", 5, START),
        (FIXTURES / "org-small", FIXTURES / "rules-skips", 3, START),
        (FIXTURES / "org-small", FIXTURES / "rules-business", 4, START + timedelta(days=14)),
    ],
    ids=["sample-1d", "small-3d", "repeat-ladder-5d", "skips-3d", "business-days-4d"],
)
def test_the_preview_lists_what_ticks_every_15_minutes_plan(
    tmp_path: Path, org_folder: Path, rules_folder: Path | None, days: int, start: datetime
) -> None:
    org = load_organisation(org_folder).organisation
    rules = load_rules(rules_folder) if rules_folder else load_rules()
    end = start + timedelta(days=days)
    ticks = _ticks_of(tmp_path, org, rules, start, end)
    preview = _preview(rules, org, start, end)
    assert ticks, "the horizon plans something"
    assert sorted(preview - ticks) == [] and sorted(ticks - preview) == []


# -- the property: random organisations, rule sets and horizons -------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from strides.domain.model import Goal, Milestone, Person, WorkingHours  # noqa: E402

ZONES = [
    ("Europe/Berlin", "DE", "BE"),
    ("America/New_York", "US", "NY"),
    ("Asia/Tokyo", "JP", None),
    ("Australia/Sydney", "AU", "NSW"),
    ("Asia/Kolkata", "IN", None),
]
RULE_SETS = [None, FIXTURES / "rules-repeat", FIXTURES / "rules-business", FIXTURES / "rules-quiet"]


@st.composite
def organisations(draw: st.DrawFn, start: datetime) -> Organisation:
    """One to three people in different timezones and countries, each perhaps with a manager and
    a mentor among the others, and goals and milestones due around the horizon (some done)."""
    count = draw(st.integers(1, 3))
    people: dict[str, Person] = {}
    for n in range(count):
        zone, country, subdivision = draw(st.sampled_from(ZONES))
        others = [f"p{k}" for k in range(n)]
        people[f"p{n}"] = Person(
            id=f"p{n}",
            name=f"Person {n}",
            email=f"p{n}@example.com",
            timezone=zone,
            country=country,
            subdivision=subdivision,
            manager=draw(st.sampled_from([None, *others])),
            mentors=tuple(draw(st.lists(st.sampled_from(others), max_size=1))) if others else (),
            working_hours=WorkingHours(start=draw(st.sampled_from([time(8), time(9)])), end=time(17)),
            hired_on=(start + timedelta(days=draw(st.integers(-400, 40)))).date(),
        )
    goals: dict[str, Goal] = {}
    milestones: dict[str, Milestone] = {}
    day = st.integers(-10, 70).map(lambda d: (start + timedelta(days=d)).date())
    for pid in people:
        # The first person has a goal with a milestone at least, so every rule kind has a subject.
        for g in range(draw(st.integers(1 if pid == "p0" else 0, 2))):
            gid = f"g-{pid}-{g}"
            goals[gid] = Goal(
                id=gid,
                owner=pid,
                title=f"Goal {g}",
                deadline=draw(day),
                created_at=start - timedelta(days=30),
            )
            for m in range(draw(st.integers(1 if (pid, g) == ("p0", 0) else 0, 2))):
                done = draw(st.booleans())
                milestones[f"m-{gid}-{m}"] = Milestone(
                    id=f"m-{gid}-{m}",
                    goal=gid,
                    title=f"Step {m}",
                    due=draw(day),
                    completed_at=start - timedelta(days=1) if done else None,
                )
    return Organisation(people=people, goals=goals, milestones=milestones)


@st.composite
def cases(draw: st.DrawFn) -> tuple[datetime, int, Organisation]:
    # Starts around the daylight-saving changes of both hemispheres.
    start = draw(st.sampled_from([datetime(2026, 10, 20, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)]))
    start += timedelta(days=draw(st.integers(0, 20)))
    return start, draw(st.integers(1, 60)), draw(organisations(start))


# Each example ticks the engine every 15 minutes for up to 60 days (about 12 ms a tick): few
# examples per rule set, each a different organisation and horizon, the same ones every run.
@pytest.mark.parametrize(
    "rules_folder", RULE_SETS, ids=["builtin", "repeat-ladder", "business-days", "calendar-quiet-inhibit"]
)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(case=cases())
def test_the_preview_is_the_ticks_for_any_organisation_rules_and_horizon(
    rules_folder: Path | None, case
) -> None:
    import tempfile

    start, days, org = case
    rules = load_rules(rules_folder) if rules_folder else load_rules()
    end = start + timedelta(days=days)
    with tempfile.TemporaryDirectory() as folder:
        ticks = _ticks_of(Path(folder), org, rules, start, end)
    preview = _preview(rules, org, start, end)
    assert sorted(preview - ticks) == [] and sorted(ticks - preview) == []
