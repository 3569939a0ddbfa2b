"""From an emitted event to the message in the outbox, against Prefect's own trigger latency.

    .venv/bin/python bench/event_latency.py [--events 50]

A local Prefect server (started here) and one serving process: strides' deployments plus a
`floor` deployment whose flow only writes a marker file, triggered by a `bench.floor` event.
Events are sent one at a time, a floor event then a strides event, so both see the same load;
each latency is emit -> file seen (polled every 10 ms). The floor is what Prefect itself needs to
start a served flow from an event, measured in the same run. The serving process serves as
`strides serve` does (polling for runs every `runner_poll_seconds`).
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


def serve(state: Path) -> None:
    """The serving process: strides' deployments and the floor, as `strides serve` serves them."""
    from prefect import serve
    from prefect.events import DeploymentEventTrigger

    from bench.floor_flow import floor
    from strides.deployments import SPECS
    from strides.serve import build, client_environment

    settings = Settings(state_dir=state, organisation=state / "org", notification_events=False)
    client_environment(os.environ["PREFECT_API_URL"], settings)
    trigger = DeploymentEventTrigger(
        expect={"bench.floor"},
        match={"prefect.resource.id": "bench.floor.*"},
        parameters={"folder": str(state), "marker": "{{ event.resource.id }}"},
    )
    print("serving", flush=True)
    serve(
        # Only the event-driven deployment: scheduled ticks would load the machine mid-run.
        *(build(spec, settings) for spec in SPECS if spec.triggers),
        floor.to_deployment(name="floor", triggers=[trigger]),
        query_seconds=settings.runner_poll_seconds,
    )


async def send(event: str, resource: str, payload: dict[str, str]) -> None:
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    async with get_events_client() as client:
        await client.emit(Event(event=event, resource={"prefect.resource.id": resource}, payload=payload))


def wait(condition, limit: float = 60.0) -> float | None:
    """When `condition` came true (perf_counter), or None after `limit` seconds."""
    began = time.perf_counter()
    while not condition():
        if time.perf_counter() - began > limit:
            return None
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
        rules = without_quiet_hours(state / "rules")
        settings = Settings(state_dir=state, organisation=state / "org", rules_dir=rules)
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
        floor: list[float] = []
        strides: list[float] = []
        missed = {"floor": 0, "strides": 0}
        with local_server(settings) as api_url:
            env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(settings.prefect_dir)}
            env["STRIDES_RULES_DIR"] = str(rules)
            env["PREFECT_LOGGING_LEVEL"] = "WARNING"
            os.environ.update({k: env[k] for k in ("PREFECT_API_URL", "PREFECT_HOME")})
            log = (state / "serve.log").open("wb")
            server = subprocess.Popen(
                [sys.executable, __file__, "--serve", str(state)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            floor_dir = state / "floor"
            outbox = state / "outbox"

            def congratulations() -> int:
                return len(list(outbox.glob("*milestone-congratulation*"))) if outbox.exists() else 0

            try:
                wait(lambda: b"serving" in (state / "serve.log").read_bytes(), 120)
                time.sleep(3)
                # Warm up: the server loads new triggers on its own schedule.
                for attempt in range(30):
                    asyncio.run(send("bench.floor", f"bench.floor.warm{attempt}", {}))
                    if wait(lambda a=attempt: (floor_dir / f"bench.floor.warm{a}").exists(), 5):
                        break
                # Interleaved, one event at a time: the floor and strides see the same load.
                for n, milestone in enumerate(open_milestones[: args.events]):
                    began = time.perf_counter()
                    asyncio.run(send("bench.floor", f"bench.floor.{n}", {}))
                    seen = wait(lambda n=n: (floor_dir / f"bench.floor.{n}").exists())
                    if seen is None:
                        missed["floor"] += 1
                    else:
                        floor.append(seen - began)
                    before = congratulations()
                    began = time.perf_counter()
                    event = ("strides.milestone.completed", f"strides.goal.{milestone.goal}")
                    asyncio.run(send(*event, {"milestone": milestone.id}))
                    seen = wait(lambda b=before: congratulations() > b)
                    if seen is None:
                        missed["strides"] += 1
                    else:
                        strides.append(seen - began)
                    if (n + 1) % 10 == 0:
                        print(
                            f"{n + 1} events: floor {summary(floor)}; strides {summary(strides)}", flush=True
                        )
            finally:
                server.terminate()
                server.wait(timeout=30)
                log.close()
                if any(missed.values()):
                    (ROOT / ".strides").mkdir(exist_ok=True)
                    shutil.copy(state / "serve.log", ROOT / ".strides" / "event_latency-serve.log")
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
        print(f"floor (empty flow):   {summary(floor)}; no file within 60 s: {missed['floor']}")
        print(f"strides (to outbox):  {summary(strides)}; no file within 60 s: {missed['strides']}")
        from bench._common import percentile

        print(f"p50 strides - floor: {percentile(strides, 0.5) - percentile(floor, 0.5):+.2f} s")
        print(f"p95 strides - floor: {percentile(strides, 0.95) - percentile(floor, 0.95):+.2f} s")


def without_quiet_hours(folder: Path) -> Path:
    """The built-in rule pack, its congratulation sent at once whatever the hour (the pack holds
    it back overnight in the owner's time zone, which would measure the clock, not strides)."""
    import yaml

    folder.mkdir(parents=True)
    for path in (ROOT / "rules" / "builtin").glob("*.yaml"):
        pack = yaml.safe_load(path.read_text())
        for rule in pack.get("rules", []):
            if rule.get("id") == "milestone-congratulation":
                rule.get("calendar", {}).pop("quiet_hours", None)
        (folder / path.name).write_text(yaml.safe_dump(pack, sort_keys=False, allow_unicode=True))
    return folder


if __name__ == "__main__":
    main()
