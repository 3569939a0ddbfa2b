"""What the planner decides: messages that should go out, and why some will not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from strides.rules.schema import Kind


@dataclass(frozen=True)
class Window:
    """A half-open span of time [start, end) that one tick plans for."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window bounds must be timezone-aware")
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    @property
    def length(self) -> timedelta:
        return self.end - self.start


Method = Literal["REQUEST", "CANCEL"]


@dataclass(frozen=True)
class Meeting:
    """A calendar meeting as one iTIP message carries it.

    The planner fills in what the rules want (sequence 0, REQUEST, every attendee);
    rules/reconcile.py sets the sequence, the method and, for a CANCEL to a removed
    attendee, the attendee list of each message it decides to send.
    """

    uid: str
    start: datetime
    end: datetime
    timezone: str
    attendees: tuple[str, ...]
    sequence: int = 0
    method: Method = "REQUEST"


@dataclass(frozen=True)
class Intent:
    """One message to one recipient, identified by its idempotency key."""

    key: str
    rule_id: str
    kind: Kind
    subject: str
    occurrence: datetime
    recipient: str
    send_at: datetime
    title: str
    body: str = ""
    meeting: Meeting | None = None
    # The rule's pause policy ("skip" or "shift"): what delivery does inside the recipient's pause.
    on_pause: str = "skip"


@dataclass(frozen=True)
class Skip:
    """A message the rules wanted but could not address (for example, no mentor)."""

    rule_id: str
    subject: str
    occurrence: datetime
    reason: str


@dataclass(frozen=True)
class Plan:
    intents: tuple[Intent, ...]
    skips: tuple[Skip, ...] = ()
    # Missing relationships replaced by the manager (the rule's `missing: manager` policy).
    fallbacks: tuple[Skip, ...] = ()
