"""One seam for sending: every transport takes a finished message and its idempotency key."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Transport(Protocol):
    """Sends one message. Sending the same key twice must not deliver it twice."""

    name: str

    def send(self, key: str, message: EmailMessage, label: str) -> str:
        """Deliver `message`; return the transport's reference (a path, a provider id)."""
        ...
