"""What comes back after strides sends: providers' events about a message, and attendees' replies
to an invitation, in strides' own terms.

The edges read them (integrations/sendgrid_events.py from SendGrid's Event Webhook,
integrations/itip_reply.py from iMIP replies) and translate the vendors' names; the store records
them (strides/store/suppressions.py, strides/store/invites.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Events after which strides stops mailing the address: the event -> the suppression's reason.
SUPPRESSING = {"bounced": "bounce", "complained": "spamreport", "unsubscribed": "unsubscribe"}


@dataclass(frozen=True)
class EmailEvent:
    """One provider event about one message (queued, delivered, bounced, opened...)."""

    event_id: str
    # strides' name for the event; `provider_event` is the provider's, `raw` what it posted.
    event: str
    provider_event: str
    email: str
    # The message's idempotency key (None when the provider's event names no strides message).
    message_key: str | None
    occurred_at: datetime
    reason: str | None
    provider_message_id: str | None
    raw: dict[str, Any]

    @property
    def suppresses(self) -> str | None:
        """The suppression reason this event sets, if any."""
        return SUPPRESSING.get(self.event)


@dataclass(frozen=True)
class Reply:
    """One attendee's answer about one meeting (an iTIP REPLY, RFC 5546 3.2.3)."""

    uid: str
    sequence: int
    attendee: str  # email address, lower case
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE, DELEGATED or NEEDS-ACTION
    stamp: datetime  # DTSTAMP of the reply, UTC
    sender: str  # the From address of the email, lower case ("" when unknown)
    source: str
    comment: str = ""
