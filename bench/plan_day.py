"""Benchmark: plan one day of the built-in pack for a large synthetic organisation held in a store.

Two days are measured, each in the same run three ways (rounds interleaved, each side's best kept):
- (a) a first day: an empty ledger, no earlier tick (every meeting still ahead is planned);
- (b) a steady-state day: the ledger holds the previous day's plans and a few records changed
  since (deadlines moved, goals dropped, mentors changed, milestones completed).
The three ways:
- floor: the bare indexed window queries of what the day touches: the very statements the
  planner's store view ran (recorded as they went to the database), replayed, rows fetched raw
  (no decoding, no planning);
- peer: a naive evaluation of every rule over every record: every record read from the store
  (timed apart, with the store's own decoding), then the planner over `tools/scan_view.py`,
  where every window question is a scan of all of them and every narrowing hint is ignored
  (every cadence walks every person of every timezone, every recurrence parsed and walked from its
  start per record with dateutil), every meeting still ahead planned again
  and compared with all the upcoming meetings of the ledger (read in the timing). Reported
  twice: from the store (read + evaluate, what a naive engine in a deployment pays) and in
  memory (the evaluation alone, as if handed the organisation);
- planner: `strides.engine.decide`: the store's window view, planning what falls due plus the
  subjects whose records changed, reconciled with those subjects' meetings.
Every side runs with Python's cyclic garbage collector paused (as `engine.decide` pauses it), and
reads SQLite through the same memory map and page cache (`strides.speed.mapped_reads`, as
`engine.decide` does).
Planner and peer must decide exactly the same messages (the run fails otherwise). Usage:

    .venv/bin/python bench/plan_day.py --people 100000 --out bench/results-100k.json
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from unittest.mock import patch

from dateutil.rrule import rrulestr
from sqlalchemy import event, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import SERVER, throwaway_postgres
from strides import engine
from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.domain.parse import RuleSet
from strides.integrations.rule_files import load_rules
from strides.rules import Window, plan
from strides.rules.planning.kinds import cadence
from strides.rules.reconcile import reconcile
from strides.speed import at_once, collector_paused, mapped_reads
from strides.store import Store, invites, ledger, records, snapshot
from strides.store.bookings import StoreBookings
from strides.store.shards import WHOLE, Shard
from strides.store.tables import GoalRow, MilestoneRow, PersonRow
from tools.scan_view import ScanView
from tools.synthetic import Shape, generate

M = TypeVar("M", Person, Goal, Milestone)


def timed(label: str, fn: Callable[[], Any]) -> tuple[Any, float]:
    gc.collect()
    # The benchmark's own organisation (millions of objects, kept for the peer) would make every
    # full collection walk it: a tick's process holds no such thing. And every side runs with
    # the cyclic collector paused, as `engine.decide` pauses it for the planner: the ratios
    # compare the work, not the collector.
    gc.freeze()
    start = time.perf_counter()
    with collector_paused():
        result = fn()
    took = time.perf_counter() - start
    print(f"  {label:<44} {took:8.3f} s", flush=True)
    return result, took


# -- the floor: the planner's own window queries, rows only -----------------------------------------

# The store view reads people, goals, milestones and mentorships; the rest of `engine.decide` (the
# ledger's keys, the meetings sent, the change log) is not the planner's window questions.
_NOT_THE_VIEWS = re.compile(r"\b(messages|invites|org_changes|ticks)\b")
Recorded = list[tuple[str, Any]]


def recording(store: Store) -> tuple[Recorded, Callable[[], None]]:
    """Record every SELECT of the store view's that reaches the database from now on (every
    connection, every thread), as the driver receives it; returns the list and a function that
    stops recording."""
    ran: Recorded = []

    def record(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not _NOT_THE_VIEWS.search(statement):
            ran.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    return ran, lambda: event.remove(store.engine, "before_cursor_execute", record)


def floor(store: Store, statements: Recorded) -> int:
    """Replay the statements as recorded, fetching raw rows (nothing decoded by SQLAlchemy)."""
    rows = 0
    with store.session() as session, mapped_reads(session):
        connection = session.connection()
        for statement, parameters in statements:
            rows += len(connection.exec_driver_sql(statement, parameters).all())
    return rows


# -- the peer: every rule over every record ---------------------------------------------------------


def read_everything(store: Store) -> Organisation:
    """Every record of the store, as a naive engine in a deployment reads them before it plans.

    The store's decoding of stored records (strides.store.records), each table's as one list, rows
    fetched with core statements: the cheapest honest way to read the whole organisation.
    """
    with store.session() as session, mapped_reads(session):
        connection = session.connection()

        def every(model: type[M], table: Any) -> dict[str, M]:
            rows = connection.execute(select(*records.stored(table))).all()
            found = records.decode_all(model, [text for _, text in rows])
            return {ident: record for (ident, _), record in zip(rows, found, strict=True)}

        people, goals = every(Person, PersonRow), every(Goal, GoalRow)
        milestones = every(Milestone, MilestoneRow)
    return Organisation.model_construct(people=people, goals=goals, milestones=milestones)


def naive_days(rrule: str, starts: date, first: date, last: date) -> tuple[date, ...]:
    """Every recurrence parsed and walked from its start, per record, no cache."""
    rule = rrulestr(rrule, dtstart=datetime.combine(starts, datetime.min.time()))
    begin = datetime.combine(max(first, starts), datetime.min.time())
    return tuple(d.date() for d in rule.between(begin, datetime.combine(last, datetime.min.time()), inc=True))


def naive(store: Store, rules: RuleSet, org: Organisation, window: Window) -> tuple[list[str], list[str]]:
    # The peer walks recurrences as a naive engine does (dateutil, from the start, every record):
    # the cadence kind's walk is swapped for the time of the peer's run only.
    with (
        patch.object(cadence, "recurrence_days", naive_days),
        store.session() as session,
        mapped_reads(session),
    ):
        already = ledger.keys_between(
            session, window.start - timedelta(days=1), window.end + engine.lookahead(rules), notices=True
        )
        known = {m.uid: m for m in invites.upcoming(session, after=window.start)}
        # Meetings are placed against what their attendees are booked for, as the engine does.
        result = plan(
            rules,
            ScanView(org),
            window,
            already,
            known={uid: m.subject for uid, m in known.items()},
            bookings=StoreBookings(session),
        )
        wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
        sent = [*known.values(), *invites.load(session, wanted.keys() - known.keys())]
        decisions = reconcile(wanted.values(), sent, window, window.end)
    notices = sorted(i.key for i in result.intents if i.meeting is None)
    return notices, sorted(m.key for d in decisions for m in d.messages)


def planned(
    store: Store, rules: RuleSet, window: Window, basis: engine.PlanBasis
) -> tuple[engine.WindowPlan, Recorded]:
    """The one-process planner, its view's statements recorded for the floor (a list append a
    statement: a few hundred a day)."""
    statements, stop = recording(store)
    try:
        with store.session() as session:
            return engine.decide(session, rules, window, window.end, basis), statements
    finally:
        stop()


def keys(decided: engine.WindowPlan) -> tuple[list[str], list[str]]:
    notices = sorted(i.key for i in decided.notices)
    return notices, sorted(m.key for d in decided.decisions for m in d.messages)


def _part_keys(
    url: str, rules: RuleSet, window: Window, basis: engine.PlanBasis, part: Shard, held: list[Any]
) -> tuple[list[str], list[str]]:
    """As `engine.plan_window` plans a part of its shard beside the others: the part's keys.

    The plan is held (in this process: a child's goes with it), so that letting it go is timed
    on no side: the one-process planner's plan is let go after its timing too.
    """
    with Store(url).session() as session:
        decided = engine.decide(session, rules, window, window.end, basis, part, one_rule_at_a_time=True)
    held.append(decided)
    return keys(decided)


def planned_at_once(
    store: Store, rules: RuleSet, window: Window, basis: engine.PlanBasis, processes: int
) -> tuple[list[tuple[list[str], list[str]]], list[Any]]:
    """The day as a tick plans it with `plan_processes`: the whole split into that many shards,
    decided at once, the last in this process and the others each in a process forked for it
    (strides.speed), their keys sent back (a tick's processes record theirs instead;
    recording is not timed on either side). The parts' keys, and the plan held here."""
    held: list[Any] = []
    jobs = [
        partial(_part_keys, store.url, rules, window, basis, part, held) for part in WHOLE.split(processes)
    ]
    return at_once(jobs), held


def _plan_round(
    store: Store, rules: RuleSet, window: Window, basis: engine.PlanBasis, processes: int, round_: int
) -> dict[str, Any]:
    """One round of the planner both ways and the floor, timed in the lean process (`Lean`).

    The two planners take turns at going first: the first after the peer's reading of every
    record finds the store's caches holding the peer's pages, not the planner's.
    """
    sides: list[tuple[str, str, Callable[[], Any]]] = [
        (
            "planner",
            f"{processes} processes",
            lambda: planned_at_once(store, rules, window, basis, processes),
        ),
        ("planner_one_process", "one process", lambda: planned(store, rules, window, basis)),
    ]
    found: dict[str, Any] = {}
    for name, how, run in sides if round_ % 2 == 0 else sides[::-1]:
        found[name] = timed(f"planner, {how} (round {round_ + 1})", run)
    decided: engine.WindowPlan
    decided, statements = found["planner_one_process"][0]
    fetched, took = timed(
        f"floor: the planner's queries, bare (round {round_ + 1})", partial(floor, store, statements)
    )
    return {
        "seconds": {
            "planner": found["planner"][1],
            "planner_one_process": found["planner_one_process"][1],
            "floor": took,
        },
        "at_once_keys": (
            sorted(k for part in found["planner"][0][0] for k in part[0]),
            sorted(k for part in found["planner"][0][0] for k in part[1]),
        ),
        "keys": keys(decided),
        "rows_fetched_by_floor": fetched,
        "changed_subjects": None if decided.changed is None else len(decided.changed),
        "intents_planned": len(decided.result.intents),
        "loaded_by_planner": {**decided.view.loaded(), "statements": len(statements)},
    }


class Lean:
    """A process forked before the organisation is generated, where the planner and the floor are
    timed: as lean as a tick's process, which holds no organisation.

    This process, which generated the organisation and reads all of it for the peer, keeps
    much of that memory (freed objects' pages stay with the allocator). A process forked from a
    large one plans slower: on a prepared 100,000-person SQLite steady day, two processes took
    1.04 s forked from a lean process and 1.30 s forked from one holding 30 million strings (one
    process: 1.90 and 2.07 s).
    """

    def __init__(self, store: Store, rules: RuleSet) -> None:
        context = multiprocessing.get_context("fork")
        self._pipe, theirs = context.Pipe()
        self._process = context.Process(target=self._serve, args=(theirs, store, rules), daemon=True)
        self._process.start()

    @staticmethod
    def _serve(pipe: Any, store: Store, rules: RuleSet) -> None:
        while (request := pipe.recv()) is not None:
            try:
                pipe.send((True, _plan_round(store, rules, *request)))
            except BaseException:
                pipe.send((False, traceback.format_exc()))

    def plan_round(
        self, window: Window, basis: engine.PlanBasis, processes: int, round_: int
    ) -> dict[str, Any]:
        self._pipe.send((window, basis, processes, round_))
        ok, answer = self._pipe.recv()
        if not ok:
            raise SystemExit(f"planning in the lean process failed:\n{answer}")
        return dict(answer)

    def close(self) -> None:
        self._pipe.send(None)
        self._process.join()


def measure(
    label: str,
    store: Store,
    rules: RuleSet,
    sizes: tuple[int, int, int],
    window: Window,
    rounds: int,
    processes: int,
    lean: Lean,
) -> dict[str, Any]:
    print(f"{label}: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC", flush=True)
    basis = engine.plan_basis(store, rules)
    best = {
        "floor": float("inf"),
        "planner": float("inf"),
        "planner_one_process": float("inf"),
        "peer": float("inf"),
        "peer_read": float("inf"),
        "peer_from_store": float("inf"),
    }
    found: dict[str, Any] = {}
    peer: tuple[list[str], list[str]] = ([], [])
    same = True
    for round_ in range(rounds):
        found = lean.plan_round(window, basis, processes, round_)
        for side, took in found["seconds"].items():
            best[side] = min(best[side], took)
        everything, read = timed(
            f"peer: read every record (round {round_ + 1})", lambda: read_everything(store)
        )
        if _sizes(everything) != sizes:
            raise SystemExit("the store does not hold the organisation the benchmark saved")
        peer, took = timed(
            f"peer: every rule over every record (round {round_ + 1})",
            partial(naive, store, rules, everything, window),
        )
        del everything
        best["peer"] = min(best["peer"], took)
        best["peer_read"] = min(best["peer_read"], read)
        best["peer_from_store"] = min(best["peer_from_store"], read + took)
        mine = tuple(found["keys"])
        same = same and mine == peer == tuple(found["at_once_keys"])
    print(f"  same messages: {same} ({len(mine[0])} notices, {len(mine[1])} invite messages)", flush=True)
    return {
        "window": [window.start.isoformat(), window.end.isoformat()],
        "steady": basis.seen is not None,
        "changed_subjects": found["changed_subjects"],
        "intents_planned": found["intents_planned"],
        "notices": len(mine[0]),
        "invite_messages": len(mine[1]),
        "rows_fetched_by_floor": found["rows_fetched_by_floor"],
        "loaded_by_planner": found["loaded_by_planner"],
        "seconds": {k: round(v, 3) for k, v in best.items()},
        "processes": processes,
        "ratios": {
            "peer_from_store_over_planner": round(best["peer_from_store"] / best["planner"], 1),
            "peer_over_planner": round(best["peer"] / best["planner"], 1),
            "planner_over_floor": round(best["planner"] / best["floor"], 2),
            "peer_from_store_over_planner_one_process": round(
                best["peer_from_store"] / best["planner_one_process"], 1
            ),
            "planner_one_process_over_floor": round(best["planner_one_process"] / best["floor"], 2),
        },
        "same_messages": same,
    }


def _sizes(org: Organisation) -> tuple[int, int, int]:
    return len(org.people), len(org.goals), len(org.milestones)


def change_some(org: Organisation, count: int, seed: int) -> tuple[Organisation, dict[str, int]]:
    """A few records changed: deadlines moved, goals dropped, mentors changed, milestones completed."""
    rng = random.Random(seed)
    goals = dict(org.goals)
    people = dict(org.people)
    milestones = dict(org.milestones)
    active = sorted(g.id for g in goals.values() if g.status is GoalStatus.ACTIVE and g.deadline)
    for gid in rng.sample(active, count):
        goal = goals[gid]
        assert goal.deadline is not None
        goals[gid] = goal.model_copy(update={"deadline": goal.deadline + timedelta(days=rng.randint(3, 20))})
    for gid in rng.sample(active, count // 2):
        goals[gid] = goals[gid].model_copy(update={"status": GoalStatus.DROPPED})
    ids = sorted(people)
    for pid in rng.sample(ids, count // 2):
        mentor = rng.choice(ids)
        if mentor != pid:
            people[pid] = people[pid].model_copy(update={"mentors": (mentor,)})
    open_ = sorted(m.id for m in milestones.values() if m.completed_at is None)
    moment = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    for mid in rng.sample(open_, count):
        milestones[mid] = milestones[mid].model_copy(update={"completed_at": moment})
    changed = Organisation.model_construct(people=people, goals=goals, milestones=milestones)
    return changed, {"deadlines_moved": count, "goals_dropped": count // 2, "mentors_changed": count // 2}


def _commit() -> str | None:
    """The commit measured (with "+" when the tree has changes), if this is a git checkout."""
    try:
        here = Path(__file__).parent
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
        )
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=here, capture_output=True, text=True)
    except OSError:
        return None
    return head.stdout.strip() + ("+" if dirty.stdout.strip() else "") if head.returncode == 0 else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--goals-per-person", type=float, default=3.0)
    parser.add_argument("--milestones-per-goal", type=float, default=4.0)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 12, 2))
    parser.add_argument(
        "--changes", type=int, default=40, help="deadlines moved (half as many drops, mentors)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="processes the planner plans the day in at once, as a tick with `plan_processes` "
        "that many (default 2); the one-process planner is measured too",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the store: a SQLite file (the default), or a throwaway database on the PostgreSQL "
        f"server at {SERVER} (created and dropped by the run)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with ExitStack() as stack:
        if args.database == "postgresql":
            url = stack.enter_context(throwaway_postgres())
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="strides-bench-")))
            url = f"sqlite:///{folder / 'strides.db'}"
        return run(args, url)


