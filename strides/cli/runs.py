"""`strides demo` (the sample organisation through simulated weeks) and `strides run` (one tick)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from strides.cli.app import app, prepare_prefect, state
from strides.cli.output import EXIT_REJECTED, aware, err, fail, out, print_rejections, say


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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from strides.domain.errors import StridesError
    from strides.engine import summarise
    from strides.flows.demo import SAMPLE_CHANGES, run_demo
    from strides.integrations.org_changes import load_changes
    from strides.store import Store

    base = state.settings if org is None else state.settings.derived(organisation=org)
    settings = base.for_demo()
    prepare_prefect(settings)
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
        raise fail(str(exc)) from None
    print_rejections(result.rejected)
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
        typer.echo(json.dumps(payload, indent=2))
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
        say(f"{org_line}; {result.rules} rules")
        for change in result.applied:
            say(f"  changed {change}")
        out.print(table)
        say(f"In all: {invites} invites and {emails} emails ({invites + emails} messages).")
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
    accept_mass_change: Annotated[
        bool,
        typer.Option(help="Apply the organisation even if it removes or rejects a large share of it."),
    ] = False,
) -> None:
    """Load the organisation and run one tick: plan the window up to NOW and deliver what is due."""
    from strides.domain.errors import StridesError
    from strides.engine.intake import MassChange, store_organisation
    from strides.integrations.org_files import load_organisation
    from strides.store import Store

    settings = state.settings if org is None else state.settings.derived(organisation=org)
    moment = aware(now) or datetime.now(UTC)
    prepare_prefect(settings)
    try:
        loaded = load_organisation(settings.organisation)
        print_rejections(loaded.rejected, loaded.warnings)
        store = Store(settings.db_url)
        store.migrate()
        # Nothing is lost: a record rejected now keeps its last good version, and a snapshot that
        # looks like a broken export is not applied (the tick plans from the last good one).
        held_back: MassChange | None = None
        try:
            store_organisation(
                store,
                loaded,
                accept_mass_change=accept_mass_change or settings.accept_mass_change,
                share=settings.mass_change_share,
            )
        except MassChange as exc:
            held_back = exc
            say(f"warning: {exc}", to_err=True)
        from strides.cli.progress import TickProgress
        from strides.flows.environment import no_heartbeats
        from strides.flows.progress import reporting
        from strides.flows.tick import tick

        shown = TickProgress(err, settings.db_url, moment, settings.claim_timeout)
        with no_heartbeats(), shown, reporting(shown):
            report = tick(now=moment, settings=settings.model_dump(mode="json"), since=aware(since))
    except StridesError as exc:
        raise fail(str(exc)) from None
    if as_json:
        result = {"now": moment.isoformat(), **report, "rejected": [str(r) for r in loaded.rejected]}
        typer.echo(json.dumps(result, indent=2))
    else:
        where = (
            f" (outbox: {settings.outbox})"
            if settings.transport == "outbox"
            else f" (via {settings.transport})"
        )
        again = f" ({report['retrying']} to be tried again)" if report.get("retrying") else ""
        if report.get("ambiguous"):
            again += f" ({report['ambiguous']} the server may have had: sent at most once more)"
        say(
            f"tick at {moment:%Y-%m-%d %H:%M} UTC: planned {report['planned']}, sent {report['sent']}, "
            f"held back by preferences {report['held_back']}, failed {report['failed']}{again}, "
            f"skipped {report['skipped']}{where}"
        )
    for line in report.get("rules_given_up", []):
        say(f"warning: rule {line}", to_err=True)
    # A calendar that could not be read: planned without that person's busy times, not a failure.
    for line in report.get("calendars_unread", []):
        say(f"warning: {line}", to_err=True)
    if held_back is not None:
        raise fail(str(held_back))
    if report.get("retrying"):
        # Something could not be written or sent now: say what, and fail the command.
        from strides.store import ledger

        with Store(settings.db_url).session() as session:
            # One of them says what went wrong (they failed alike: the same transport, now).
            waiting = ledger.messages(session, status=ledger.FAILED, limit=1)
        reason = next((row.last_error for row in waiting if row.last_error), "unknown")
        raise fail(f"{report['retrying']} message(s) could not be sent now and will be tried again: {reason}")
    if loaded.rejected or report.get("rules_given_up"):
        raise typer.Exit(EXIT_REJECTED)
