"""Benchmark: plan one day of the built-in pack for a large synthetic organisation.

In the same run it measures
- the floor: bare indexed window queries (SQLite, stdlib) fetching only the records the day
  can touch: goals and milestones whose dates fall in each rule's offset windows, the people of
  the timezones where a cadence falls, the people whose digest day it is;
- the peer: a naive evaluation of every rule over every record (the same planner, with its date
  indexes replaced by full scans and its recurrence cache switched off);
- the planner: `strides.rules.plan` with its date indexes (index build reported separately).
The planner and the peer must produce the same messages; the ratios are printed and written
to a JSON file. Usage:

    .venv/bin/python bench/plan_day.py --people 100000 --day 2026-12-02 --out bench/results.json
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from dateutil.rrule import rrulestr

from strides.model import GoalStatus, Organisation
from strides.rules import Window, plan
from strides.rules import index as index_module
from strides.rules import planner as planner_module
from strides.rules.index import OrgIndex, ScanIndex
from strides.rules.schema import (
    Anchor,
    AnchorTrigger,
    CadenceAnchor,
    CadenceTrigger,
    DigestTrigger,
    EscalationTrigger,
    Kind,
)
from strides.ruleset import load_rules
from strides.synthetic import Shape, generate


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    took = time.perf_counter() - start
    print(f"  {label:<34} {took:8.3f} s", flush=True)
    return result, took


# -- the floor: indexed window queries -------------------------------------------------------------


def load_sqlite(org: Organisation) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE people (id TEXT PRIMARY KEY, tz TEXT, digest_day INT, hired TEXT);
        CREATE TABLE goals (id TEXT PRIMARY KEY, owner TEXT, deadline TEXT, created TEXT, active INT);
        CREATE TABLE milestones (id TEXT PRIMARY KEY, goal TEXT, due TEXT, done INT);
        """
    )
    db.executemany(
        "INSERT INTO people VALUES (?,?,?,?)",
        ((p.id, p.timezone, p.digest.weekday, str(p.hired_on)) for p in org.people.values()),
    )
    db.executemany(
        "INSERT INTO goals VALUES (?,?,?,?,?)",
        (
            (
                g.id,
                g.owner,
                str(g.deadline) if g.deadline else None,
                g.created_at.date().isoformat(),
                int(g.status is GoalStatus.ACTIVE),
            )
            for g in org.goals.values()
        ),
    )
    db.executemany(
        "INSERT INTO milestones VALUES (?,?,?,?)",
        ((m.id, m.goal, str(m.due), int(m.done)) for m in org.milestones.values()),
    )
    db.executescript(
        """
        CREATE INDEX goals_deadline ON goals (active, deadline);
        CREATE INDEX goals_created ON goals (active, created);
        CREATE INDEX milestones_due ON milestones (done, due);
        CREATE INDEX people_tz ON people (tz);
        CREATE INDEX people_digest ON people (tz, digest_day);
        """
    )
    return db


MILESTONES_DUE = (
    "SELECT m.*, g.owner FROM milestones m JOIN goals g ON g.id = m.goal"
    " WHERE m.done = 0 AND g.active = 1 AND m.due BETWEEN ? AND ?"
)


