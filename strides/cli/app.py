"""The `strides` Typer application: global options, shared state and the helpers every command uses.

Commands live in the modules of this package by topic and register on `app` with decorators;
`strides.cli` imports them all. Nothing heavy is imported here: each command imports the layers it
needs when it runs, so `strides --help` answers at once.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strides import __version__
from strides.cli.output import err, fail, out

if TYPE_CHECKING:
    from strides.config import Settings
    from strides.store import Store

app = typer.Typer(
    name="strides",
    help="Reminders and workflows for professional-development goals: reviews, mentor check-ins, digests.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


class State:
    """The global options, and the settings they make (read on first use, once)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the options of an earlier invocation (a test runs several in one process)."""
        self.overrides: dict[str, Any] = {}
        self.verbose = False
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from pydantic import ValidationError

            from strides.config import Settings

            try:
                self._settings = Settings(**self.overrides)
            except ValidationError as exc:
                raise fail(f"invalid configuration:\n{exc}") from None
        return self._settings


state = State()


def _print_version(value: bool) -> None:
    """Print the version and exit, before any command is looked for (an eager option)."""
    if value:
        out.print(f"strides {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    state_dir: Annotated[
        Path | None, typer.Option(help="State folder (store, Prefect home, outbox).")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version),
    ] = False,
) -> None:
    """Configuration comes from options, then STRIDES_* variables, then strides.toml."""
    state.reset()
    if state_dir is not None:
        state.overrides["state_dir"] = state_dir
    if database_url is not None:
        state.overrides["database_url"] = database_url
    state.verbose = verbose


def prepare_prefect(settings: Settings) -> None:
    """Point Prefect at the state folder and at a server (PREFECT_API_URL, else the kept local one,
    started on first need) before anything imports it."""
    from strides.domain.errors import StridesError
    from strides.flows import server
    from strides.flows.environment import prepare

    prepare(settings, quiet=not state.verbose)
    try:
        _, started = server.use(settings)
    except StridesError as exc:
        raise fail(str(exc)) from None
    if started is not None:
        err.print(
            f"started a local Prefect server for this and later commands: {started.ui_url} "
            f"(pid {started.pid}; `strides server stop` stops it)",
            highlight=False,
            soft_wrap=True,
        )


def open_store(demo: bool = False, *, offer_demo: bool = True) -> Store:
    """The configured store (or the demo's), migrated; a clear error when there is none yet.

    `offer_demo`: the command has a --demo option, so the error may suggest it.
    """
    from strides.domain.errors import StridesError
    from strides.store import Store

    settings = state.settings.for_demo() if demo else state.settings
    if settings.database_url is None and not (settings.state_dir / "strides.db").exists():
        hint = " (did you mean --demo?)" if offer_demo and not demo else ""
        raise fail(f"no store at {settings.state_dir}: run `strides run` or `strides demo` first{hint}")
    store = Store(settings.db_url)
    try:
        store.migrate()
    except StridesError as exc:
        raise fail(str(exc)) from None
    return store


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    finally:
        # The interpreter's last garbage collections walk every object the command made (Prefect's
        # and pydantic's models among them) only to free memory the exit frees anyway: frozen, they
        # are skipped. `strides run` on the sample organisation ends 0.7 s sooner.
        gc.freeze()
