"""Commands about calendar invites: `strides rsvp`, `strides meetings`, `strides feed`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strides.cli.app import app, open_store, state
from strides.cli.output import EXIT_REJECTED, Column, DemoOption, JsonOption, aware, fail, minute, say, show

if TYPE_CHECKING:
    from strides.store import Store

PARTSTAT_MARKS = {"ACCEPTED": "✓", "DECLINED": "✗", "TENTATIVE": "?", "DELEGATED": "→", "NEEDS-ACTION": "·"}


@app.command()
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
    from strides.integrations.itip_reply import ReplyError, replies_from_file
    from strides.store import invites

    store = open_store(demo)
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
        typer.echo(json.dumps(records, indent=2))
    else:
        for outcome in outcomes:
            say(str(outcome), to_err=not outcome.applied)
        for error in unreadable:
            say(f"{error.source}: rejected: {error.reason}", to_err=True)
    if rejected or unreadable:
        raise typer.Exit(EXIT_REJECTED)


@app.command()
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
    from strides.store import invites

    store = open_store(demo)
    with store.session() as session:
        rows = invites.meetings(session, person=person, after=aware(after))
    if declined:
        rows = [r for r in rows if any(a.get("partstat") == "DECLINED" for a in r.attendees)]
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

    def attendees(record: Mapping[str, Any]) -> str:
        people = record["attendees"]
        assert isinstance(people, list)
        return ", ".join(f"{PARTSTAT_MARKS.get(a.get('partstat', ''), '·')} {a['id']}" for a in people)

    show(
        records,
        as_json=as_json,
        title=f"Meetings ({len(records)}): ✓ accepted, ✗ declined, ? maybe, · no answer yet",
        columns=[
            Column("start (UTC)", lambda r: minute(r["start"])),
            Column.of("status", "status"),
            Column.of("seq", "sequence"),
            Column.of("rule", "rule"),
            Column.of("title", "title"),
            Column("attendees", attendees),
        ],
    )


feed_app = typer.Typer(
    name="feed",
    help="Personal calendar feeds (webcal): issue, rotate or revoke a person's feed link.",
    no_args_is_help=True,
)
app.add_typer(feed_app)


def _person_known(store: Store, person_id: str) -> None:
    from strides.store import snapshot

    with store.session() as session:
        if not snapshot.has_person(session, person_id):
            raise fail(f"unknown person {person_id!r}")


@feed_app.command("issue")
def feed_issue(
    person: Annotated[str, typer.Argument(help="Person id.")],
    demo: DemoOption = False,
    as_json: JsonOption = False,
) -> None:
    """Give PERSON a new feed link; an earlier link stops working (rotation). The token is shown once."""
    from strides.store import feed_tokens

    store = open_store(demo)
    _person_known(store, person)
    with store.session() as session:
        token = feed_tokens.issue(session, person, datetime.now(UTC))
    url = f"{state.settings.feed_base_url.rstrip('/')}/feeds/{token}.ics"
    webcal = "webcal://" + url.split("://", 1)[1]
    if as_json:
        typer.echo(json.dumps({"person": person, "url": url, "webcal": webcal}, indent=2))
        return
    say(f"Feed for {person} (subscribe in a calendar app; keep it private):")
    say(f"  {webcal}")
    say(f"  {url}")


@feed_app.command("revoke")
def feed_revoke(
    person: Annotated[str, typer.Argument(help="Person id.")],
    demo: DemoOption = False,
) -> None:
    """Stop PERSON's feed link from working (their calendar app stops updating)."""
    from strides.store import feed_tokens

    store = open_store(demo)
    with store.session() as session:
        revoked = feed_tokens.revoke(session, person, datetime.now(UTC))
    say(f"revoked {revoked} feed link(s) of {person}")