def window_queries(db: sqlite3.Connection, rules, window: Window) -> int:  # type: ignore[no-untyped-def]
    """Fetch what the day can touch, rule by rule; returns the number of rows fetched."""
    rows = 0
    first = (window.start - timedelta(days=1)).date()
    for rule in rules.enabled:
        trigger = rule.trigger
        lead = rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)
        last = (window.end + lead + timedelta(days=1)).date()
        if isinstance(trigger, AnchorTrigger) and trigger.anchor is not Anchor.PERSON_HIRED:
            for offset in trigger.offsets:
                lo, hi = str(first - offset), str(last - offset)
                if trigger.anchor is Anchor.MILESTONE_DUE:
                    sql = MILESTONES_DUE
                elif trigger.anchor is Anchor.GOAL_DEADLINE:
                    sql = "SELECT * FROM goals WHERE active = 1 AND deadline BETWEEN ? AND ?"
                else:
                    sql = "SELECT * FROM goals WHERE active = 1 AND created BETWEEN ? AND ?"
                rows += len(db.execute(sql, (lo, hi)).fetchall())
        elif isinstance(trigger, EscalationTrigger):
            for step in trigger.steps:
                lo, hi = str(first - step.after), str(last - step.after)
                rows += len(db.execute(MILESTONES_DUE, (lo, hi)).fetchall())
        elif isinstance(trigger, CadenceTrigger) and trigger.anchor is CadenceAnchor.ORGANISATION:
            zones = [z for (z,) in db.execute("SELECT DISTINCT tz FROM people")]
            for zone in zones:
                tz = planner_module._zone(trigger.timezone or zone)
                lo = (window.start - timedelta(days=10)).astimezone(tz).date()
                hi = (window.end + lead + timedelta(days=9)).astimezone(tz).date()
                if planner_module._recurrence_days(trigger.every, trigger.starts, lo, hi):
                    rows += len(db.execute("SELECT * FROM people WHERE tz = ?", (zone,)).fetchall())
        elif isinstance(trigger, CadenceTrigger):
            rows += len(db.execute("SELECT * FROM people WHERE hired IS NOT NULL").fetchall())
        elif isinstance(trigger, DigestTrigger):
            days = {(window.start + timedelta(hours=h)).isoweekday() for h in range(-24, 48)}
            for day in days:
                rows += len(db.execute("SELECT * FROM people WHERE digest_day = ?", (day,)).fetchall())
    return rows


# -- the peer: every rule over every record --------------------------------------------------------


def naive_days(rrule: str, starts: date, first: date, last: date) -> tuple[date, ...]:
    """Every recurrence parsed and walked from its start, per record, no cache."""
    rule = rrulestr(rrule, dtstart=datetime.combine(starts, datetime.min.time()))
    begin = datetime.combine(max(first, starts), datetime.min.time())
    return tuple(d.date() for d in rule.between(begin, datetime.combine(last, datetime.min.time()), inc=True))


def naive_plan(rules, org: Organisation, window: Window):  # type: ignore[no-untyped-def]
    original_days = planner_module._recurrence_days
    planner_module._recurrence_days = naive_days  # type: ignore[assignment]
    try:
        return plan(rules, org, window, index=ScanIndex(org))
    finally:
        planner_module._recurrence_days = original_days


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--goals-per-person", type=float, default=3.0)
    parser.add_argument("--milestones-per-goal", type=float, default=4.0)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 12, 2))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    print(f"strides plan-one-day benchmark: {args.people} people, day {args.day}", flush=True)
    shape = Shape(
        people=args.people,
        goals_per_person=args.goals_per_person,
        milestones_per_goal=args.milestones_per_goal,
    )
    org, took_generate = (
        timed("generate organisation", generate, shape, seed=args.seed)
        if False
        else timed("generate organisation", lambda: generate(shape, seed=args.seed))
    )
    print(f"  {len(org.people)} people, {len(org.goals)} goals, {len(org.milestones)} milestones", flush=True)
    rules = load_rules()
    start = datetime.combine(args.day, datetime.min.time(), UTC)
    window = Window(start, start + timedelta(days=1))

    db, _ = timed("load SQLite (not timed below)", load_sqlite, org)
    fetched, floor = timed("floor: bare window queries", window_queries, db, rules, window)
    built, took_index = timed("planner: build date indexes", OrgIndex.build, org)
    index_module._CACHE[id(org)] = built
    planned, took_plan = timed("planner: plan the day", plan, rules, org, window)
    naive, took_naive = timed("peer: naive, every rule x record", naive_plan, rules, org, window)

    same = [i.key for i in planned.intents] == [i.key for i in naive.intents]
    result = {
        "people": len(org.people),
        "goals": len(org.goals),
        "milestones": len(org.milestones),
        "day": args.day.isoformat(),
        "messages": len(planned.intents),
        "skips": len(planned.skips),
        "rows_fetched_by_floor": fetched,
        "seconds": {
            "generate": round(took_generate, 3),
            "floor_window_queries": round(floor, 3),
            "planner_index_build": round(took_index, 3),
            "planner_plan": round(took_plan, 3),
            "naive": round(took_naive, 3),
        },
        "ratios": {
            "naive_over_planner": round(took_naive / took_plan, 1),
            "planner_over_floor": round(took_plan / floor, 2),
        },
        "same_messages": same,
        "python": sys.version.split()[0],
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
