"""Commands about calendar invites: `strides rsvp`, `strides meetings`, `strides feed`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

PARTSTAT_MARKS = {"ACCEPTED": "✓", "DECLINED": "✗", "TENTATIVE": "?", "DELEGATED": "→", "NEEDS-ACTION": "·"}

DemoOption = Annotated[bool, typer.Option("--demo", help="Use the demo's store.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _store(demo: bool) -> Any:
    from strides.cli import open_store

    return open_store(demo)


def rsvp(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Replies: .eml files, .ics files, or saved SendGrid Inbound Parse bodies.", exists=True
        ),
    ],
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record attendees' answers (iMIP REPLY: accept, decline, maybe) to strides' meetings.

    A reply that matches no meeting, or an attendee the meeting does not have, or an outdated
    version of the meeting, is rejected with the reason; the exit code is then 3.
    """
    from strides.cli import EXIT_REJECTED, err, out
    from strides.integrations.itip_reply import ReplyError, replies_from_file
    from strides.store import invites

    store = _store(demo)
    outcomes: list[invites.ReplyOutcome] = []
    unreadable: list[ReplyError] = []
    for path in files:
        try:
            replies = replies_from_file(path.read_bytes(), str(path))
        except ReplyError as exc:
            unreadable.append(exc)
            continue
        with store.session() as session:
            outcomes.extend(invites.record_reply(session, reply) for reply in replies)
    rejected = [o for o in outcomes if not o.applied]
    if as_json:
        records = [
            {
                "source": o.reply.source,
                "uid": o.reply.uid,
                "attendee": o.reply.attendee,
                "person": o.person,
                "partstat": o.reply.partstat,
                "recorded": o.applied,
                "reason": o.reason,
            }
            for o in outcomes
        ] + [{"source": e.source, "recorded": False, "reason": e.reason} for e in unreadable]
        out.print_json(json.dumps(records))
    else:
        for outcome in outcomes:
            (out if outcome.applied else err).print(str(outcome), highlight=False, soft_wrap=True)
        for error in unreadable:
            err.print(f"{error.source}: rejected: {error.reason}", highlight=False, soft_wrap=True)
    if rejected or unreadable:
        raise typer.Exit(EXIT_REJECTED)


def meetings(
    person: Annotated[str | None, typer.Option(help="Only meetings this person (id) attends.")] = None,
    declined: Annotated[bool, typer.Option(help="Only meetings someone declined.")] = False,
    after: Annotated[
        datetime | None, typer.Option(help="Only meetings starting after this moment (ISO 8601, UTC).")
    ] = None,
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """The organiser's view: each meeting as last sent, its SEQUENCE and who accepted or declined."""
    from strides.cli import out
    from strides.store import invites

    store = _store(demo)
    moment = after.replace(tzinfo=UTC) if after and after.tzinfo is None else after
    with store.session() as session:
        rows = invites.meetings(session, person=person, after=moment)
    if declined:
        rows = [r for r in rows if any(a.get("partstat") == "DECLINED" for a in r.attendees)]
    if as_json:
        records = [
            {
                "uid": r.uid,
                "rule": r.rule_id,
                "subject": r.subject,
                "title": r.title,
                "start": r.start.isoformat(),
                "timezone": r.timezone,
                "sequence": r.sequence,
                "status": r.status,
                "attendees": r.attendees,
                # None: the configured sender organises.
                "organiser": r.organiser,
            }
            for r in rows
        ]
        out.print_json(json.dumps(records))
        return
    table = Table(title=f"Meetings ({len(rows)}): ✓ accepted, ✗ declined, ? maybe, · no answer yet")
    for column in ("start (UTC)", "status", "seq", "rule", "title", "attendees"):
        table.add_column(column, overflow="fold")
    for row in rows:
        people = ", ".join(
            f"{PARTSTAT_MARKS.get(a.get('partstat', ''), '·')} {a['id']}" for a in row.attendees
        )
        table.add_row(
            f"{row.start:%Y-%m-%d %H:%M}", row.status, str(row.sequence), row.rule_id, row.title, people
        )
    out.print(table)


feed_app = typer.Typer(
    help="Personal calendar feeds (webcal): issue, rotate or revoke a person's feed link.",
    no_args_is_help=True,
)


def _person_known(store: Any, person_id: str) -> None:
    from strides.cli import _fail
    from strides.store import snapshot

    with store.session() as session:
        if person_id not in snapshot.load_organisation(session).people:
            raise _fail(f"unknown person {person_id!r}")


@feed_app.command("issue")
def feed_issue(
    person: Annotated[str, typer.Argument(help="Person id.")],
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Give PERSON a new feed link; an earlier link stops working (rotation). The token is shown once."""
    from strides.cli import out, state
    from strides.store import feed_tokens

    store = _store(demo)
    _person_known(store, person)
    with store.session() as session:
        token = feed_tokens.issue(session, person, datetime.now(UTC))
    url = f"{state.settings.feed_base_url.rstrip('/')}/feeds/{token}.ics"
    webcal = "webcal://" + url.split("://", 1)[1]
    if as_json:
        out.print_json(json.dumps({"person": person, "url": url, "webcal": webcal}))
        return
    out.print(f"Feed for {person} (subscribe in a calendar app; keep it private):", highlight=False)
    out.print(f"  {webcal}", highlight=False, soft_wrap=True)
    out.print(f"  {url}", highlight=False, soft_wrap=True)


@feed_app.command("revoke")
def feed_revoke(
    person: Annotated[str, typer.Argument(help="Person id.")],
    demo: DemoOption = False,
) -> None:
    """Stop PERSON's feed link from working (their calendar app stops updating)."""
    from strides.cli import out
    from strides.store import feed_tokens

    store = _store(demo)
    with store.session() as session:
        revoked = feed_tokens.revoke(session, person, datetime.now(UTC))
    out.print(f"revoked {revoked} feed link(s) of {person}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(rsvp)
    app.command()(meetings)
    app.add_typer(feed_app, name="feed")
