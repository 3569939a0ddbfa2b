"""Task runs and Prefect's overhead per tick, for a large synthetic organisation.

    .venv/bin/python bench/tick_scale.py --people 10000 --hours 1

A fresh SQLite store holds the organisation; one `tick` flow runs against a local Prefect
server (started here) for a window of HOURS ending Monday 2026-11-30 09:00 UTC, when digests
and reminders fall due. Reported: task runs in the tick, the flow's wall time, the time spent
inside tasks (Prefect's own measure), and the difference: orchestration overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from strides.config import Settings
from strides.serve import local_server
from strides.store import Store, snapshot
from strides.synthetic import Shape, generate

END = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def task_runs(flow_run_id: object) -> list[object]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        return list(
            await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(state_dir=Path(folder) / "state", notification_events=False)
        started = time.perf_counter()
        org = generate(Shape(people=args.people))
        store = Store(settings.db_url)
        store.migrate()
        with store.session() as session:
            snapshot.save_organisation(session, org)
        print(f"{args.people} people, {len(org.goals)} goals stored in {time.perf_counter() - started:.0f} s")
        with local_server(settings) as api_url:
            os.environ["PREFECT_API_URL"] = api_url
            os.environ["PREFECT_HOME"] = str(settings.prefect_dir)
            from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

            from strides.flows.tick import tick

            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
                began = time.perf_counter()
                state = tick(
                    now=END,
                    since=END - timedelta(hours=args.hours),
                    settings=settings.model_dump(mode="json"),
                    return_state=True,
                )
                wall = time.perf_counter() - began
            report = state.result()
            runs = asyncio.run(task_runs(state.state_details.flow_run_id))
            inside = sum(r.total_run_time.total_seconds() for r in runs)
            print(f"tick: {report}")
            overhead = wall - inside
            per_run = overhead / max(len(runs), 1) * 1000
            print(
                f"task runs: {len(runs)}; flow wall time {wall:.1f} s; inside tasks {inside:.1f} s; "
                f"orchestration overhead {overhead:.2f} s ({per_run:.0f} ms per task run)"
            )


if __name__ == "__main__":
    main()
