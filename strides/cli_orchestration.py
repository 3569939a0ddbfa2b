"""Commands of the orchestration topic: `strides serve`, `strides listen` and `strides emit`."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Annotated

import typer

from strides.cli import _fail, err, out, state
from strides.errors import StridesError
from strides.events import EVENT_NAMES, EventError, StridesEvent


def serve(
    api_url: Annotated[
        str | None,
        typer.Option(help="Prefect API to serve against (default: PREFECT_API_URL, else a local server)."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many flow runs at once.")] = None,
) -> None:
    """Serve every deployment (tick, deliver, sync, on-event) from this process until stopped.

    Without a Prefect server it starts one on 127.0.0.1 (state in the state folder) and stops
    it on exit (Ctrl-C or SIGTERM).
    """
    from strides.serve import serve as run_serve

    try:
        run_serve(state.settings, api_url, limit)
    except KeyboardInterrupt:
        err.print("strides serve: stopped")
    except StridesError as exc:
        raise _fail(str(exc)) from None


def listen(
    api_url: Annotated[str | None, typer.Option(help="Prefect API (default: PREFECT_API_URL).")] = None,
) -> None:
    """React to strides' events in this process until stopped: the on-event flow for each one.

    What `strides serve` does alongside its deployments; on its own for the production topology,
    where workers run the scheduled deployments (run one listener). Events emitted while it was
    down are caught up from Prefect's stored events when it starts.
    """
    from strides.serve import listen_on

    url = api_url or os.environ.get("PREFECT_API_URL")
    if not url:
        raise _fail("no Prefect server: pass --api-url or set PREFECT_API_URL", 2)
    try:
        listen_on(state.settings, url)
    except KeyboardInterrupt:
        err.print("strides listen: stopped")
    except StridesError as exc:
        raise _fail(str(exc)) from None


def _event_name(name: str) -> str:
    full = name if name.startswith("strides.") else f"strides.{name}"
    if full not in EVENT_NAMES:
        known = ", ".join(sorted(n.removeprefix("strides.") for n in EVENT_NAMES))
        raise _fail(f"unknown event {name!r}; known: {known}", 2)
    return full


def emit(
    event: Annotated[
        str, typer.Argument(help="Event name, e.g. milestone.completed or goal.deadline-moved.")
    ],
    goal: Annotated[str | None, typer.Option(help="The goal it concerns.")] = None,
    person: Annotated[str | None, typer.Option(help="The person it concerns.")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Payload field as key=value (repeatable): milestone=m1, deadline=2027-01-31."
        ),
    ] = None,
    api_url: Annotated[str | None, typer.Option(help="Prefect API (default: PREFECT_API_URL).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the emitted event as JSON.")] = False,
) -> None:
    """Emit one strides event to Prefect, as the HR system or a sync would."""
    name = _event_name(event)
    if (goal is None) == (person is None):
        raise _fail("give exactly one of --goal and --person", 2)
    payload: dict[str, str] = {}
    for item in field or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise _fail(f"--set expects key=value, not {item!r}", 2)
        payload[key] = value
    try:
        happening = StridesEvent(name, f"goal:{goal}" if goal else f"person:{person}", payload)
    except EventError as exc:
        raise _fail(str(exc), 2) from None
    url = api_url or os.environ.get("PREFECT_API_URL")
    if not url:
        # Without it Prefect would start a temporary server of its own and the event would vanish.
        raise _fail("no Prefect server: pass --api-url or set PREFECT_API_URL (see `strides serve`)", 2)
    os.environ["PREFECT_API_URL"] = url
    from strides.prefect_env import prepare

    prepare(state.settings, quiet=not state.verbose)
    from strides.events import publish

    try:
        (event_id,) = asyncio.run(publish([happening]))
    except (OSError, StridesError) as exc:
        raise _fail(f"cannot emit to {url}: {exc}") from None
    record = {"id": event_id, "event": name, "resource": happening.resource(), "payload": payload}
    if as_json:
        out.print_json(json.dumps(record))
    else:
        out.print(f"emitted {name} about {happening.about} ({event_id})", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(listen)
    app.command()(emit)
