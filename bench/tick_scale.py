"""Task runs and Prefect's overhead per tick, for a large synthetic organisation.

    .venv/bin/python bench/tick_scale.py --people 10000 [--rounds 3] [--minutes 15]

Also timed, unless --catch-up: a steady whole day (08:45 to 08:45) planned from the same primed
store as a day's tick plans it, the yardstick the quarter hour's tick is compared with.

A steady-state tick: the organisation is stored in a fresh SQLite store, everything up to
08:45 UTC on Monday 2026-11-30 is planned and marked sent (so the tick does what a tick every
15 minutes does, not a first tick's catch-up), and that store is copied for each run. Then,
in each round (the order alternating), the same tick for 08:45-09:00 runs twice on fresh copies:

- direct: the functions the tick's tasks call (load the rules, plan the window shard by shard as
  the flow's plan tasks do, deliver in waves of tasks on a pool of the same number of threads,
  record the tick), without Prefect;
- flow: the `tick` flow, against a local Prefect server started here (heartbeats off).

Orchestration overhead, two ways, both from the same run:
- outside strides' functions: the flow's wall time during which none of the engine functions the
  tick calls (in its body and its tasks, threads included) was running: what Prefect adds;
- paired difference: best flow wall time - best direct wall time (noisier: two separate runs).
Also reported: the flow's task runs, and its wall time minus the time Prefect measured inside
its tasks. `--chunk 10` makes a small tick use as many delivery tasks as a large one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import update

from strides import engine
from strides.config import Settings
from strides.flows.serve import local_server
from strides.rules import Window
from strides.store import Store, ledger, snapshot
from strides.store.tables import MessageRow
from tools.synthetic import Shape, generate

END = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

P = ParamSpec("P")
R = TypeVar("R")


class Busy:
    """When strides' own functions ran, from inside the tick: the engine calls the flow body and
    its tasks make (threads included). Orchestration overhead = the flow's wall time during which
    none of them was running."""

    def __init__(self) -> None:
        self.spans: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    def timed(self, inner: Callable[P, R]) -> Callable[P, R]:
        """`inner`, its calls recorded."""

        def timed(*args: P.args, **kwargs: P.kwargs) -> R:
            began = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                with self.lock:
                    self.spans.append((began, time.perf_counter()))

        return timed

    def wrap(self, module: Any, name: str) -> None:
        setattr(module, name, self.timed(getattr(module, name)))

    def covered(self, since: float) -> float:
        """Seconds since `since` during which at least one wrapped call was running."""
        total, reach = 0.0, since
        for start, end in sorted(self.spans):
            start = max(start, reach)
            if end > start:
                total += end - start
                reach = end
        return total


BUSY = Busy()


def instrument() -> None:
    import strides.flows.tick as tick_module

    for name in (
        "next_window",
        "plan_basis",
        "plan_shards",
        "plan_window",
        "count_due",
        "drain",
        "record_tick",
    ):
        BUSY.wrap(engine, name)
    BUSY.wrap(tick_module, "load_rules_safely")


async def task_runs(flow_run_id: UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return list(
            await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        )


def prime(settings: Settings, people: int, start: datetime, catch_up: bool) -> None:
    """Store the organisation; plan the day before `start` and mark what was due then as sent
    (unless `catch_up`: then the tick starts from the stored organisation alone)."""
    from strides.integrations.rule_files import load_rules

    began = time.perf_counter()
    org = generate(Shape(people=people))
    store = Store(settings.db_url)
    store.migrate()
    with store.session() as session:
        snapshot.save_organisation(session, org)
    stored = time.perf_counter()
    if catch_up:
        store.engine.dispose()
        print(f"{people} people, {len(org.goals)} goals: stored in {stored - began:.0f} s", flush=True)
        return
    rules = load_rules(settings.rules_dir)
    window = Window(start - timedelta(days=1), start)
    basis = engine.plan_basis(store, rules)
    outcome = engine.plan_window(store, rules, window, start, basis=basis)
    with store.session() as session:
        session.execute(
            update(MessageRow)
            .where(MessageRow.send_at <= start, MessageRow.status == ledger.PENDING)
            .values(status=ledger.SENT, sent_at=start, transport="primed")
        )
    # Recorded as a tick with the basis it planned from, as every tick is: the next tick is then a
    # steady one (what falls due and what changed), not a first tick's replanning of every meeting.
    engine.record_tick(store, start, window, outcome.planned, engine.DeliveryOutcome(), basis)
    store.engine.dispose()
    print(
        f"{people} people, {len(org.goals)} goals: stored in {stored - began:.0f} s, "
        f"the day before {start:%H:%M} planned and marked sent in {time.perf_counter() - stored:.0f} s",
        flush=True,
    )


def copy_state(primed: Path, folder: Path, chunk: int) -> Settings:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copy(primed / "strides.db", folder / "strides.db")
    return Settings(state_dir=folder, notification_events=False, chunk_size=chunk)


def direct(settings: Settings, since: datetime) -> tuple[float, dict[str, float]]:
    """The tick's work without Prefect: the same functions, the same waves, the same threads."""
    from strides.flows.common import THREADS, deliver_in_waves, send_due
    from strides.integrations import rule_files

    # Timed as instrument() times the flow's calls to it (there, in strides.flows.tick).
    load_rules_safely = BUSY.timed(rule_files.load_rules_safely)
    began = time.perf_counter()
    store = Store(settings.db_url)
    window = engine.next_window(store, END, settings.first_window, since)
    assert window is not None
    # As the flow plans: one basis, then each shard with what its task does (the rules loaded,
    # a store opened, the shard planned and recorded by `plan_processes` processes at once), one
    # shard after another.
    basis = engine.plan_basis(store, load_rules_safely(settings.rules_dir, settings.state_dir).rules)
    planned = 0
    for shard in engine.plan_shards(store, settings.plan_chunk, window, basis):
        rules = load_rules_safely(settings.rules_dir, settings.state_dir).rules
        outcome = engine.plan_window(
            Store(settings.db_url),
            rules,
            window,
            END,
            basis=basis,
            shard=shard,
            processes=settings.plan_processes,
        )
        planned += outcome.planned
    with ThreadPoolExecutor(THREADS) as pool:

        def wave(tasks: int, chunks: int) -> list[engine.DeliveryOutcome]:
            return list(pool.map(lambda _: send_due(settings, END, chunks), range(tasks)))

        delivery, tasks = deliver_in_waves(store, END, settings.chunk_size, wave)
    engine.record_tick(store, END, window, planned, delivery)
    wall = time.perf_counter() - began
    return wall, {
        "planned": planned,
        "sent": len(delivery.sent),
        "delivery tasks": tasks,
        "outside strides' functions (s)": round(wall - BUSY.covered(began), 3),
    }


