"""RFC 5322 messages in the shapes real mail clients expect."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from strides.integrations.calendar_invite import Method


@dataclass(frozen=True)
class Envelope:
    sender: Address
    to: Address
    subject: str
    message_id: str
    date: datetime
    headers: tuple[tuple[str, str], ...] = ()


def check_envelope(envelope: Envelope) -> None:
    """Header injection guard: no line breaks in anything that becomes a header."""
    values = [envelope.subject, envelope.to.display_name, envelope.sender.display_name]
    values += [v for pair in envelope.headers for v in pair]
    for bad in values:
        if "\r" in bad or "\n" in bad:
            raise ValueError("line breaks are not allowed in names or subjects")


def _headers(message: EmailMessage, envelope: Envelope) -> None:
    check_envelope(envelope)
    message["From"] = envelope.sender
    message["To"] = envelope.to
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(envelope.date)
    message["Message-ID"] = envelope.message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in envelope.headers:
        message[name] = value


def simple_message(envelope: Envelope, text: str, html: str | None = None) -> EmailMessage:
    """text/plain, or multipart/alternative with an HTML version."""
    message = EmailMessage()
    _headers(message, envelope)
    message.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def invite_message(envelope: Envelope, text: str, html: str, ics: bytes, method: Method) -> EmailMessage:
    """multipart/mixed: alternative(text, html, text/calendar; method=...) + the same .ics attached.

    Outlook needs the calendar inside the alternative with the method on the MIME type;
    Gmail often ignores a calendar that is only attached (shared/FIELD-NOTES.md).
    """
    message = EmailMessage()
    _headers(message, envelope)
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    message.add_alternative(
        ics.decode("utf-8"), subtype="calendar", charset="utf-8", params={"method": method}
    )
    message.add_attachment(
        ics,
        maintype="application",
        subtype="ics",
        filename="invite.ics" if method == "REQUEST" else "cancel.ics",
    )
    return message


@dataclass(frozen=True)
class Content:
    """A message before MIME: what every transport needs, in parts a provider's API can take directly.

    `text` empty with no html means "rendered elsewhere" (a provider's template).
    """

    envelope: Envelope
    text: str
    html: str | None = None
    ics: bytes | None = None
    method: Method | None = None

    def __post_init__(self) -> None:
        check_envelope(self.envelope)

    @property
    def ics_filename(self) -> str:
        return "invite.ics" if self.method == "REQUEST" else "cancel.ics"

    def message(self) -> EmailMessage:
        if self.ics is not None and self.method is not None:
            return invite_message(self.envelope, self.text, self.html or "", self.ics, self.method)
        return simple_message(self.envelope, self.text, self.html)

    def size(self) -> int:
        """About what the MIME message weighs (base64 for the calendar attachment)."""
        calendar = len(self.ics) * 7 // 3 if self.ics else 0
        return 2000 + len(self.text.encode()) + len((self.html or "").encode()) + calendar
