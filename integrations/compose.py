"""From a planned message to a finished email: invites, notices and digests."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from email_validator import EmailNotValidError, validate_email

from strides.domain.model import Organisation, Person
from strides.domain.schema import Kind
from strides.integrations.calendar_invite import InviteSpec, Party, build_ics
from strides.integrations.digest_data import digest_data
from strides.integrations.i18n import language, translations
from strides.integrations.mime import Content, Envelope
from strides.integrations.preference_links import PreferenceLinks
from strides.integrations.render import local_time, render_digest, render_notice
from strides.integrations.transport import Outgoing
from strides.integrations.unsubscribe import UnsubscribeLinks
from strides.rules.digest import Digest
from strides.rules.intents import Intent


@dataclass(frozen=True)
class Sender:
    """Who strides mails as; invites name it ORGANIZER, so replies come back here."""

    email: str
    name: str = "strides"
    location: str | None = None
    links: UnsubscribeLinks | None = None
    preferences: PreferenceLinks | None = None

    def unsubscribe(self, intent: Intent) -> tuple[tuple[str, str], ...]:
        """List-Unsubscribe headers for digests and reminders (invites are meetings, not mailings)."""
        if self.links is None or intent.kind is Kind.INVITE:
            return ()
        return self.links.headers(intent.recipient, intent.kind.value)

    def unsubscribe_url(self, intent: Intent) -> str | None:
        if self.links is None or intent.kind is Kind.INVITE:
            return None
        return self.links.url(intent.recipient, intent.kind.value)

    def preferences_url(self, intent: Intent, now: datetime) -> str | None:
        """The recipient's own preference page (people of the organisation, not fixed addresses)."""
        if self.preferences is None or "@" in intent.recipient:
            return None
        return self.preferences.url(intent.recipient, now)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1]

    @property
    def address(self) -> Address:
        user, domain = self.email.rsplit("@", 1)
        return Address(self.name, user, domain)


_PLAIN_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,61}[A-Za-z0-9]$"
)


def _address(person: Person) -> Address:
    """The person's address, checked again here: snapshots and hand-edited stores can hold anything."""
    if "\r" in person.name or "\n" in person.name:
        raise ValueError(f"line break in the name of {person.id}: {person.name!r}")
    email = str(person.email)
    if not _PLAIN_ADDRESS.match(email):
        # Anything but a plain ASCII address gets the full (slower) check.
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValueError(f"invalid address for {person.id}: {exc}") from exc
    user, domain = email.rsplit("@", 1)
    return Address(person.name, user, domain)


def display_name(address: str) -> str:
    """A name for a fixed address from its local part: growth-team@x.org -> "Growth Team"."""
    words = re.split(r"[._+-]+", address.rsplit("@", 1)[0])
    return " ".join(w[:1].upper() + w[1:] for w in words if w) or address


def addressee(intent: Intent, org: Organisation) -> Person:
    """Whom the message goes to, as a person: one of the organisation, or a fixed address.

    A fixed address (a rule's `to: [growth-team@example.com]`) is nobody's: it stands in as a
    person named after its local part, who sees times in the timezone of the person the message
    is about (the subject's owner; the meeting's own timezone when the owner is unknown).
    """
    person = org.people.get(intent.recipient)
    if person is not None:
        return person
    if "@" not in intent.recipient:
        raise KeyError(f"{intent.recipient} is not in the organisation")
    if intent.kind is Kind.DIGEST:
        raise ValueError(f"a digest goes to a person of the organisation, not to {intent.recipient}")
    owner = org.people.get(intent.owner or "")
    zone = owner.timezone if owner else intent.meeting.timezone if intent.meeting else "UTC"
    return Person.model_construct(
        id=intent.recipient,
        name=display_name(intent.recipient),
        email=intent.recipient,
        timezone=zone,
        country=owner.country if owner else "",
        locale=owner.locale if owner else "en",
    )


def _party(org: Organisation, attendee: str) -> Party | None:
    """An attendee of a meeting: a person of the organisation, or a fixed address; None if gone."""
    person = org.people.get(attendee)
    if person is not None:
        return Party(person.name, str(person.email))
    if "@" in attendee:
        return Party(display_name(attendee), attendee)
    return None


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


def _digest_subject(digest: Digest) -> str:
    catalogue = translations(language(digest.person.locale))
    goals = catalogue.ngettext("%(num)d goal", "%(num)d goals", len(digest.goals)) % {
        "num": len(digest.goals)
    }
    return catalogue.gettext("Your week in growth: %(goals)s, %(due)d due soon") % {
        "goals": goals,
        "due": len(digest.due_soon),
    }