def run(args: argparse.Namespace, url: str) -> int:

    print(
        f"strides plan-one-day benchmark: {args.people} people, day {args.day}, {args.database}", flush=True
    )
    shape = Shape(
        people=args.people,
        goals_per_person=args.goals_per_person,
        milestones_per_goal=args.milestones_per_goal,
    )
    rules = load_rules()
    store = Store(url)
    store.migrate()
    # Forked now, before anything of the organisation is made: the planner is timed there.
    lean = Lean(store, rules)
    org, took_generate = timed("generate organisation", lambda: generate(shape, seed=args.seed))
    sizes = _sizes(org)
    print(f"  {sizes[0]} people, {sizes[1]} goals, {sizes[2]} milestones", flush=True)

    def load(org: Organisation) -> None:
        with store.session() as session:
            snapshot.save_organisation(session, org)

    _, took_load = timed(f"load the organisation into the store ({args.database})", partial(load, org))
    # Nothing of the organisation stays in this process while the peer is timed (it reads its own
    # copy in each round, and lets it go after); the planner is timed in `lean`, which never held
    # it, as a tick's process. In a separate script, holding the generated organisation slowed
    # `decide` on the prepared 100,000-person steady day (PostgreSQL) from 1.31-1.39 s to
    # 1.55-1.71 s.
    del org
    start = datetime.combine(args.day, datetime.min.time(), UTC)
    first = Window(start, start + timedelta(days=1))
    results: dict[str, Any] = {
        "first_day": measure(
            "(a) first day, empty ledger", store, rules, sizes, first, args.rounds, args.processes, lean
        )
    }

    def record_first_day() -> None:
        basis = engine.plan_basis(store, rules)
        outcome = engine.plan_window(store, rules, first, first.end, basis=basis)
        engine.record_tick(store, first.end, first, outcome.planned, engine.DeliveryOutcome(), basis)

    _, took_record = timed("record the first day into the ledger (setup)", record_first_day)

    def save_changes() -> dict[str, int]:
        # Changed from what the store holds (the organisation saved above).
        changed, what = change_some(read_everything(store), args.changes, args.seed)
        with store.session() as session:
            snapshot.save_organisation(session, changed)
        return what

    what, took_changes = timed("change a few records and save them (setup)", save_changes)
    second = Window(first.end, first.end + timedelta(days=1))
    results["steady_day"] = measure(
        "(b) steady day, after a few changes",
        store,
        rules,
        sizes,
        second,
        args.rounds,
        args.processes,
        lean,
    )
    lean.close()
    result = {
        "database": args.database,
        "people": sizes[0],
        "goals": sizes[1],
        "milestones": sizes[2],
        "day": args.day.isoformat(),
        "changes": what,
        "rounds": args.rounds,
        **results,
        "setup_seconds": {
            "generate": round(took_generate, 1),
            "load_store": round(took_load, 1),
            "record_first_day": round(took_record, 1),
            "save_changes": round(took_changes, 1),
        },
        "load_average": os.getloadavg(),
        "commit": _commit(),
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    same = all(r["same_messages"] for r in results.values())
    store.engine.dispose()  # before a throwaway PostgreSQL database is dropped
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
