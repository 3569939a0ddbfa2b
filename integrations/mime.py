"""RFC 5322 messages in the shapes real mail clients expect."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from strides.integrations.calendar_invite import Method


class _SharedHeaders(HeaderRegistry):
    """The standard header registry, with its classes made once and the MIME headers every message
    repeats (`Content-Type: text/plain; charset="utf-8"`...) parsed once.

    The stock registry makes a new class for every header it parses, and parses each MIME header
    again on every `set_content`: about 3 of the 4.5 ms it took to build an invite. A parsed header
    is immutable, so messages can share it. Building the MIME of 814 invites: 4.5 ms each before,
    see bench/first_day.py for the delivery figures.
    """

    _SHARED = frozenset({"content-type", "content-transfer-encoding", "content-disposition", "mime-version"})
    _LIMIT = 4096  # distinct MIME headers kept (boundaries make each multipart's own)

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made

    def __call__(self, name: str, value: Any) -> BaseHeader:
        key = name.lower()
        if key not in self._SHARED or not isinstance(value, str):
            return super().__call__(name, value)
        found = self._parsed.get((key, value))
        if found is None or found.name != name:
            if len(self._parsed) >= self._LIMIT:
                self._parsed.clear()
            found = self._parsed[(key, value)] = super().__call__(name, value)
        return found


# The default policy (RFC-compliant headers, `\n` line ends while building; the transports
# serialise with policy.SMTP), its headers made by the registry above.
BUILDING = policy.default.clone(header_factory=_SharedHeaders())


def new_message() -> EmailMessage:
    return EmailMessage(policy=BUILDING)


# One boundary per process and multipart subtype, chosen here rather than by the generator: it
# makes a new random one for each multipart and compiles a regular expression to check it against
# the body, about 0.6 ms a part, and each new value is one more Content-Type to parse. A part
# containing it (it would have to be typed in) gets the generator's own random boundary instead.
_BOUNDARY = secrets.token_hex(16)


def _boundary(subtype: str, *parts: str) -> str | None:
    boundary = f"strides-{subtype}-{_BOUNDARY}"
    return None if any(boundary in part for part in parts) else boundary


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
    message = new_message()
    _headers(message, envelope)
    message.set_content(text, subtype="plain", charset="utf-8")
    if html is not None:
        message.make_alternative(boundary=_boundary("alternative", text, html))
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def invite_message(envelope: Envelope, text: str, html: str, ics: bytes, method: Method) -> EmailMessage:
    """multipart/mixed: alternative(text, html, text/calendar; method=...) + the same .ics attached.

    Outlook needs the calendar inside the alternative with the method on the MIME type;
    Gmail often ignores a calendar that is only attached (shared/FIELD-NOTES.md).
    """
    message = new_message()
    _headers(message, envelope)
    calendar = ics.decode("utf-8")
    message.set_content(text, subtype="plain", charset="utf-8")
    message.make_alternative(boundary=_boundary("alternative", text, html, calendar))
    message.add_alternative(html, subtype="html", charset="utf-8")
    message.add_alternative(calendar, subtype="calendar", charset="utf-8", params={"method": method})
    message.make_mixed(boundary=_boundary("mixed", text, html, calendar))
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

    def size_bound(self) -> int:
        """More than the MIME message can weigh: every byte of text or HTML quoted-printable
        (three bytes at most), the calendar both as text and base64, and the headers, folded."""
        headers = sum(len(name) + 3 * len(value.encode()) for name, value in self.envelope.headers)
        named = self.envelope.subject, self.envelope.to.display_name, self.envelope.sender.display_name
        headers += 3 * sum(len(value.encode()) for value in named) + 1000
        parts = len(self.text.encode()) + len((self.html or "").encode())
        calendar = len(self.ics) * 5 if self.ics else 0
        return 4096 + 2 * headers + 3 * parts + parts // 25 + calendar

    def size(self) -> int:
        """About what the MIME message weighs (base64 for the calendar attachment)."""
        calendar = len(self.ics) * 7 // 3 if self.ics else 0
        return 2000 + len(self.text.encode()) + len((self.html or "").encode()) + calendar