def _composed(intent: Intent, digest: Digest | None) -> Digest:
    if digest is None:
        raise ValueError(f"digest {intent.key} was not composed (strides.rules.digest.compose_digest)")
    return digest


def content(
    intent: Intent,
    org: Organisation,
    sender: Sender,
    now: datetime,
    upcoming: list[str] | None = None,
    *,
    digest: Digest | None = None,
) -> Content:
    """The message's parts: envelope, text, HTML and, for invites, the calendar.

    `digest`: what a digest intent shows, already composed (strides.rules.digest.compose_digest);
    it is only rendered here."""
    person = addressee(intent, org)
    if intent.kind is Kind.INVITE:
        return _invite(intent, org, person, sender, now)
    if intent.kind is Kind.DIGEST:
        digest = _composed(intent, digest)
        text, html = render_digest(
            digest, upcoming or [], sender.unsubscribe_url(intent), sender.preferences_url(intent, now)
        )
        return Content(_envelope(intent, person, sender, now, _digest_subject(digest)), text, html)
    text, html = render_notice(
        person,
        intent.title,
        intent.body,
        "",
        sender.unsubscribe_url(intent),
        sender.preferences_url(intent, now),
    )
    return Content(_envelope(intent, person, sender, now, intent.title), text, html)


def compose(
    intent: Intent,
    org: Organisation,
    sender: Sender,
    now: datetime,
    upcoming: list[str] | None = None,
    *,
    digest: Digest | None = None,
) -> EmailMessage:
    """The finished RFC 5322 message."""
    return content(intent, org, sender, now, upcoming, digest=digest).message()


def _invite(intent: Intent, org: Organisation, person: Person, sender: Sender, now: datetime) -> Content:
    meeting = intent.meeting
    if meeting is None:
        raise ValueError(f"invite {intent.key} has no meeting")
    organiser = _party(org, meeting.organiser) if meeting.organiser else None
    # Someone else organises: strides sends on their behalf (SENT-BY), as a delegate would.
    chair = (
        replace(organiser, role="CHAIR", sent_by=sender.email)
        if organiser
        else Party(sender.name, sender.email, "CHAIR")
    )
    attendees = tuple(
        party if a != meeting.organiser else replace(party, role="CHAIR", partstat="ACCEPTED", rsvp=False)
        for a in meeting.attendees
        if (party := _party(org, a)) is not None
    )
    spec = InviteSpec(
        uid=meeting.uid,
        summary=intent.title,
        description=intent.body,
        start=meeting.start,
        end=meeting.end,
        # Replies (iTIP REPLY) go to the organiser: the rule's, else the configured sender.
        organiser=chair,
        attendees=attendees,
        sequence=meeting.sequence,
        location=sender.location,
    )
    ics = build_ics(spec, stamp=now, method=meeting.method)
    when = local_time(meeting.start, person)
    with_whom = ", ".join(p.name for p in attendees if p.email != str(person.email)) or "just you"
    prefix, note = _invite_wording(meeting.method, meeting.sequence)
    body = f"{note}\n\n{intent.body}" if note else intent.body
    text, html = render_notice(
        person, intent.title, body, f"{when} · with {with_whom}", None, sender.preferences_url(intent, now)
    )
    envelope = _envelope(intent, person, sender, now, f"{prefix}: {intent.title}")
    return Content(envelope, text, html, ics, meeting.method)


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
    structured: bool = False,
    digest: Digest | None = None,
) -> Outgoing:
    """One message ready for a transport.

    `structured`: leave MIME unbuilt (a provider's API takes the parts). `with_data`: a digest goes as
    data for the provider's template, and nothing is rendered here at all. `digest`: what a digest
    intent shows, already composed (strides.rules.digest.compose_digest).
    """
    person = addressee(intent, org)
    if with_data and intent.kind is Kind.DIGEST:
        digest = _composed(intent, digest)
        local_date = f"{digest.as_of.astimezone(person.tz):%A %d %B %Y}"
        data = digest_data(digest, upcoming or [], local_date, sender.preferences_url(intent, now))
        parts = Content(_envelope(intent, person, sender, now, _digest_subject(digest)), "")
        return Outgoing(intent.key, None, label(intent), data, parts)
    parts = content(intent, org, sender, now, upcoming, digest=digest)
    message = None if structured else parts.message()
    return Outgoing(intent.key, message, label(intent), None, parts)
