"""Running strides as a service: `strides serve`, `strides listen`, `strides emit` and `strides http`."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from strides.cli.app import app, prepare_prefect, state
from strides.cli.output import EXIT_USAGE, DemoOption, err, fail, say


@app.command()
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
    from strides.domain.errors import StridesError
    from strides.flows.serve import serve as run_serve

    try:
        run_serve(state.settings, api_url, limit)
    except KeyboardInterrupt:
        err.print("strides serve: stopped")
    except StridesError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        _stopped_anyway("serve", exc)


@app.command()
def listen(
    api_url: Annotated[str | None, typer.Option(help="Prefect API (default: PREFECT_API_URL).")] = None,
) -> None:
    """React to strides' events in this process until stopped: the on-event flow for each one.

    What `strides serve` does alongside its deployments; on its own for the production topology,
    where workers run the scheduled deployments (run one listener). Events emitted while it was
    down are caught up from Prefect's stored events when it starts.
    """
    from strides.domain.errors import StridesError
    from strides.flows.serve import listen_on

    url = api_url or os.environ.get("PREFECT_API_URL")
    if not url:
        raise fail("no Prefect server: pass --api-url or set PREFECT_API_URL", EXIT_USAGE)
    try:
        listen_on(state.settings, url)
    except KeyboardInterrupt:
        err.print("strides listen: stopped")
    except StridesError as exc:
        raise fail(str(exc)) from None
    except Exception as exc:
        _stopped_anyway("listen", exc)


def _stopped_anyway(command: str, exc: Exception) -> None:
    """After SIGTERM, what the interruption broke on its way out is still a requested stop: the
    KeyboardInterrupt it raises can land inside a library's own clean-up (anyio's cancel scopes
    under an HTTP request), which then fails with an error of its own. Otherwise, re-raise."""
    from strides.flows.shutdown import stopping

    if not stopping():
        raise exc
    err.print(f"strides {command}: stopped ({type(exc).__name__} while stopping: {exc})")


def _event_name(name: str) -> str:
    from strides.integrations.events import EventError, event_name

    try:
        full, note = event_name(name)
    except EventError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    if note:
        say(f"warning: {note}", to_err=True)
    return full


@app.command()
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
    from strides.domain.errors import StridesError
    from strides.integrations.events import EventError, StridesEvent

    name = _event_name(event)
    if (goal is None) == (person is None):
        raise fail("give exactly one of --goal and --person", EXIT_USAGE)
    payload: dict[str, str] = {}
    for item in field or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise fail(f"--set expects key=value, not {item!r}", EXIT_USAGE)
        payload[key] = value
    try:
        happening = StridesEvent(name, f"goal:{goal}" if goal else f"person:{person}", payload)
    except EventError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    url = api_url or os.environ.get("PREFECT_API_URL")
    if not url:
        # Without it Prefect would start a temporary server of its own and the event would vanish.
        raise fail(
            "no Prefect server: pass --api-url or set PREFECT_API_URL (see `strides serve`)", EXIT_USAGE
        )
    os.environ["PREFECT_API_URL"] = url
    prepare_prefect(state.settings)
    import asyncio

    from strides.flows.events import publish

    try:
        (event_id,) = asyncio.run(publish([happening]))
    except (OSError, StridesError) as exc:
        raise fail(f"cannot emit to {url}: {exc}") from None
    record = {"id": event_id, "event": name, "resource": happening.resource(), "payload": payload}
    if as_json:
        typer.echo(json.dumps(record, indent=2))
    else:
        say(f"emitted {name} about {happening.about} ({event_id})")


@app.command()
def http(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    demo: DemoOption = False,
) -> None:
    """Serve strides' HTTP endpoints (calendar feeds, webhooks, event intake, unsubscribe links)."""
    import uvicorn

    from strides.http.app import create_app

    settings = state.settings.for_demo() if demo else state.settings
    if settings.hr_secret is not None:
        # The HR intake publishes to Prefect: PREFECT_API_URL, else the kept local server (never a
        # temporary one, which would take the events with it when it stops).
        prepare_prefect(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
