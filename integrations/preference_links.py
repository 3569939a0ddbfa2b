"""Signed links to a person's preference page, in the footer of every email and invite.

A token is `base64url(person \\x1f "prefs" \\x1f expiry) . base64url(HMAC-SHA256(secret, that))[:22]`,
signed with the unsubscribe links' secret: it names one person, cannot be forged or altered without
the secret, and stops working at its expiry (the link in a message of last year opens nothing).
The page's form carries a CSRF token made from the link's own token with the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from strides.integrations.unsubscribe import TokenError, _b64, _unb64

PURPOSE = "prefs"
DEFAULT_LIFETIME = timedelta(days=60)


class ExpiredLink(TokenError):
    """A preference link this installation signed, past its expiry."""


@dataclass(frozen=True)
class PreferenceLinks:
    base_url: str
    secret: str
    lifetime: timedelta = DEFAULT_LIFETIME

    def __repr__(self) -> str:
        return f"PreferenceLinks(base_url={self.base_url!r}, secret=***, lifetime={self.lifetime})"

    def _sign(self, payload: bytes) -> str:
        return _b64(hmac.new(self.secret.encode(), payload, hashlib.sha256).digest())[:22]

    def token(self, person_id: str, now: datetime) -> str:
        """A link token for `person_id`, good for `lifetime` from `now`."""
        expires = int((now + self.lifetime).timestamp())
        payload = f"{person_id}\x1f{PURPOSE}\x1f{expires}".encode()
        return f"{_b64(payload)}.{self._sign(payload)}"

    def read(self, token: str, now: datetime) -> tuple[str, datetime]:
        """(person id, expiry) of a live token this installation signed; TokenError when forged or
        malformed, ExpiredLink when past its expiry."""
        try:
            encoded, signature = token.split(".", 1)
            payload = _unb64(encoded)
            person_id, purpose, expires = payload.decode().split("\x1f")
            until = datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, UnicodeDecodeError, OverflowError) as exc:
            raise TokenError("malformed preference link") from exc
        if purpose != PURPOSE or not hmac.compare_digest(signature, self._sign(payload)):
            raise TokenError("preference link signature does not match")
        if now >= until:
            raise ExpiredLink(f"preference link expired on {until:%Y-%m-%d %H:%M} UTC")
        return person_id, until

    def url(self, person_id: str, now: datetime) -> str:
        return f"{self.base_url.rstrip('/')}/preferences/{self.token(person_id, now)}"

    def csrf(self, token: str) -> str:
        """The form token of the page a link opens: bound to that link, hence to its person."""
        return self._sign(f"csrf\x1f{token}".encode())

    def csrf_ok(self, token: str, sent: str) -> bool:
        return hmac.compare_digest(self.csrf(token), sent)
