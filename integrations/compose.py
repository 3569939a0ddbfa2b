"""From a planned message to a finished email: invites, notices and digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.integrations.digest_data import digest_data
from strides.integrations.mime import Envelope, invite_message, simple_message
from strides.integrations.render import local_time, render_digest, render_notice
from strides.integrations.transport import Outgoing
from strides.model import Organisation, Person
from strides.rules.digest import compose_digest
from strides.rules.intents import Intent
from strides.rules.schema import Kind


@dataclass(frozen=True)
class Sender:
    """Who strides mails as; invites name it ORGANIZER, so replies come back here."""

    email: str
    name: str = "strides"
    location: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]

    @property
    def address(self) -> Address:
        user, domain = self.email.rsplit("@", 1)
        return Address(self.name, user, domain)


def _address(person: Person) -> Address:
    user, domain = str(person.email).rsplit("@", 1)
    return Address(person.name, user, domain)


def label(intent: Intent) -> str:
    """A readable, stable name for the message (used for outbox file names)."""
    return f"{intent.send_at:%Y%m%dT%H%MZ}-{intent.rule_id}-{intent.recipient}"


def _envelope(intent: Intent, person: Person, sender: Sender, now: datetime, subject: str) -> Envelope:
    return Envelope(
        sender=sender.address,
        to=_address(person),
        subject=subject,
        message_id=f"<{intent.key}@{sender.domain}>",
        date=now,
        headers=(
            ("X-Strides-Rule", intent.rule_id),
            ("X-Strides-Key", intent.key),
            ("X-Strides-Person", intent.recipient),
            ("X-Strides-Kind", intent.kind.value),
        ),
    )


def compose(
    intent: Intent, org: Organisation, sender: Sender, now: datetime, upcoming: list[str] | None = None
) -> EmailMessage:
    person = org.people[intent.recipient]
    if intent.kind is Kind.INVITE:
        return _invite(intent, org, person, sender, now)
    if intent.kind is Kind.DIGEST:
        digest = compose_digest(person, org, intent.occurrence)
        text, html = render_digest(digest, upcoming or [])
        subject = f"Your week in growth: {len(digest.goals)} goals, {len(digest.due_soon)} due soon"
        return simple_message(_envelope(intent, person, sender, now, subject), text, html)
    text, html = render_notice(person, intent.title, intent.body)
    return simple_message(_envelope(intent, person, sender, now, intent.title), text, html)


def _invite(intent: Intent, org: Organisation, person: Person, sender: Sender, now: datetime) -> EmailMessage:
    meeting = intent.meeting
    if meeting is None:
        raise ValueError(f"invite {intent.key} has no meeting")
    attendees = tuple(
        Party(org.people[a].name, str(org.people[a].email)) for a in meeting.attendees if a in org.people
    )
    spec = InviteSpec(
        uid=meeting.uid,
        summary=intent.title,
        description=intent.body,
        start=meeting.start,
        end=meeting.end,
        organiser=Party(sender.name, sender.email, "CHAIR"),
        attendees=attendees,
        location=sender.location,
    )
    ics = build_ics(spec, stamp=now, method="REQUEST")
    when = local_time(meeting.start, person)
    with_whom = ", ".join(p.name for p in attendees if p.email != str(person.email)) or "just you"
    text, html = render_notice(person, intent.title, intent.body, f"{when} · with {with_whom}")
    return invite_message(
        _envelope(intent, person, sender, now, f"Invitation: {intent.title}"), text, html, ics, "REQUEST"
    )


def outgoing(
    intent: Intent,
    org: Organisation,
    sender: Sender,
    now: datetime,
    upcoming: list[str] | None = None,
    *,
    with_data: bool = False,
) -> Outgoing:
    """The finished message, plus the digest as data when a template mode will render it."""
    message = compose(intent, org, sender, now, upcoming)
    data = None
    if with_data and intent.kind is Kind.DIGEST:
        person = org.people[intent.recipient]
        digest = compose_digest(person, org, intent.occurrence)
        data = digest_data(digest, upcoming or [], f"{digest.as_of.astimezone(person.tz):%A %d %B %Y}")
    return Outgoing(intent.key, message, label(intent), data)
