"""`strides email ...`: what admins need about delivery: suppressed addresses and provider events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from strides.errors import StridesError
from strides.store import Store, suppressions

email_app = typer.Typer(
    name="email", help="Email delivery: suppressed addresses and provider events.", no_args_is_help=True
)


def _store() -> Store:
    from strides.cli import open_store

    return open_store(offer_demo=False)


@email_app.command("suppressions")
def list_suppressions(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason: bounce, spamreport, unsubscribe, manual.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Addresses strides will not mail (hard bounces, spam reports, unsubscribes, admins' entries)."""
    from strides.cli import out

    with _store().session() as session:
        rows = suppressions.suppressions(session, reason)
    records = [
        {
            "email": r.email,
            "reason": r.reason,
            "detail": r.detail,
            "message_key": r.message_key,
            "since": r.created_at.isoformat(),
        }
        for r in rows
    ]
    if as_json:
        out.print_json(json.dumps(records))
        return
    table = Table(title=f"Suppressed addresses ({len(rows)})")
    for column in ("since (UTC)", "email", "reason", "detail"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(f"{r.created_at:%Y-%m-%d %H:%M}", r.email, r.reason, r.detail or "")
    out.print(table)


@email_app.command()
def suppress(
    address: Annotated[str, typer.Argument(help="The email address to stop mailing.")],
    note: Annotated[str | None, typer.Option(help="Why (kept with the entry).")] = None,
) -> None:
    """Stop mailing an address (reason 'manual')."""
    from strides.cli import out

    with _store().session() as session:
        added = suppressions.suppress(session, address, "manual", note, None, datetime.now(UTC))
    out.print(f"{address}: {'suppressed' if added else 'already suppressed'}")


@email_app.command()
def unsuppress(address: Annotated[str, typer.Argument(help="The email address to mail again.")]) -> None:
    """Mail an address again (after the person fixed their mailbox, for example)."""
    from strides.cli import _fail, out

    with _store().session() as session:
        removed = suppressions.unsuppress(session, address)
    if not removed:
        raise _fail(f"{address} is not suppressed")
    out.print(f"{address}: will be mailed again")


@email_app.command()
def events(
    key: Annotated[str, typer.Argument(help="The message's idempotency key (see `strides outbox --json`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """What the provider reported about one message: processed, delivered, bounced..."""
    from strides.cli import out

    with _store().session() as session:
        rows = suppressions.events_of(session, key)
    records = [
        {"at": r.occurred_at.isoformat(), "event": r.event, "email": r.email, "reason": r.reason}
        for r in rows
    ]
    if as_json:
        out.print_json(json.dumps(records))
        return
    table = Table(title=f"Events of {key} ({len(rows)})")
    for column in ("at (UTC)", "event", "email", "reason"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(f"{r.occurred_at:%Y-%m-%d %H:%M:%S}", r.event, r.email, r.reason or "")
    out.print(table)


@email_app.command()
def preview(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the previews.")] = Path("docs/email"),
    at: Annotated[
        str | None, typer.Option(help="The digest's moment, ISO 8601 (default: now). Dates in the sample.")
    ] = None,
    pictures: Annotated[bool, typer.Option(help="Also take Chromium screenshots (375/600 px, dark).")] = True,
) -> None:
    """Render sample digests of the organisation to HTML, text and pictures, to look at them."""
    from strides.cli import _fail, out
    from strides.cli import state as cli_state
    from strides.digest_preview import write_previews
    from strides.integrations.org_files import load_organisation

    moment = datetime.fromisoformat(at) if at else datetime.now(UTC)
    if moment.tzinfo is None:
        raise _fail("--at needs a timezone, for example 2026-11-30T07:00:00+00:00")
    loaded = load_organisation(cli_state.settings.organisation)
    try:
        written = write_previews(loaded.organisation, moment, out_dir, pictures=pictures)
    except StridesError as exc:
        raise _fail(str(exc)) from None
    for path in written:
        out.print(str(path))


def _category(value: str) -> str:
    from strides.integrations.unsubscribe import CATEGORIES

    if value not in CATEGORIES:
        raise typer.BadParameter(f"one of {', '.join(CATEGORIES)}")
    return value


@email_app.command("opt-out")
def opt_out_command(
    person: Annotated[str, typer.Argument(help="Person id.")],
    category: Annotated[str, typer.Argument(help="digest, email (reminders) or invite.", callback=_category)],
) -> None:
    """Stop one category of mail for a person (as their unsubscribe link would)."""
    from strides.cli import out
    from strides.store import preferences

    with _store().session() as session:
        changed = preferences.opt_out(session, person, category, datetime.now(UTC), "admin")
    out.print(f"{person}: {'opted out of' if changed else 'already opted out of'} {category}")


@email_app.command("opt-in")
def opt_in_command(
    person: Annotated[str, typer.Argument(help="Person id.")],
    category: Annotated[str, typer.Argument(help="digest, email (reminders) or invite.", callback=_category)],
) -> None:
    """Resume one category of mail for a person."""
    from strides.cli import out
    from strides.store import preferences

    with _store().session() as session:
        changed = preferences.opt_in(session, person, category, datetime.now(UTC))
    out.print(f"{person}: {'opted in to' if changed else 'was not opted out of'} {category}")


@email_app.command()
def pause(
    person: Annotated[str, typer.Argument(help="Person id.")],
    until: Annotated[str, typer.Option(help="End of the pause, ISO 8601 with a timezone.")],
    start: Annotated[str | None, typer.Option("--from", help="Start (default: now), ISO 8601.")] = None,
) -> None:
    """Pause all mail to a person (holidays, leave): messages due inside are skipped, or sent after
    the pause when their rule says `pause: shift`."""
    from strides.cli import _fail, out
    from strides.store import preferences

    now = datetime.now(UTC)
    try:
        begin = datetime.fromisoformat(start) if start else now
        end = datetime.fromisoformat(until)
        if begin.tzinfo is None or end.tzinfo is None:
            raise ValueError("dates need a timezone, for example 2026-12-24T00:00:00+01:00")
        with _store().session() as session:
            preferences.pause(session, person, begin, end, now)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    out.print(f"{person}: paused from {begin.isoformat()} until {end.isoformat()}")


@email_app.command()
def resume(person: Annotated[str, typer.Argument(help="Person id.")]) -> None:
    """End a person's pause now."""
    from strides.cli import out
    from strides.store import preferences

    with _store().session() as session:
        preferences.resume(session, person, datetime.now(UTC))
    out.print(f"{person}: mail resumed")
