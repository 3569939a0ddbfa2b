"""iMIP REPLY parsing (RFC 5546 3.2.3, RFC 6047): an attendee's Accept, Decline or Maybe.

Replies arrive as a whole email (an `.eml` file, or the `email` field SendGrid's Inbound Parse
posts when "POST the raw, full MIME message" is on) or as Inbound Parse's parsed form, where
the calendar travels as an attachment (`attachment1`..., described by `attachment-info`).
This module only reads them, into `Reply` (strides.domain.responses); strides/store/invites.py
decides whether a reply matches a meeting and records it.
"""

from __future__ import annotations

import email
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.policy import default as default_policy
from email.utils import parseaddr

from icalendar import Calendar

from strides.domain.responses import Reply
from strides.integrations import IntegrationError

CALENDAR_TYPES = ("text/calendar", "application/ics")
PARTSTATS = ("ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION")


class ReplyError(IntegrationError, ValueError):
    """A message that is not a usable iTIP REPLY; says which source and why."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def _mailto(value: object) -> str:
    return str(value).removeprefix("mailto:").removeprefix("MAILTO:").strip().lower()


def replies_from_calendar(data: bytes, source: str, sender: str = "") -> list[Reply]:
    """Every REPLY in one iCalendar object; raises ReplyError when it is not a valid REPLY."""
    try:
        calendar = Calendar.from_ical(data)
    except ValueError as exc:
        raise ReplyError(source, f"not an iCalendar object: {exc}") from exc
    method = str(calendar.get("METHOD", "")).upper()
    if method != "REPLY":
        raise ReplyError(source, f"METHOD is {method or 'missing'}, not REPLY")
    replies = []
    for event in calendar.events:
        if event.errors:
            raise ReplyError(source, f"invalid VEVENT: {event.errors}")
        if "UID" not in event:
            raise ReplyError(source, "the VEVENT has no UID")
        attendees = event.get("ATTENDEE")
        if attendees is None:
            raise ReplyError(source, f"UID {event['UID']}: no ATTENDEE")
        stamp = event.get("DTSTAMP")
        moment = stamp.dt if stamp is not None else None
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ReplyError(source, f"UID {event['UID']}: DTSTAMP missing or not in UTC")
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            partstat = str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            if partstat not in PARTSTATS:
                raise ReplyError(source, f"UID {event['UID']}: unknown PARTSTAT {partstat}")
            replies.append(
                Reply(
                    uid=str(event["UID"]),
                    sequence=int(event.get("SEQUENCE", 0)),
                    attendee=_mailto(attendee),
                    partstat=partstat,
                    stamp=moment.astimezone(UTC),
                    sender=sender,
                    source=source,
                    comment=str(event.get("COMMENT", "")),
                )
            )
    if not replies:
        raise ReplyError(source, "the calendar holds no VEVENT")
    return replies


def _calendar_parts(message: Message) -> Iterator[bytes]:
    for part in message.walk():
        if part.get_content_type() in CALENDAR_TYPES:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                yield payload


def replies_from_email(data: bytes, source: str) -> list[Reply]:
    """The REPLY inside an email. The calendar is often both inline and attached: read it once."""
    message = email.message_from_bytes(data, policy=default_policy)
    sender = parseaddr(str(message.get("From", "")))[1].lower()
    parts = list(dict.fromkeys(_calendar_parts(message)))
    if not parts:
        raise ReplyError(source, "no text/calendar part: not a calendar reply")
    replies: dict[tuple[str, str], Reply] = {}
    for part in parts:
        for reply in replies_from_calendar(part, source, sender):
            replies.setdefault((reply.uid, reply.attendee), reply)
    return list(replies.values())


def replies_from_inbound_parse(
    fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes]], source: str
) -> list[Reply]:
    """SendGrid Inbound Parse: `fields` are the form's text fields, `files` its uploads
    (name -> (content type, bytes)). Uses the raw `email` field when present."""
    if fields.get("email"):
        return replies_from_email(fields["email"].encode("utf-8", "surrogateescape"), source)
    sender = parseaddr(fields.get("from", ""))[1].lower()
    info = json.loads(fields.get("attachment-info") or "{}")
    calendars = [
        data
        for name, (content_type, data) in sorted(files.items())
        if content_type.split(";")[0].strip().lower() in CALENDAR_TYPES
        or str(info.get(name, {}).get("type", "")).lower() in CALENDAR_TYPES
    ]
    if not calendars:
        raise ReplyError(source, "the Inbound Parse post has neither `email` nor a calendar attachment")
    return [reply for data in calendars for reply in replies_from_calendar(data, source, sender)]


def parse_form_data(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Split a multipart/form-data body (what Inbound Parse POSTs) into fields and files."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.message_from_bytes(head + body, policy=default_policy)
    if not message.is_multipart():
        raise ValueError("not a multipart/form-data body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts() if isinstance(message, EmailMessage) else []:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if part.get_filename() is not None:
            files[name] = (part.get_content_type(), data)
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[name] = data.decode(charset, "replace")
    return fields, files


def replies_from_file(data: bytes, source: str) -> list[Reply]:
    """An `.eml`, an `.ics`, or a saved Inbound Parse body (starts with its `--boundary`)."""
    text = data.lstrip()
    if text.startswith(b"BEGIN:VCALENDAR"):
        return replies_from_calendar(data, source)
    if text.startswith(b"--"):
        boundary = text.split(b"\n", 1)[0].strip()[2:].decode("ascii", "replace")
        fields, files = parse_form_data(text, f'multipart/form-data; boundary="{boundary}"')
        return replies_from_inbound_parse(fields, files, source)
    return replies_from_email(data, source)
