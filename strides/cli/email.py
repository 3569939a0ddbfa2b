"""`strides email ...`: what admins need about delivery: suppressed addresses and provider events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strides.cli.app import app, open_store
from strides.cli.output import EXIT_USAGE, Column, fail, minute, say, show

if TYPE_CHECKING:
    from strides.store import Store

# How the audit of a person's settings names a change made with `strides email`.
BY_ADMIN = "admin (strides email)"

email_app = typer.Typer(
    name="email",
    help="Email delivery: suppressed addresses, provider events, people's opt-outs and pauses.",
    no_args_is_help=True,
)
app.add_typer(email_app)


def _store() -> Store:
    return open_store(offer_demo=False)


def _address(value: str) -> str:
    """An email address as given, refused as bad usage when it is not one."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise typer.BadParameter(f"{value!r} is not an email address: {exc}") from None
    return value


def _known_person(session: Any, person: str) -> None:
    """Refuse, as bad usage, a person id the store does not know (`session`: the store's)."""
    from strides.store import snapshot

    if not snapshot.has_person(session, person):
        raise fail(f"unknown person {person!r} (see the organisation's people file)", EXIT_USAGE)


@email_app.command("suppressions")
def list_suppressions(
    reason: Annotated[
        str | None, typer.Option(help="Only this reason: bounce, spamreport, unsubscribe, manual.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Addresses strides will not mail (hard bounces, spam reports, unsubscribes, admins' entries)."""
    from strides.store import suppressions

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
    show(
        records,
        as_json=as_json,
        title=f"Suppressed addresses ({len(records)})",
        columns=[
            Column("since (UTC)", lambda r: minute(r["since"])),
            Column.of("email", "email"),
            Column.of("reason", "reason"),
            Column.of("detail", "detail"),
        ],
    )


@email_app.command()
def suppress(
    address: Annotated[str, typer.Argument(help="The email address to stop mailing.", callback=_address)],
    note: Annotated[str | None, typer.Option(help="Why (kept with the entry).")] = None,
) -> None:
    """Stop mailing an address (reason 'manual')."""
    from strides.store import suppressions

    with _store().session() as session:
        added = suppressions.suppress(session, address, "manual", note, None, datetime.now(UTC))
    say(f"{address}: {'suppressed' if added else 'already suppressed'}")


@email_app.command()
def unsuppress(address: Annotated[str, typer.Argument(help="The email address to mail again.")]) -> None:
    """Mail an address again (after the person fixed their mailbox, for example)."""
    from strides.store import suppressions

    with _store().session() as session:
        removed = suppressions.unsuppress(session, address)
    if not removed:
        raise fail(f"{address} is not suppressed")
    say(f"{address}: will be mailed again")


@email_app.command()
def events(
    key: Annotated[str, typer.Argument(help="The message's idempotency key (see `strides outbox --json`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """What the provider reported about one message: processed, delivered, bounced..."""
    from strides.store import ledger, suppressions

    with _store().session() as session:
        rows = suppressions.events_of(session, key)
        if not rows and not ledger.has_message(session, key):
            raise fail(f"no message has the key {key!r} (see `strides outbox --json`)", EXIT_USAGE)
    records = [
        {"at": r.occurred_at.isoformat(), "event": r.event, "email": r.email, "reason": r.reason}
        for r in rows
    ]
    show(
        records,
        as_json=as_json,
        title=f"Events of {key} ({len(records)})",
        columns=[
            Column("at (UTC)", lambda r: r["at"][:19].replace("T", " ")),
            Column.of("event", "event"),
            Column.of("email", "email"),
            Column.of("reason", "reason"),
        ],
    )


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
    from strides.store import preferences

    with _store().session() as session:
        _known_person(session, person)
        changed = preferences.opt_out(session, person, category, datetime.now(UTC), "admin")
    say(f"{person}: {'opted out of' if changed else 'already opted out of'} {category}")


@email_app.command("opt-in")
def opt_in_command(
    person: Annotated[str, typer.Argument(help="Person id.")],
    category: Annotated[str, typer.Argument(help="digest, email (reminders) or invite.", callback=_category)],
) -> None:
    """Resume one category of mail for a person."""
    from strides.store import preferences

    with _store().session() as session:
        _known_person(session, person)
        changed = preferences.opt_in(session, person, category, datetime.now(UTC))
    say(f"{person}: {'opted in to' if changed else 'was not opted out of'} {category}")


@email_app.command()
def pause(
    person: Annotated[str, typer.Argument(help="Person id.")],
    until: Annotated[str, typer.Option(help="End of the pause, ISO 8601 with a timezone.")],
    start: Annotated[str | None, typer.Option("--from", help="Start (default: now), ISO 8601.")] = None,
) -> None:
    """Pause all mail to a person (holidays, leave): messages due inside are skipped, or sent after
    the pause when their rule says `pause: shift` (or the person chose so on their preference page).
    Recorded in the person's history."""
    from strides.store import preferences

    now = datetime.now(UTC)
    try:
        begin = datetime.fromisoformat(start) if start else now
        end = datetime.fromisoformat(until)
        if begin.tzinfo is None or end.tzinfo is None:
            raise ValueError("dates need a timezone, for example 2026-12-24T00:00:00+01:00")
        with _store().session() as session:
            _known_person(session, person)
            preferences.set_pause(session, person, begin, end, BY_ADMIN, now)
    except ValueError as exc:
        raise fail(str(exc), EXIT_USAGE) from None
    say(f"{person}: paused from {begin.isoformat()} until {end.isoformat()}")


@email_app.command()
def resume(person: Annotated[str, typer.Argument(help="Person id.")]) -> None:
    """End a person's pause now."""
    from strides.store import preferences

    with _store().session() as session:
        _known_person(session, person)
        preferences.set_pause(session, person, None, None, BY_ADMIN, datetime.now(UTC))
    say(f"{person}: mail resumed")


@email_app.command()
def history(
    person: Annotated[str, typer.Argument(help="Person id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON.")] = False,
) -> None:
    """Who changed a person's own settings (preference page, pauses), from what to what, and when."""
    from strides.store import preferences

    with _store().session() as session:
        _known_person(session, person)
        chosen = preferences.choices(session, person)
        rows = preferences.changes(session, person)
    records = [
        {
            "changed_at": row.changed_at.isoformat(),
            "setting": row.setting,
            "old": row.old,
            "new": row.new,
            "changed_by": row.changed_by,
        }
        for row in rows
    ]
    if not as_json:
        say(f"{person}'s own settings: {chosen.model_dump_json(exclude_defaults=True)}")
    show(
        records,
        as_json=as_json,
        title=f"Changes to {person}'s own settings ({len(records)})",
        columns=[
            Column("when (UTC)", lambda r: minute(r["changed_at"])),
            Column.of("setting", "setting"),
            Column.of("from", "old"),
            Column.of("to", "new"),
            Column.of("by", "changed_by"),
        ],
    )
