"""Deterministic identities: the same planned message always has the same key."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime


def occurrence_stamp(moment: datetime) -> str:
    """The occurrence as it enters keys: UTC, to the minute."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def message_key(rule_id: str, subject: str, occurrence: datetime, recipient: str) -> str:
    """Idempotency key of one message to one recipient."""
    return _digest(rule_id, subject, occurrence_stamp(occurrence), recipient)


def meeting_uid(rule_id: str, subject: str, occurrence: datetime, domain: str = "strides") -> str:
    """Calendar UID: stable per (rule, subject, occurrence), shared by every attendee's copy."""
    return f"{_digest('meeting', rule_id, subject, occurrence_stamp(occurrence))}@{domain}"