def whole_day(settings: Settings, since: datetime) -> tuple[float, int]:
    """A steady whole day planned from the same store, as a tick of a day's window plans it (the
    basis, then shard by shard in `plan_processes` processes): the yardstick a quarter hour's tick
    is measured against (at most an eighth of it). Nothing is delivered."""
    from strides.integrations.rule_files import load_rules

    began = time.perf_counter()
    store = Store(settings.db_url)
    rules = load_rules(settings.rules_dir)
    window = Window(since, since + timedelta(days=1))
    basis = engine.plan_basis(store, rules)
    planned = 0
    for shard in engine.plan_shards(store, settings.plan_chunk, window, basis):
        outcome = engine.plan_window(
            store, rules, window, window.end, basis=basis, shard=shard, processes=settings.plan_processes
        )
        planned += outcome.planned
    return time.perf_counter() - began, planned


def through_prefect(settings: Settings, since: datetime) -> tuple[float, float, int, dict[str, float]]:
    from strides.flows.environment import no_heartbeats
    from strides.flows.tick import tick

    with no_heartbeats():
        began = time.perf_counter()
        state = tick(now=END, since=since, settings=settings.model_dump(mode="json"), return_state=True)
        wall = time.perf_counter() - began
    report: dict[str, float] = dict(state.result())
    report["outside strides' functions (s)"] = round(wall - BUSY.covered(began), 3)
    assert state.state_details.flow_run_id is not None
    runs = asyncio.run(task_runs(state.state_details.flow_run_id))
    inside = sum(r.total_run_time.total_seconds() for r in runs)
    return wall, inside, len(runs), report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=500, help="chunk_size (smaller: more delivery tasks)")
    parser.add_argument(
        "--no-prime",
        action="store_true",
        help="skip planning the day before (the window's own messages are the same; saves minutes at 100k)",
    )
    parser.add_argument(
        "--catch-up",
        action="store_true",
        help="a first tick instead: nothing primed but the organisation, a day's window, everything due",
    )
    args = parser.parse_args()
    since = END - timedelta(days=1) if args.catch_up else END - timedelta(minutes=args.minutes)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        primed = root / "primed"
        prime(Settings(state_dir=primed), args.people, since, args.catch_up or args.no_prime)
        server_settings = Settings(state_dir=root / "prefect-state")
        with local_server(server_settings) as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            os.environ["PREFECT_HOME"] = str(server_settings.prefect_dir)
            os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
            instrument()  # imports Prefect: only now that PREFECT_API_URL names the server
            directs: list[float] = []
            flows: list[tuple[float, float, int, dict[str, float]]] = []
            # A warm-up flow run: the first one in a process pays Prefect's client start-up.
            through_prefect(copy_state(primed, root / "warm", args.chunk), END)
            for round_ in range(args.rounds):
                for side in ("direct", "flow") if round_ % 2 == 0 else ("flow", "direct"):
                    settings = copy_state(primed, root / f"{side}-{round_}", args.chunk)
                    if side == "direct":
                        wall, report = direct(settings, since)
                        directs.append(wall)
                        print(f"round {round_ + 1} direct: {wall:.2f} s {report}", flush=True)
                    else:
                        flows.append(through_prefect(settings, since))
                        wall, inside, runs, result = flows[-1]
                        print(
                            f"round {round_ + 1} flow:   {wall:.2f} s, {runs} task runs, "
                            f"inside tasks {inside:.2f} s {result}",
                            flush=True,
                        )
            days = []
            if not args.catch_up:
                for round_ in range(args.rounds):
                    wall, planned = whole_day(copy_state(primed, root / f"day-{round_}", args.chunk), since)
                    days.append(wall)
                    print(f"round {round_ + 1} steady whole day planned: {wall:.2f} s, {planned} messages")
        best_flow = min(flows)
        best_direct = min(directs)
        wall, inside, runs, result = best_flow
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
        print(
            f"{args.people} people, tick {since:%H:%M}-{END:%H:%M} UTC: planned {result['planned']}, "
            f"sent {result['sent']}; task runs {runs}"
        )
        outside = [f[3]["outside strides' functions (s)"] for f in flows]
        print(
            f"flow wall time outside strides' functions, per round: {outside} s (best {min(outside):.2f} s)"
        )
        if days:
            print(
                f"best tick {wall:.2f} s against the best steady whole day {min(days):.2f} s: "
                f"{wall / min(days):.3f} of it (goal: at most 1/8 = 0.125)"
            )
        print(
            f"best flow {wall:.2f} s, best direct {best_direct:.2f} s: "
            f"paired difference {wall - best_direct:+.2f} s; "
            f"flow wall - inside tasks {wall - inside:.2f} s "
            f"({(wall - inside) / max(runs, 1) * 1000:.0f} ms per task run)"
        )


if __name__ == "__main__":
    main()
