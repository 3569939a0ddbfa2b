"""`strides server`: the local Prefect server strides starts on first need and keeps running."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer

from strides.cli.app import app, state
from strides.cli.output import fail, say

if TYPE_CHECKING:
    from strides.flows.server import LocalServer

server_app = typer.Typer(
    help="The local Prefect server the commands share (started by the first command that needs it).",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")

JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")]


def _describe(found: LocalServer | None, as_json: bool) -> None:
    """Where the server is (nothing when none runs; JSON says `running: false`)."""
    if as_json:
        payload: dict[str, object] = {"running": found is not None}
        if found is not None:
            payload |= {**asdict(found), "ui_url": found.ui_url}
        typer.echo(json.dumps(payload, indent=2))
    elif found is not None:
        say(f"Prefect server: {found.ui_url} (API {found.api_url}), pid {found.pid}, since {found.started}")
        say(f"log: {found.log}")


@server_app.command()
def status(as_json: JsonOption = False) -> None:
    """Say whether the local Prefect server is running, and where (exit 1 when it is not)."""
    from strides.flows import server

    found = server.find(state.settings)
    _describe(found, as_json)
    if found is None:
        if not as_json:
            say(f"no local Prefect server is running (state in {state.settings.prefect_dir})")
        raise typer.Exit(1)


@server_app.command()
def start(as_json: JsonOption = False) -> None:
    """Start the local Prefect server now, if it is not running (the commands start it when needed)."""
    from strides.domain.errors import StridesError
    from strides.flows import server
    from strides.flows.environment import prepare

    prepare(state.settings, quiet=not state.verbose)
    try:
        found, started = server.ensure(state.settings)
    except StridesError as exc:
        raise fail(str(exc)) from None
    if not as_json:
        say("started" if started else "already running")
    _describe(found, as_json)


@server_app.command()
def stop(as_json: JsonOption = False) -> None:
    """Stop the local Prefect server (the next command that needs one starts it again)."""
    from strides.domain.errors import StridesError
    from strides.flows import server

    try:
        stopped = server.stop(state.settings)
    except StridesError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"stopped": stopped.pid if stopped else None}))
    elif stopped is None:
        say("no local Prefect server was running")
    else:
        say(f"stopped the Prefect server at {stopped.ui_url} (pid {stopped.pid})")
