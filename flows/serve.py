"""`strides serve`: every deployment from one process, against a Prefect server.

The embedded default starts a local Prefect server (SQLite, its home in the state folder) and
stops it on exit; with an API URL (option or PREFECT_API_URL) it uses that server instead.
Environment decisions happen here, before Prefect is imported.
"""

from __future__ import annotations

import importlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from strides.config import Settings
from strides.flows import FlowError, server, shutdown
from strides.flows.deployments import REACTS_TO, SPECS, Spec


class ServeError(FlowError, RuntimeError):
    """The Prefect server did not come up, or the deployments could not be served."""


@contextmanager
def local_server(settings: Settings, port: int | None = None) -> Iterator[str]:
    """The kept local server when one is running (left running afterwards); else start
    `prefect server start` on 127.0.0.1 for this process, yield its API URL, stop it afterwards.

    While it runs, the server is recorded as the kept one, so `strides run` and the other commands
    use it rather than start a second server on the same database."""
    running = server.find(settings)
    if running is not None and port is None:
        yield running.api_url
        return
    port = port or server.free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = settings.prefect_dir / server.LOG
    process = server.start_process(settings, port)
    # In a session of its own, the server would outlive a forced exit of this process (os._exit
    # runs no `finally`): registered, that exit stops it first.
    with shutdown.stopped_on_forced_exit(process):
        try:
            server.wait_until_healthy(process, api_url, log_path)
            server.record(settings, process.pid, api_url)
            yield api_url
        finally:
            server.forget(settings, process.pid)
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def client_environment(api_url: str, settings: Settings) -> None:
    """Point this process at the server, polling for runs every `runner_poll_seconds` (default 1 s:
    Prefect's default of 10 s adds up to 10 s to every triggered run)."""
    os.environ["PREFECT_API_URL"] = api_url
    os.environ["PREFECT_RUNNER_POLL_FREQUENCY"] = str(settings.runner_poll_seconds)


def triggers_of(spec: Spec, settings: Settings) -> tuple[dict[str, Any], ...]:
    """The deployment's event triggers, unless the serving process listens for the events itself."""
    return spec.triggers if settings.event_path == "trigger" else ()


def build(spec: Spec, settings: Settings) -> Any:
    """The RunnerDeployment of `spec`, its flows given strides' settings as a parameter."""
    from prefect.events import DeploymentEventTrigger

    from strides.flows.common import task_runner

    flow = getattr(importlib.import_module(spec.module), spec.function)
    if settings.task_runner != "thread":
        flow = flow.with_options(task_runner=task_runner(settings))
    return flow.to_deployment(
        name=spec.name,
        description=spec.description,
        cron=spec.cron,
        triggers=[DeploymentEventTrigger(**trigger) for trigger in triggers_of(spec, settings)] or None,
        concurrency_limit=spec.concurrency_limit,
        parameters={**spec.parameters, "settings": settings.model_dump(mode="json", exclude={"hr_secret"})},
        tags=["strides"],
    )


def serve(settings: Settings, api_url: str | None = None, limit: int | None = None) -> None:
    """Serve every deployment until interrupted; starts (and stops) a local server if none is given."""
    from strides.flows.environment import prepare

    prepare(settings, quiet=False)
    shutdown.install(settings.stop_grace_seconds)
    api_url = api_url or os.environ.get("PREFECT_API_URL")
    if api_url:
        if not server.healthy(api_url):
            raise ServeError(f"no healthy Prefect server at {api_url}")
        _serve_on(settings, api_url, limit)
        return
    with local_server(settings) as local_url:
        _serve_on(settings, local_url, limit)


def _serve_on(settings: Settings, api_url: str, limit: int | None) -> None:
    client_environment(api_url, settings)
    from strides.engine.intake import sync
    from strides.store import Store

    store = Store(settings.db_url)
    store.migrate()
    if settings.organisation.is_dir():
        # Start from the source as it is now; later changes arrive through the sync deployment.
        sync(store, settings.organisation)
    if settings.event_path == "listen":
        from strides.flows.listen import Listener, start_in_thread

        def listening() -> None:
            print(f"strides: listening for {', '.join(REACTS_TO)} events", flush=True)

        # Events are handled in this process (a real on-event flow run each), not by a trigger.
        start_in_thread(Listener(settings), listening)
    print(f"strides: serving {len(SPECS)} deployments against {api_url}", flush=True)
    _run_deployments([build(spec, settings) for spec in SPECS], limit, settings.runner_poll_seconds)


def _run_deployments(deployments: list[Any], limit: int | None, poll_seconds: int) -> None:
    """What `prefect.serve` does, with strides' SIGTERM handler kept in place.

    `Runner.start` installs `runner.handle_sigterm` as the SIGTERM handler; Prefect's own stops
    the runner and raises SystemExit from inside the handler, which Python drops when the signal
    lands in a weakref callback (the process then serves on). This runner's is strides' instead.
    """
    import asyncio

    from prefect.runner import Runner

    class StridesRunner(Runner):
        def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
            shutdown.on_sigterm(*args)

    runner = StridesRunner(pause_on_shutdown=True, limit=limit, query_seconds=poll_seconds)
    for deployment in deployments:
        runner.add_deployment(deployment)
    names = ", ".join(f"{deployment.flow_name}/{deployment.name}" for deployment in deployments)
    print(f"strides: deployments being served: {names}", flush=True)
    # KeyboardInterrupt (Ctrl-C, or SIGTERM through strides' handler) ends the runner's loop: asyncio
    # cancels its tasks, and the runner pauses its schedules on the way out.
    asyncio.run(runner.start())


def listen_on(settings: Settings, api_url: str) -> None:
    """`strides listen`: only the listener, in the foreground, until interrupted."""
    import asyncio

    if not server.healthy(api_url):
        raise ServeError(f"no healthy Prefect server at {api_url}")
    from strides.flows.environment import prepare

    prepare(settings, quiet=False)
    shutdown.install(settings.stop_grace_seconds)
    client_environment(api_url, settings)
    from strides.flows.listen import Listener
    from strides.store import Store

    Store(settings.db_url).migrate()

    def ready() -> None:
        print(f"strides: listening for {', '.join(REACTS_TO)} events on {api_url}", flush=True)

    asyncio.run(Listener(settings).listen(ready))
