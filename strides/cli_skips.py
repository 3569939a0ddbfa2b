"""`strides skips` (what the rules wanted but did not send, and why) and `strides status`."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

DemoOption = Annotated[bool, typer.Option("--demo", help="Use the demo's store.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CAUSES = ("missing", "late", "inhibited", "no-overlap", "empty-digest", "condition", "other")


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


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
    from strides.cli import _fail, open_store, out
    from strides.store import skips as stored

    if cause is not None and cause not in CAUSES:
        raise _fail(f"unknown cause {cause!r}; use one of {', '.join(CAUSES)}", 2)
    store = open_store(demo)
    with store.session() as session:
        rows = stored.skips(session, rule=rule, person=person, since=_aware(since), cause=cause, limit=limit)
    if as_json:
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
        out.print_json(json.dumps(records))
        return
    table = Table(title=f"Skipped ({len(rows)} shown, most recent last)")
    for column in ("occurrence (UTC)", "rule", "subject", "person", "cause", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            f"{row.occurrence:%Y-%m-%d %H:%M}",
            row.rule_id,
            row.subject,
            row.person or "",
            row.cause,
            row.reason,
        )
    out.print(table)


def status(demo: DemoOption = False, as_json: JsonOption = False) -> None:
    """The store at a glance: the last tick, messages by status, meetings, and skips by cause."""
    from sqlalchemy import func, select

    from strides.cli import open_store, out
    from strides.store.tables import InviteRow, MessageRow, SkipRow, TickRow

    store = open_store(demo)
    with store.session() as session:
        tick = session.scalars(select(TickRow).order_by(TickRow.id.desc()).limit(1)).first()
        messages = dict(
            session.execute(select(MessageRow.status, func.count()).group_by(MessageRow.status)).all()
        )
        meetings = dict(
            session.execute(select(InviteRow.status, func.count()).group_by(InviteRow.status)).all()
        )
        causes = dict(session.execute(select(SkipRow.cause, func.count()).group_by(SkipRow.cause)).all())
    report: dict[str, Any] = {
        "last_tick": None
        if tick is None
        else {
            "now": tick.now.isoformat(),
            "window": [tick.window_start.isoformat(), tick.window_end.isoformat()],
            "planned": tick.planned,
            "sent": tick.sent,
            "failed": tick.failed,
        },
        "messages": dict(sorted(messages.items())),
        "meetings": dict(sorted(meetings.items())),
        "skips": dict(Counter(causes).most_common()),
    }
    if as_json:
        out.print_json(json.dumps(report))
        return
    if tick is None:
        out.print("No tick yet.")
    else:
        out.print(
            f"Last tick at {tick.now:%Y-%m-%d %H:%M} UTC (window {tick.window_start:%Y-%m-%d %H:%M} to "
            f"{tick.window_end:%Y-%m-%d %H:%M}): planned {tick.planned}, sent {tick.sent}, "
            f"failed {tick.failed}",
            highlight=False,
            soft_wrap=True,
        )
    for title, counts in (("Messages", messages), ("Meetings", meetings), ("Skips", report["skips"])):
        shown = ", ".join(f"{name} {number}" for name, number in counts.items()) or "none"
        out.print(f"{title}: {shown}", highlight=False, soft_wrap=True)
    if report["skips"]:
        out.print("See `strides skips` for what was skipped and why.", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(skips)
    app.command()(status)
