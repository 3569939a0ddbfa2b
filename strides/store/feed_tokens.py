"""Per-person calendar-feed tokens: unguessable, stored only as a SHA-256, revocable, rotatable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strides.store.tables import FeedTokenRow

TOKEN_BYTES = 32  # 256 bits: a URL that cannot be guessed


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke(session: Session, person_id: str, now: datetime) -> int:
    """Revoke every live token of a person; returns how many were live."""
    result = session.execute(
        update(FeedTokenRow)
        .where(FeedTokenRow.person_id == person_id, FeedTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def issue(session: Session, person_id: str, now: datetime) -> str:
    """A new token for `person_id`; any earlier one stops working (rotation). Shown once."""
    revoke(session, person_id, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(FeedTokenRow(person_id=person_id, token_hash=_hash(token), created_at=now))
    return token


def person_of(session: Session, token: str) -> str | None:
    """Whose live token this is, or None (unknown and revoked look the same)."""
    row = session.scalars(
        select(FeedTokenRow).where(FeedTokenRow.token_hash == _hash(token), FeedTokenRow.revoked_at.is_(None))
    ).first()
    return row.person_id if row else None
