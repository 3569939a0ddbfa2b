"""Recording a first day's new meetings into the ledger: in batches, against one at a time.

    .venv/bin/python bench/record_first_day.py [--people 5000] [--rounds 2]

Plans one day (2026-11-30) of the built-in pack for a synthetic organisation, reconciles the
wanted meetings against an empty ledger (every one is new), and records the decisions with
`strides.store.invites.apply` into a fresh SQLite store two ways in the same run: the batched
path a tick takes, and the peer, one decision at a time (the path updates and cancels take).
Each side keeps its best round; the run fails unless both record the same messages.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from strides.domain.model import Organisation
from strides.integrations.rule_files import load_rules_safely
from strides.rules import Window, plan
from strides.rules.reconcile import Decision, reconcile
from strides.store import Store, invites, snapshot
from tools.synthetic import Shape, generate


def _record(
    org: Organisation, decisions: list[Decision], now: datetime, one_at_a_time: bool
) -> tuple[int, float]:
    store = Store(f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    started = time.perf_counter()
    with store.session() as session:
        if one_at_a_time:
            recorded = sum(invites.apply(session, [d], org, now) for d in decisions)
        else:
            recorded = invites.apply(session, decisions, org, now)
    return recorded, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    org = generate(Shape(people=args.people))
    rules = load_rules_safely(None, Path(tempfile.mkdtemp())).rules
    window = Window(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    wanted = [i for i in plan(rules, org, window).intents if i.meeting is not None]
    decisions = reconcile(wanted, [], window, window.end)
    print(f"{args.people} people: {len(decisions)} new meetings")
    best = {"batched": float("inf"), "one at a time": float("inf")}
    counts = set()
    for round_ in range(args.rounds):
        order = ["batched", "one at a time"] if round_ % 2 == 0 else ["one at a time", "batched"]
        for label in order:
            recorded, seconds = _record(org, decisions, window.end, label == "one at a time")
            counts.add(recorded)
            best[label] = min(best[label], seconds)
            print(f"  round {round_ + 1}, {label}: {recorded} messages in {seconds:.2f} s")
    if len(counts) != 1:
        raise SystemExit(f"the two ways recorded different numbers of messages: {sorted(counts)}")
    ratio = best["one at a time"] / best["batched"]
    batched, single = best["batched"], best["one at a time"]
    print(f"best: batched {batched:.2f} s, one at a time {single:.2f} s ({ratio:.1f}x)")


if __name__ == "__main__":
    main()
