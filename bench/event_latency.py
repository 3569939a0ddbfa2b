"""From an emitted event to the message in the outbox, against Prefect's own trigger latency.

    .venv/bin/python bench/event_latency.py [--events 50]

A local Prefect server (started here) and one serving process: strides' deployments plus a
`floor` deployment whose flow only writes a marker file, triggered by a `bench.floor` event.
Events are sent one at a time; each latency is emit -> file seen (polled every 10 ms). The floor
is what Prefect itself needs to start a served flow from an event, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import summary  # noqa: E402
from strides.config import Settings  # noqa: E402
from strides.serve import local_server  # noqa: E402


def floor(folder: str, marker: str) -> None:
    """The empty flow of the floor: leave a marker file, nothing else."""
    Path(folder, "floor").mkdir(exist_ok=True)
    Path(folder, "floor", marker).touch()


def serve(state: Path) -> None:
    """The serving process: strides' deployments and the floor."""
    from prefect import flow, serve
    from prefect.events import DeploymentEventTrigger

    from strides.deployments import SPECS
    from strides.serve import build

    floor_flow = flow(name="floor")(floor)

    settings = Settings(state_dir=state, organisation=state / "org", notification_events=False)
    trigger = DeploymentEventTrigger(
        expect={"bench.floor"},
        match={"prefect.resource.id": "bench.floor.*"},
        parameters={"folder": str(state), "marker": "{{ event.resource.id }}"},
    )
    print("serving", flush=True)
    serve(
        *(build(spec, settings) for spec in SPECS), floor_flow.to_deployment(name="floor", triggers=[trigger])
    )


async def send(event: str, resource: str, payload: dict[str, str]) -> None:
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    async with get_events_client() as client:
        await client.emit(Event(event=event, resource={"prefect.resource.id": resource}, payload=payload))


def wait(condition, limit: float = 60.0) -> float:
    began = time.perf_counter()
    while not condition():
        if time.perf_counter() - began > limit:
            raise TimeoutError
        time.sleep(0.01)
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--serve", type=Path)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        shutil.copytree(ROOT / "examples" / "org", state / "org")
        settings = Settings(state_dir=state, organisation=state / "org")
        from strides.integrations.org_files import load_organisation
        from strides.store import Store, snapshot

        org = load_organisation(state / "org").organisation
        store = Store(settings.db_url)
        store.migrate()
        with store.session() as session:
            snapshot.save_organisation(session, org)
        open_milestones = [
            m
            for m in org.milestones.values()
            if m.completed_at is None and org.goals[m.goal].status == "active"
        ]
        assert len(open_milestones) > args.events, len(open_milestones)
        with local_server(settings) as api_url:
            env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(settings.prefect_dir)}
            env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"
            env["PREFECT_LOGGING_LEVEL"] = "WARNING"
            os.environ.update({k: env[k] for k in ("PREFECT_API_URL", "PREFECT_HOME")})
            log = (state / "serve.log").open("wb")
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", str(state)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                wait(lambda: b"serving" in (state / "serve.log").read_bytes(), 120)
                time.sleep(3)
                floor_dir = state / "floor"
                # Warm up: the server loads new triggers on its own schedule.
                for attempt in range(30):
                    asyncio.run(send("bench.floor", f"bench.floor.warm{attempt}", {}))
                    try:
                        wait(lambda a=attempt: (floor_dir / f"bench.floor.warm{a}").exists(), 5)
                        break
                    except TimeoutError:
                        continue
                floor: list[float] = []
                for n in range(args.events):
                    began = time.perf_counter()
                    asyncio.run(send("bench.floor", f"bench.floor.{n}", {}))
                    floor.append(wait(lambda n=n: (floor_dir / f"bench.floor.{n}").exists()) - began)
                print(f"floor (empty flow):   {summary(floor)}", flush=True)
                outbox = state / "outbox"

                def congratulations() -> int:
                    return len(list(outbox.glob("*milestone-congratulation*"))) if outbox.exists() else 0

                strides: list[float] = []
                for milestone in open_milestones[: args.events]:
                    before = congratulations()
                    began = time.perf_counter()
                    asyncio.run(
                        send(
                            "strides.milestone.completed",
                            f"strides.goal.{milestone.goal}",
                            {"milestone": milestone.id},
                        )
                    )
                    strides.append(wait(lambda b=before: congratulations() > b) - began)
            finally:
                server.terminate()
                server.wait(timeout=30)
                log.close()
        print(f"strides (to outbox):  {summary(strides)}")
        from bench._common import percentile

        print(f"p95 ratio strides/floor: {percentile(strides, 0.95) / percentile(floor, 0.95):.2f}")


if __name__ == "__main__":
    main()
