"""From an emitted event to the message in the outbox, against Prefect's own latencies.

    .venv/bin/python bench/event_latency.py [--events 50]

A local Prefect server (started here) and one serving process, set up as `strides serve` sets
itself up: the listener (flows/listen.py) subscribed to Prefect's event stream, running the
`on-event` flow in-process for each strides event. In the same process, for the floors:

- trigger floor: a served `floor` deployment with a deployment trigger on `bench.floor-trigger`
  events, whose flow (bench/floor_flow.py, nothing but Prefect) only writes a marker file: what
  Prefect needs to start a served flow run from an event (a new process per run). This was
  strides' own path before the listener (`event_path = "trigger"`).
- listen floor: a second listener, on `bench.floor-listen` events, running the same empty flow
  in-process: what the listening path costs with no strides work in it.

Events are sent one at a time, round-robin (trigger floor, listen floor, strides), so all three
see the same load; each latency is emit -> file seen (polled every 10 ms). One warm-up event per
path comes first and is not counted (the first in-process run imports the flow's modules).
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import percentile, summary  # noqa: E402
from strides.config import Settings  # noqa: E402
from strides.domain.model import Milestone  # noqa: E402
from strides.flows.serve import local_server  # noqa: E402


def serve(state: Path) -> None:
    """The serving process: strides' listener as `strides serve` runs it, and the two floors."""
    from prefect import serve
    from prefect.deployments.runner import RunnerDeployment
    from prefect.events import DeploymentEventTrigger

    from bench.floor_flow import floor
    from strides.flows.environment import no_heartbeats
    from strides.flows.listen import Incoming, Listener, start_in_thread
    from strides.flows.serve import client_environment

    settings = Settings(state_dir=state, organisation=state / "org", notification_events=False)
    client_environment(os.environ["PREFECT_API_URL"], settings)

    def floor_in_process(_settings: Settings, incoming: Incoming) -> bool:
        with no_heartbeats():
            state_ = floor(folder=str(state), marker=incoming.resource, return_state=True)
        return bool(state_.is_completed())

    quiet = lambda _line: None  # noqa: E731
    start_in_thread(Listener(settings, log=quiet))
    start_in_thread(
        Listener(
            settings, floor_in_process, log=quiet, names=("bench.floor-listen",), resources=("bench.floor",)
        )
    )
    trigger = DeploymentEventTrigger(
        expect={"bench.floor-trigger"},
        match={"prefect.resource.id": "bench.floor.*"},
        parameters={"folder": str(state), "marker": "{{ event.resource.id }}"},
    )
    print("serving", flush=True)
    # `to_deployment` is an async_dispatch method: typed as the deployment or a coroutine, it runs
    # synchronously here (no event loop, no async flow run around it).
    deployment = floor.to_deployment(name="floor", triggers=[trigger])
    assert isinstance(deployment, RunnerDeployment), deployment
    serve(deployment, query_seconds=settings.runner_poll_seconds)


async def send(event: str, resource: str, payload: dict[str, str]) -> None:
    from prefect.events import Event, Resource
    from prefect.events.clients import get_events_client

    async with get_events_client() as client:
        await client.emit(
            Event(event=event, resource=Resource({"prefect.resource.id": resource}), payload=payload)
        )


def wait(condition: Callable[[], bool], limit: float = 60.0) -> float | None:
    """When `condition` came true (perf_counter), or None after `limit` seconds."""
    began = time.perf_counter()
    while not condition():
        if time.perf_counter() - began > limit:
            return None
        time.sleep(0.01)
    return time.perf_counter()


PATHS = ("trigger floor", "listen floor", "strides")


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
        seen: dict[str, list[float]] = {path: [] for path in PATHS}
        missed = dict.fromkeys(PATHS, 0)
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

            def one(path: str, n: str, milestone: Milestone | None = None) -> float | None:
                """Send one event down `path`; its latency, or None if nothing came within 60 s."""
                before = congratulations()
                began = time.perf_counter()
                if path == "strides":
                    assert milestone is not None, "the strides path completes a milestone"
                    event = ("strides.milestone.completed", f"strides.goal.{milestone.goal}")
                    asyncio.run(send(*event, {"milestone": milestone.id}))
                    seen_at = wait(lambda: congratulations() > before)
                else:
                    name = "bench.floor-trigger" if path == "trigger floor" else "bench.floor-listen"
                    marker = f"bench.floor.{path.split()[0]}.{n}"
                    asyncio.run(send(name, marker, {}))
                    seen_at = wait(lambda: (floor_dir / marker).exists())
                return None if seen_at is None else seen_at - began

            try:
                wait(lambda: b"serving" in (state / "serve.log").read_bytes(), 120)
                time.sleep(3)
                # Warm up: the server loads new triggers on its own schedule; the first run in
                # the listening process imports the flow's modules.
                for attempt in range(30):
                    if one("trigger floor", f"warm{attempt}") is not None:
                        break
                warm = {
                    "listen floor": one("listen floor", "warm"),
                    "strides": one("strides", "warm", open_milestones[args.events]),
                }
                print(f"warm-up (not counted): {warm}", flush=True)
                for n, milestone in enumerate(open_milestones[: args.events]):
                    for path in PATHS:
                        latency = one(path, str(n), milestone)
                        if latency is None:
                            missed[path] += 1
                        else:
                            seen[path].append(latency)
                    if (n + 1) % 10 == 0:
                        line = "; ".join(f"{path} {summary(seen[path])}" for path in PATHS)
                        print(f"{n + 1} rounds, load {os.getloadavg()[0]:.1f}: {line}", flush=True)
            finally:
                server.terminate()
                server.wait(timeout=30)
                log.close()
                if any(missed.values()):
                    (ROOT / ".strides").mkdir(exist_ok=True)
                    shutil.copy(state / "serve.log", ROOT / ".strides" / "event_latency-serve.log")
        print(f"load average (1, 5, 15 min): {os.getloadavg()}")
        for path in PATHS:
            print(f"{path + ':':15} {summary(seen[path])}; nothing within 60 s: {missed[path]}")
        for share in (0.5, 0.95):
            tag = f"p{round(share * 100)}"
            strides = percentile(seen["strides"], share)
            listen = percentile(seen["listen floor"], share)
            trigger = percentile(seen["trigger floor"], share)
            print(f"{tag}: strides - listen floor {strides - listen:+.2f} s; ", end="")
            print(f"strides / trigger floor {strides / trigger:.2f}")


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
