"""SendGrid's Event Webhook: verify the signature over the raw body, then parse events into ours.

SendGrid's event names map onto strides' own through one table (as django-anymail does), into an
`EmailEvent` (strides.domain.responses) that keeps the raw event alongside. Messages are found
again by the `strides_key` custom arg every payload carries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from sendgrid.helpers.eventwebhook import EventWebhook

from strides.domain.responses import EmailEvent
from strides.integrations import IntegrationError

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# SendGrid's name -> strides' name.
EVENTS = {
    "processed": "queued",
    "deferred": "deferred",
    "delivered": "delivered",
    "bounce": "bounced",
    "blocked": "blocked",
    "dropped": "rejected",
    "spamreport": "complained",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "group_unsubscribed",
    "group_resubscribe": "group_resubscribed",
    "open": "opened",
    "click": "clicked",
}


class WebhookError(IntegrationError, ValueError):
    """A webhook request that is not SendGrid's, is too old, or cannot be read."""


class Verifier:
    """Checks `X-Twilio-Email-Event-Webhook-Signature` (ECDSA P-256, SHA-256) over timestamp + raw body."""

    def __init__(self, public_key: str, tolerance: timedelta = timedelta(minutes=10)) -> None:
        try:
            self._webhook = EventWebhook(public_key)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise WebhookError(
                f"the Event Webhook verification key is not a valid public key: {exc}"
            ) from exc
        self.tolerance = tolerance

    def verify(self, body: bytes, signature: str | None, timestamp: str | None, now: datetime) -> None:
        if not signature or not timestamp:
            raise WebhookError("missing signature or timestamp header")
        try:
            signed_at = datetime.fromtimestamp(int(timestamp), UTC)
        except (ValueError, OverflowError) as exc:
            raise WebhookError(f"bad timestamp {timestamp!r}") from exc
        if abs(now - signed_at) > self.tolerance:
            raise WebhookError(f"stale signature: signed at {signed_at:%Y-%m-%d %H:%M:%S} UTC")
        try:
            text = body.decode("utf-8")
            ok = self._webhook.verify_signature(text, signature, timestamp)
        except (UnicodeDecodeError, ValueError, TypeError) as exc:
            raise WebhookError(f"unreadable signature: {exc}") from exc
        if not ok:
            raise WebhookError("signature does not match the body")


def _event_id(raw: dict[str, Any]) -> str:
    if raw.get("sg_event_id"):
        return str(raw["sg_event_id"])[:100]
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()
    return "sha256:" + base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode()[:43]


def parse_events(body: bytes) -> tuple[list[EmailEvent], list[str]]:
    """SendGrid posts a JSON array of events; unknown event names are kept as their own name.

    An item that is not a usable event is skipped and said why (second list), so that one bad
    item does not make SendGrid retry, and lose, the whole batch."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise WebhookError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise WebhookError("body is not a JSON array of events")
    events: list[EmailEvent] = []
    skipped: list[str] = []
    for index, raw in enumerate(data):
        if not isinstance(raw, dict) or "event" not in raw or "email" not in raw:
            skipped.append(f"item {index}: not an event: {str(raw)[:200]}")
            continue
        try:
            occurred = datetime.fromtimestamp(int(raw.get("timestamp", 0)), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            skipped.append(f"item {index}: bad timestamp {str(raw.get('timestamp'))[:40]!r}")
            continue
        name = str(raw["event"])
        event = EVENTS.get(name, name)
        # SendGrid reports blocks (temporary refusals) as bounce events of type "blocked".
        if name == "bounce" and raw.get("type") == "blocked":
            event = "blocked"
        reason = raw.get("reason") or raw.get("response") or raw.get("type")
        events.append(
            EmailEvent(
                event_id=_event_id(raw),
                event=event,
                provider_event=name,
                email=str(raw["email"]).strip().lower(),
                message_key=str(raw["strides_key"]) if raw.get("strides_key") else None,
                occurred_at=occurred,
                reason=str(reason) if reason else None,
                provider_message_id=str(raw["sg_message_id"]) if raw.get("sg_message_id") else None,
                raw=raw,
            )
        )
    return events, skipped
