"""Step one of three: SendGrid v3 `mail/send` JSON from a finished message. Pure: no I/O.

The message is the same `EmailMessage` every transport gets; its parts map onto SendGrid's fields:
text/plain, text/html and `text/calendar; method=...` become `content` (in that order, as SendGrid
requires), attachments become base64 `attachments`, strides' own X-Strides-* headers become
`custom_args` (so Event Webhook events come back with the message's idempotency key), and the
remaining headers (Message-ID, Auto-Submitted, List-Unsubscribe...) travel as `headers`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

from strides.integrations.mime import Content

MAX_PERSONALIZATIONS = 1000
MAX_CATEGORIES = 10
# Headers SendGrid sets itself or takes from dedicated fields; sending them as `headers` is refused.
RESERVED = {
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "reply-to",
    "content-type",
    "content-transfer-encoding",
    "mime-version",
    "date",
    "received",
    "dkim-signature",
    "x-sg-id",
    "x-sg-eid",
}
ARG_PREFIX = "x-strides-"


@dataclass(frozen=True)
class Options:
    """What the configuration adds to every payload."""

    categories: tuple[str, ...] = ("strides",)
    sandbox: bool = False
    # SendGrid unsubscribe group (ASM) per category: ("digest", 123), ("email", 124)...
    asm_groups: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Parts:
    sender: dict[str, str]
    to: dict[str, str]
    subject: str
    contents: list[dict[str, str]] = field(default_factory=list)
    attachments: list[dict[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)

    @property
    def is_invite(self) -> bool:
        return any(c["type"].startswith("text/calendar") for c in self.contents)


def _address(address: Address) -> dict[str, str]:
    result = {"email": address.addr_spec}
    if address.display_name:
        result["name"] = address.display_name
    return result


def _content_rank(entry: dict[str, str]) -> int:
    return {"text/plain": 0, "text/html": 1}.get(entry["type"], 2)


def parts_of(message: EmailMessage) -> Parts:
    """Take a finished message apart into the pieces SendGrid's JSON wants."""
    contents: list[dict[str, str]] = []
    attachments: list[dict[str, str]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        assert isinstance(part, EmailMessage)
        ctype = part.get_content_type()
        if part.is_attachment():
            raw = part.get_payload(decode=True)
            assert isinstance(raw, bytes)
            attachments.append(
                {
                    "content": base64.b64encode(raw).decode("ascii"),
                    # SendGrid refuses ';' or line breaks in an attachment type: the bare type only.
                    "type": ctype,
                    "filename": part.get_filename() or "attachment",
                    "disposition": "attachment",
                }
            )
            continue
        text = part.get_content()
        if ctype == "text/calendar":
            param = part.get_param("method")
            method = param.upper() if isinstance(param, str) else "REQUEST"
            contents.append({"type": f"text/calendar; method={method}", "value": text})
        else:
            contents.append({"type": ctype, "value": text})
    contents.sort(key=_content_rank)
    headers: dict[str, str] = {}
    args: dict[str, str] = {}
    for name, value in message.items():
        lowered = name.lower()
        if lowered.startswith(ARG_PREFIX):
            args["strides_" + lowered[len(ARG_PREFIX) :]] = str(value)
        elif lowered not in RESERVED:
            headers[name] = str(value)
    return Parts(
        sender=_address(message["From"].addresses[0]),
        to=_address(message["To"].addresses[0]),
        subject=str(message["Subject"]),
        contents=contents,
        attachments=attachments,
        headers=headers,
        args=args,
    )


def parts_from_content(content: Content) -> Parts:
    """The same pieces straight from strides' structured content: no MIME built or parsed (fast path)."""
    envelope = content.envelope
    contents = [{"type": "text/plain", "value": content.text}] if content.text else []
    if content.html:
        contents.append({"type": "text/html", "value": content.html})
    attachments: list[dict[str, str]] = []
    if content.ics is not None and content.method is not None:
        contents.append({"type": f"text/calendar; method={content.method}", "value": content.ics.decode()})
        attachments.append(
            {
                "content": base64.b64encode(content.ics).decode("ascii"),
                "type": "application/ics",
                "filename": content.ics_filename,
                "disposition": "attachment",
            }
        )
    headers = {"Message-ID": envelope.message_id, "Auto-Submitted": "auto-generated"}
    args: dict[str, str] = {}
    for name, value in envelope.headers:
        lowered = name.lower()
        if lowered.startswith(ARG_PREFIX):
            args["strides_" + lowered[len(ARG_PREFIX) :]] = value
        elif lowered not in RESERVED:
            headers[name] = value
    return Parts(
        sender=_address(envelope.sender),
        to=_address(envelope.to),
        subject=envelope.subject,
        contents=contents,
        attachments=attachments,
        headers=headers,
        args=args,
    )


def to_parts(source: EmailMessage | Content | Parts) -> Parts:
    """The parts of a MIME message or of structured content (a Parts is its own)."""
    if isinstance(source, Parts):
        return source
    if isinstance(source, EmailMessage):
        return parts_of(source)
    return parts_from_content(source)


def _categories(options: Options, args: Mapping[str, str]) -> list[str]:
    wanted = [*options.categories, args.get("strides_kind", ""), args.get("strides_rule", "")]
    unique = list(dict.fromkeys(c for c in wanted if c))
    return unique[:MAX_CATEGORIES]


def _settings(options: Options, *, invite: bool, category: str = "") -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if options.sandbox:
        payload["mail_settings"] = {"sandbox_mode": {"enable": True}}
    if invite:
        # Click tracking rewrites links and, with them, the calendar part; invites go untouched.
        payload["tracking_settings"] = {"click_tracking": {"enable": False, "enable_text": False}}
    group = dict(options.asm_groups).get(category)
    if group is not None:
        payload["asm"] = {"group_id": group}
    return payload


def build_payload(source: EmailMessage | Content | Parts, options: Options) -> dict[str, Any]:
    """One rendered message (MIME or strides' structured content) as a `mail/send` request body."""
    parts = to_parts(source)
    personalization: dict[str, Any] = {"to": [parts.to]}
    if parts.args:
        personalization["custom_args"] = parts.args
    payload: dict[str, Any] = {
        "personalizations": [personalization],
        "from": parts.sender,
        "subject": parts.subject,
        "content": parts.contents,
    }
    if parts.attachments:
        payload["attachments"] = parts.attachments
    if parts.headers:
        payload["headers"] = parts.headers
    categories = _categories(options, parts.args)
    if categories:
        payload["categories"] = categories
    payload.update(_settings(options, invite=parts.is_invite, category=parts.args.get("strides_kind", "")))
    return payload


@dataclass(frozen=True)
class TemplateItem:
    """One digest for the dynamic-template mode: recipient, its custom args and the data."""

    to: dict[str, str]
    args: dict[str, str]
    data: Mapping[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def template_item(source: EmailMessage | Content | Parts, data: Mapping[str, Any]) -> TemplateItem:
    parts = to_parts(source)
    headers = {k: v for k, v in parts.headers.items() if k.lower() != "message-id"}
    return TemplateItem(parts.to, parts.args, {"subject": parts.subject, **data}, headers)


def build_template_payload(
    items: Sequence[TemplateItem], sender: Mapping[str, str], template_id: str, options: Options
) -> dict[str, Any]:
    """Up to 1000 digests in one request: one personalization each, the template renders them."""
    if not 1 <= len(items) <= MAX_PERSONALIZATIONS:
        raise ValueError(f"a request carries 1 to {MAX_PERSONALIZATIONS} personalizations, not {len(items)}")
    personalizations = []
    for item in items:
        entry: dict[str, Any] = {
            "to": [item.to],
            "custom_args": item.args,
            "dynamic_template_data": dict(item.data),
        }
        if item.headers:
            entry["headers"] = item.headers
        personalizations.append(entry)
    payload: dict[str, Any] = {
        "personalizations": personalizations,
        "from": dict(sender),
        "template_id": template_id,
    }
    categories = list(dict.fromkeys([*options.categories, "digest"]))[:MAX_CATEGORIES]
    payload["categories"] = categories
    payload.update(_settings(options, invite=False, category="digest"))
    return payload
