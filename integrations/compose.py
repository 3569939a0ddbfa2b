"""From a planned message to a finished email: invites, notices and digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email

from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.integrations.digest_data import digest_data
from strides.integrations.mime import Envelope, invite_message, simple_message
from strides.integrations.render import local_time, render_digest, render_notice
from strides.integrations.transport import Outgoing
from strides.integrations.unsubscribe import UnsubscribeLinks
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
    links: UnsubscribeLinks | None = None

    def unsubscribe(self, intent: Intent) -> tuple[tuple[str, str], ...]:
        """List-Unsubscribe headers for digests and reminders (invites are meetings, not mailings)."""
        if self.links is None or intent.kind is Kind.INVITE:
            return ()
        return self.links.headers(intent.recipient, intent.kind.value)

    def unsubscribe_url(self, intent: Intent) -> str | None:
        if self.links is None or intent.kind is Kind.INVITE:
            return None
        return self.links.url(intent.recipient, intent.kind.value)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]

    @property
    def address(self) -> Address:
        user, domain = self.email.rsplit("@", 1)
        return Address(self.name, user, domain)


def _address(person: Person) -> Address:
    """The person's address, checked again here: snapshots and hand-edited stores can hold anything."""
    if "\r" in person.name or "\n" in person.name:
        raise ValueError(f"line break in the name of {person.id}: {person.name!r}")
    try:
        checked = validate_email(str(person.email), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"invalid address for {person.id}: {exc}") from exc
    user, domain = checked.normalized.rsplit("@", 1)
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
            *sender.unsubscribe(intent),
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
        text, html = render_digest(digest, upcoming or [], sender.unsubscribe_url(intent))
        subject = f"Your week in growth: {len(digest.goals)} goals, {len(digest.due_soon)} due soon"
        return simple_message(_envelope(intent, person, sender, now, subject), text, html)
    text, html = render_notice(person, intent.title, intent.body, "", sender.unsubscribe_url(intent))
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
        sequence=meeting.sequence,
        location=sender.location,
    )
    ics = build_ics(spec, stamp=now, method=meeting.method)
    when = local_time(meeting.start, person)
    with_whom = ", ".join(p.name for p in attendees if p.email != str(person.email)) or "just you"
    prefix, note = _invite_wording(meeting.method, meeting.sequence)
    body = f"{note}\n\n{intent.body}" if note else intent.body
    text, html = render_notice(person, intent.title, body, f"{when} · with {with_whom}")
    subject = f"{prefix}: {intent.title}"
    return invite_message(_envelope(intent, person, sender, now, subject), text, html, ics, meeting.method)


def _invite_wording(method: str, sequence: int) -> tuple[str, str]:
    """Subject prefix and a first line, in the words calendar clients use."""
    if method == "CANCEL":
        return "Canceled", "This meeting was cancelled for you; your calendar will remove it."
    if sequence > 0:
        return (
            "Updated invitation",
            "This meeting has changed; the invitation below replaces the earlier one.",
        )
    return "Invitation", ""


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
