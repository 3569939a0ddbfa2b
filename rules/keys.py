"""Deterministic identities: the same planned message always has the same key."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

# Stamps by UTC minute since the epoch. Keyed by the number, not the datetime: within one zone
# the two instants of a repeated hour (clocks going back) compare and hash equal.
_STAMPS: dict[int, str] = {}


def occurrence_stamp(moment: datetime) -> str:
    """The occurrence as it enters keys: UTC, to the minute."""
    minute = int(moment.timestamp() // 60)
    found = _STAMPS.get(minute)
    if found is None:
        if len(_STAMPS) >= 100_000:
            _STAMPS.clear()
        found = _STAMPS[minute] = moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")
    return found


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def message_key(rule_id: str, subject: str, occurrence: datetime, recipient: str) -> str:
    """Idempotency key of one message to one recipient."""
    return _digest(rule_id, subject, occurrence_stamp(occurrence), recipient)


def meeting_uid(rule_id: str, subject: str, slot: str, domain: str = "strides") -> str:
    """Calendar UID: stable per (rule, subject, slot), shared by every attendee's copy.

    The slot names the occurrence without its clock time (see `occurrence_name`), so a meeting
    that moves keeps its UID and is updated instead of being invited to twice.
    """
    return f"{_digest('meeting', rule_id, subject, slot)}@{domain}"


def occurrence_name(
    *, offset_days: int | None = None, day: date | None = None, business: bool = False
) -> str:
    """Which occurrence of a rule a meeting is, independent of when it takes place.

    Anchored meetings are named by their offset from the anchor ("7 days before the deadline",
    or with `business` "7 business days before"), so moving the deadline moves the meeting.
    Cadence meetings are named by the local day of the recurrence, so editing the rule's time of
    day moves the meeting too.
    """
    if offset_days is not None:
        return f"offset:{offset_days:+d}{'bd' if business else 'd'}"
    if day is not None:
        return f"day:{day.isoformat()}"
    raise ValueError("a meeting slot needs an offset or a day")


def invite_message_key(uid: str, sequence: int, method: str, recipient: str) -> str:
    """Idempotency key of one iTIP message about one meeting to one attendee."""
    return _digest("invite", uid, str(sequence), method, recipient)


def skip_key(rule_id: str, subject: str, occurrence: datetime, reason: str) -> str:
    """Identity of one skip: planning the same moment again records it once."""
    return _digest("skip", rule_id, subject, occurrence_stamp(occurrence), reason)
