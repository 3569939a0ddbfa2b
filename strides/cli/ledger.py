"""What the ledger holds: `strides outbox` (messages), `strides skips` (what was not sent, and
why) and `strides status` (the store at a glance)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from strides.cli.app import app, open_store, state
from strides.cli.output import EXIT_USAGE, Column, DemoOption, JsonOption, aware, fail, minute, say, show


def _status(value: str | None) -> str | None:
    from strides.store.ledger import STATUSES

    if value is not None and value not in STATUSES:
        raise typer.BadParameter(f"{value!r} is not a status; one of {', '.join(STATUSES)}")
    return value


CAUSES = (
    "missing",
    "late",
    "inhibited",
    "no-overlap",
    "empty-digest",
    "opted-out",
    "condition",
    "rule-failed",
    "other",
)


@app.command()
def outbox(
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    to: Annotated[str | None, typer.Option(help="Only this recipient (person id or email).")] = None,
    status: Annotated[
        str | None,
        typer.Option(help="pending, sending, sent, failed, dead, superseded or cancelled.", callback=_status),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """What was sent (or is waiting): when, to whom, by which rule."""
    from strides.engine import kind_label
    from strides.store import ledger

    settings = state.settings.for_demo() if demo else state.settings
    store = open_store(demo)
    with store.session() as session:
        rows = ledger.messages(session, status=status, rule=rule, recipient=to, limit=limit)
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
    show(
        records,
        as_json=as_json,
        title=f"Ledger of {settings.state_dir} ({len(records)} shown)",
        columns=[
            Column("sent (UTC)", lambda r: minute(r["sent_at"] or r["send_at"])),
            Column.of("status", "status"),
            Column.of("kind", "kind"),
            Column.of("rule", "rule"),
            Column.of("to", "email"),
            Column.of("title", "title"),
        ],
    )


@app.command()
def skips(
    rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
    person: Annotated[str | None, typer.Option(help="Only skips about this person (id).")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only occurrences from this moment on (ISO 8601; UTC if naive).")
    ] = None,
    cause: Annotated[str | None, typer.Option(help=f"Only this cause: {', '.join(CAUSES)}.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many (the most recent).")] = 100,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """What the rules wanted but did not send, and why: no mentor, later than max_lateness,
    inhibited by an escalation, no overlap of working hours, an empty digest, a failed condition."""
    from strides.store import skips as stored

    if cause is not None and cause not in CAUSES:
        raise fail(f"unknown cause {cause!r}; use one of {', '.join(CAUSES)}", EXIT_USAGE)
    store = open_store(demo)
    with store.session() as session:
        rows = stored.skips(session, rule=rule, person=person, since=aware(since), cause=cause, limit=limit)
    records = [
        {
            "rule": r.rule_id,
            "subject": r.subject,
            "person": r.person,
            "occurrence": r.occurrence.isoformat(),
            "cause": r.cause,
            "reason": r.reason,
            "recorded_at": r.recorded_at.isoformat(),
        }
        for r in rows
    ]
    show(
        records,
        as_json=as_json,
        title=f"Skipped ({len(records)} shown, most recent last)",
        columns=[
            Column("occurrence (UTC)", lambda r: minute(r["occurrence"])),
            Column.of("rule", "rule"),
            Column.of("subject", "subject"),
            Column.of("person", "person"),
            Column.of("cause", "cause"),
            Column.of("reason", "reason"),
        ],
    )


@app.command()
def status(demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """The store at a glance: the last tick, messages by status, meetings, and skips by cause."""
    from strides.engine.report import status as report_of

    report = report_of(open_store(demo))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    tick = report["last_tick"]
    if tick is None:
        say("No tick yet.")
    else:
        start, end = (minute(moment) for moment in tick["window"])
        say(
            f"Last tick at {minute(tick['now'])} UTC (window {start} to {end}): planned {tick['planned']}, "
            f"sent {tick['sent']}, failed {tick['failed']}"
        )
    for title, key in (("Messages", "messages"), ("Meetings", "meetings"), ("Skips", "skips")):
        shown = ", ".join(f"{name} {number}" for name, number in report[key].items()) or "none"
        say(f"{title}: {shown}")
    if report["skips"]:
        say("See `strides skips` for what was skipped and why.")


@app.command("retry")
def retry_command(
    key: Annotated[str | None, typer.Option(help="Only the message with this key.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule's messages.")] = None,
    to: Annotated[str | None, typer.Option(help="Only this recipient (person id or email).")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every dead message.")] = False,
    demo: DemoOption = False,
) -> None:
    """Send dead messages again from the next tick, their tries counted afresh (after an outage).

    A message is dead after a permanent failure or once its tries ran out (`retry_lifetime`);
    `strides outbox --status dead` lists them with the reason. What the recipient's preferences
    hold back (opted out, paused, suppressed) is held back again when it comes due.
    """
    from datetime import UTC

    from strides.store import ledger

    if not (key or rule or to or every):
        raise fail("say which dead messages: --key, --rule, --to, or --all", EXIT_USAGE)
    with open_store(demo).session() as session:
        revived = ledger.revive(session, datetime.now(UTC), key=key, rule=rule, recipient=to)
    say(f"{revived} dead message(s) due again; the next tick sends them")
