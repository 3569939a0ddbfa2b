"""A tick whose tasks run on a Dask LocalCluster, as its own process (run with `python -m`).

Dask starts its worker processes by re-importing the main module, so a LocalCluster works only
from a script under an `if __name__ == "__main__":` guard (shared/FIELD-NOTES.md). Prints the
tick's report and its task runs as JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID


async def task_names(flow_run_id: UUID) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async with get_client() as client:
        runs = await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
    return sorted(run.name.rsplit("-", 1)[0] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--organisation", type=Path, required=True)
    parser.add_argument("--now", type=datetime.fromisoformat, required=True)
    parser.add_argument("--since", type=datetime.fromisoformat, required=True)
    parser.add_argument("--chunk", type=int, default=5)
    args = parser.parse_args()

    from strides.config import Settings
    from strides.flows.common import task_runner
    from strides.flows.environment import no_heartbeats
    from strides.flows.tick import tick

    settings = Settings(
        state_dir=args.state,
        organisation=args.organisation,
        chunk_size=args.chunk,
        task_runner="dask",
        notification_events=False,
    )
    runner = task_runner(settings)
    with no_heartbeats():
        state = tick.with_options(task_runner=runner)(
            now=args.now, since=args.since, settings=settings.model_dump(mode="json"), return_state=True
        )
    report: dict[str, Any] = state.result()
    report["runner"] = type(runner).__name__
    report["tasks"] = asyncio.run(task_names(state.state_details.flow_run_id))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
