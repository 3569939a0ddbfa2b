"""The `strides` command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from strides import __version__
from strides.config import Settings
from strides.errors import StridesError

if TYPE_CHECKING:
    from strides.store import Store

# Exit codes: 0 all good; 1 failed; 2 bad usage; 3 done, but some input records were rejected.
EXIT_FAILED, EXIT_REJECTED = 1, 3

app = typer.Typer(
    name="strides",
    help="Reminders and workflows for professional-development goals: reviews, mentor check-ins, digests.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class State:
    settings: Settings
    verbose: bool = False


state = State()


def _fail(message: str, code: int = EXIT_FAILED) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.callback()
def main_options(
    state_dir: Annotated[
        Path | None, typer.Option(help="State folder (store, Prefect home, outbox).")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL of the store.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """Configuration comes from options, then STRIDES_* variables, then strides.toml."""
    if version:
        out.print(f"strides {__version__}")
        raise typer.Exit()
    overrides: dict[str, Any] = {}
    if state_dir is not None:
        overrides["state_dir"] = state_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    try:
        state.settings = Settings(**overrides)
    except ValidationError as exc:
        raise _fail(f"invalid configuration:\n{exc}") from None
    state.verbose = verbose


def _prefect(settings: Settings) -> None:
    from strides.prefect_env import prepare

    prepare(settings, quiet=not state.verbose)


def open_store(demo: bool = False, *, offer_demo: bool = True) -> Store:
    """The configured store (or the demo's), migrated; a clear error when there is none yet.

    `offer_demo`: the command has a --demo option, so the error may suggest it.
    """
    from strides.demo import demo_settings
    from strides.store import Store

    settings = demo_settings(state.settings) if demo else state.settings
    if settings.database_url is None and not (settings.state_dir / "strides.db").exists():
        hint = " (did you mean --demo?)" if offer_demo and not demo else ""
        raise _fail(f"no store at {settings.state_dir}: run `strides run` or `strides demo` first{hint}")
    store = Store(settings.db_url)
    try:
        store.migrate()
    except StridesError as exc:
        raise _fail(str(exc)) from None
    return store


def _print_rejections(rejected: list[Any]) -> None:
    if not rejected:
        return
    err.print(f"[yellow]{len(rejected)} record(s) rejected; the rest was processed:[/]")
    for rejection in rejected:
        err.print(f"  {rejection}", highlight=False, soft_wrap=True)


@app.command()
def demo(
    start: Annotated[
        datetime, typer.Option(formats=["%Y-%m-%d"], help="First simulated day (UTC).")
    ] = datetime(2026, 11, 30),  # noqa: DTZ001 - a calendar date, read as UTC
    days: Annotated[int, typer.Option(min=1, max=366, help="How many days to simulate.")] = 28,
    org: Annotated[Path | None, typer.Option(help="Organisation folder (default: the sample).")] = None,
    keep: Annotated[
        bool, typer.Option(help="Continue the previous demo instead of starting afresh.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    changes: Annotated[
        Path | None,
        typer.Option(
            help="Organisation changes to apply on given days (default: the sample's, with --org unset)."
        ),
    ] = None,
) -> None:
    """Run the built-in rules over the sample organisation, day by day, into a local outbox."""
    from strides.demo import SAMPLE_CHANGES, demo_settings, run_demo
    from strides.engine import summarise
    from strides.org_changes import load_changes
    from strides.store import Store

    settings = demo_settings(state.settings if org is None else state.settings.derived(organisation=org))
    _prefect(settings)
    console = err if as_json else out
    console.print(
        f"strides demo: [bold]{settings.organisation}[/] from {start:%Y-%m-%d} for {days} days "
        f"(state in {settings.state_dir})",
        highlight=False,
        soft_wrap=True,  # paths and sentences stay whole lines when piped (rich assumes 80 columns)
    )
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[sent]} sent"),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    )
    try:
        with progress:
            task = progress.add_task("simulating days", total=days, sent=0)
            sent = 0

            def on_day(day: int, report: dict[str, int]) -> None:
                nonlocal sent
                sent += report["sent"]
                progress.update(task, advance=1, sent=sent)

            script = changes or (SAMPLE_CHANGES if org is None and SAMPLE_CHANGES.exists() else None)
            scripted = load_changes(script) if script else []
            result = run_demo(settings, start.date(), days, keep=keep, on_day=on_day, changes=scripted)
    except StridesError as exc:
        raise _fail(str(exc)) from None
    _print_rejections(result.rejected)
    lines = summarise(Store(settings.db_url))
    if as_json:
        payload = {
            "outbox": str(result.outbox),
            "files": len(result.files),
            "start": result.start.isoformat(),
            "days": days,
            "organisation": {"people": result.people, "goals": result.goals, "milestones": result.milestones},
            "rejected": [str(r) for r in result.rejected],
            "changes": [str(c) for c in result.applied],
            "rules": [vars(line) for line in lines],
        }
        out.print_json(json.dumps(payload))
    else:
        table = Table(title=f"What the rules sent over {days} days", show_lines=False)
        for column in ("rule", "kind", "messages", "people", "status"):
            table.add_column(column, justify="right" if column in ("messages", "people") else "left")
        for line in lines:
            statuses = ", ".join(f"{k} {v}" for k, v in sorted(line.statuses.items()))
            table.add_row(line.rule_id, line.kind, str(line.messages), str(line.recipients), statuses)
        invites = sum(line.messages for line in lines if line.kind.startswith("invite"))
        emails = sum(line.messages for line in lines if not line.kind.startswith("invite"))
        org_line = f"{result.people} people, {result.goals} goals, {result.milestones} milestones"
        out.print(f"{org_line}; {result.rules} rules")
        for change in result.applied:
            out.print(f"  changed {change}", highlight=False, soft_wrap=True)
        out.print(table)
        out.print(f"In all: {invites} invites and {emails} emails ({invites + emails} messages).")
        out.print(
            f"Outbox: [bold]{result.outbox}[/] ({len(result.files)} .eml files)",
            highlight=False,
            soft_wrap=True,
        )
        out.print("Look inside: [bold]strides outbox[/], or open an .eml in a mail client.", highlight=False)
    if result.rejected:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
def run(
    now: Annotated[
        datetime | None, typer.Option(help="The moment to tick at (ISO 8601; default: now, UTC).")
    ] = None,
    org: Annotated[Path | None, typer.Option(help="Organisation folder (default: configured).")] = None,
    since: Annotated[datetime | None, typer.Option(help="Plan from here instead of the last tick.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Load the organisation and run one tick: plan the window up to NOW and deliver what is due."""
    from strides.integrations.org_files import load_organisation
    from strides.merge import keep_last_good
    from strides.store import Store, snapshot

    settings = state.settings if org is None else state.settings.derived(organisation=org)
    moment = _aware(now or datetime.now(UTC))
    _prefect(settings)
    try:
        loaded = load_organisation(settings.organisation)
        _print_rejections(loaded.rejected)
        store = Store(settings.db_url)
        store.migrate()
        with store.session() as session:
            organisation = loaded.organisation
            if loaded.rejected:
                # Nothing is lost: a record rejected now keeps its last good version.
                organisation = keep_last_good(
                    snapshot.load_organisation(session), organisation, loaded.rejected
                )
            snapshot.save_organisation(session, organisation)
        from strides.flows.tick import tick
        from strides.prefect_env import no_heartbeats

        with no_heartbeats():
            report = tick(
                now=moment, settings=settings.model_dump(mode="json"), since=_aware(since) if since else None
            )
    except StridesError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        out.print_json(
            json.dumps({"now": moment.isoformat(), **report, "rejected": [str(r) for r in loaded.rejected]})
        )
    else:
        out.print(
            f"tick at {moment:%Y-%m-%d %H:%M} UTC: planned {report['planned']}, sent {report['sent']}, "
            f"failed {report['failed']} (outbox: {settings.outbox})",
            highlight=False,
            soft_wrap=True,
        )
    if loaded.rejected:
        raise typer.Exit(EXIT_REJECTED)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@app.command()
def outbox(
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    to: Annotated[str | None, typer.Option(help="Only this recipient (person id or email).")] = None,
    status: Annotated[str | None, typer.Option(help="pending, sending, sent, failed or dead.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    demo_state: Annotated[bool, typer.Option("--demo", help="Show the demo's ledger.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """What was sent (or is waiting): when, to whom, by which rule."""
    from strides.demo import demo_settings
    from strides.engine import kind_label
    from strides.store import ledger

    settings = demo_settings(state.settings) if demo_state else state.settings
    store = open_store(demo_state)
    try:
        with store.session() as session:
            rows = ledger.messages(session, status=status, rule=rule, recipient=to, limit=limit)
    except StridesError as exc:
        raise _fail(str(exc)) from None
    records = [
        {
            "key": r.key,
            "status": r.status,
            "kind": kind_label(r),
            "rule": r.rule_id,
            "recipient": r.recipient,
            "email": r.recipient_email,
            "title": r.title,
            "occurrence": r.occurrence.isoformat(),
            "send_at": r.send_at.isoformat(),
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "file": r.transport_ref,
            "error": r.last_error,
        }
        for r in rows
    ]
    if as_json:
        out.print_json(json.dumps(records))
        return
    table = Table(title=f"Ledger of {settings.state_dir} ({len(records)} shown)")
    for column in ("sent (UTC)", "status", "kind", "rule", "to", "title"):
        table.add_column(column, overflow="fold")
    for row in rows:
        when = row.sent_at or row.send_at
        table.add_row(
            f"{when:%Y-%m-%d %H:%M}", row.status, kind_label(row), row.rule_id, row.recipient_email, row.title
        )
    out.print(table)


@app.command()
def http(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve strides' HTTP endpoints (calendar feeds, webhooks, event intake)."""
    import uvicorn

    from strides.http.app import create_app

    uvicorn.run(create_app(state.settings), host=host, port=port, log_level="info")


# Command groups of other topics live in their own modules and register on `app` here.
from strides.cli_rules import plan_command, rules_app  # noqa: E402

app.add_typer(rules_app)
app.command("plan")(plan_command)

from strides import cli_orchestration  # noqa: E402

cli_orchestration.register(app)

from strides.cli_email import email_app  # noqa: E402

app.add_typer(email_app)

from strides import cli_invites  # noqa: E402

cli_invites.register(app)

from strides import cli_skips  # noqa: E402

cli_skips.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
