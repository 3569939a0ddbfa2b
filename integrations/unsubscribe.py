"""One-click unsubscribe (RFC 8058): signed links per person and category, and the headers that carry them.

A token is `base64url(person \x1f category) . base64url(HMAC-SHA256(secret, that))[:22]`: it names who
and what, cannot be forged without the secret, and does not expire (old digests must keep working).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from strides.integrations import IntegrationError

# What a person can opt out of: the kinds of message strides sends.
CATEGORIES = {"digest": "the weekly digest", "email": "reminders", "invite": "meeting invitations"}


class TokenError(IntegrationError, ValueError):
    """An unsubscribe token that was not made by this installation."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class UnsubscribeLinks:
    base_url: str
    secret: str

    def __repr__(self) -> str:
        return f"UnsubscribeLinks(base_url={self.base_url!r}, secret=***)"

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self.secret.encode(), payload, hashlib.sha256).digest())[:22]

    def token(self, person_id: str, category: str) -> str:
        payload = f"{person_id}\x1f{category}".encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def read(self, token: str) -> tuple[str, str]:
        """(person id, category) of a token this installation signed; TokenError otherwise."""
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
            person_id, category = payload.decode().split("\x1f", 1)
        except (ValueError, UnicodeDecodeError) as exc:
            raise TokenError("malformed unsubscribe token") from exc
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("unsubscribe token signature does not match")
        if category not in CATEGORIES:
            raise TokenError(f"unknown category {category!r}")
        return person_id, category

    def url(self, person_id: str, category: str) -> str:
        return f"{self.base_url.rstrip('/')}/unsubscribe/{self.token(person_id, category)}"

    def headers(self, person_id: str, category: str) -> tuple[tuple[str, str], ...]:
        """RFC 2369 List-Unsubscribe with RFC 8058 one-click POST."""
        return (
            ("List-Unsubscribe", f"<{self.url(person_id, category)}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        )
