"""What the planner decides: messages that should go out, and why some will not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from strides.domain.schema import Kind


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
    # Who organises it: a person's id or a fixed address; None for the configured sender. When
    # it is someone, they are among the attendees too (their calendar holds the meeting).
    organiser: str | None = None
    # Placement (rules/placement.py): the rule's time, and why the meeting is not there.
    intended: datetime | None = None
    moved: tuple[str, ...] = ()


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
    # The person the message is about (the subject's owner). Kept for fixed addresses, which are
    # nobody's: their times are shown in this person's timezone.
    owner: str | None = None
    body: str = ""
    meeting: Meeting | None = None
    # The rule's pause policy ("skip" or "shift"): what delivery does inside the recipient's pause.
    on_pause: str = "skip"


_new = object.__new__


def planned(
    key: str,
    rule_id: str,
    kind: Kind,
    subject: str,
    occurrence: datetime,
    recipient: str,
    send_at: datetime,
    title: str,
    body: str,
    meeting: Meeting | None,
    on_pause: str,
) -> Intent:
    """`Intent(...)` for the planner, which makes tens of thousands a tick: a frozen dataclass's
    `__init__` sets each field through `object.__setattr__`, a quarter of the cost here."""
    intent = _new(Intent)
    intent.__dict__.update(
        key=key,
        rule_id=rule_id,
        kind=kind,
        subject=subject,
        occurrence=occurrence,
        recipient=recipient,
        send_at=send_at,
        title=title,
        owner=None,
        body=body,
        meeting=meeting,
        on_pause=on_pause,
    )
    return intent


def inhibited_by(rule_id: str) -> str:
    """A skip's reason: an escalation (`rule_id`) holds the message back."""
    return f"inhibited by {rule_id}"


def too_late(recipient: str) -> str:
    """A skip's reason: the message to `recipient` would go out later than the rule's max lateness."""
    return f"{recipient}: later than max_lateness, skipped"


def opted_out(recipient: str) -> str:
    """A skip's reason: `recipient` turned this optional rule off for themselves."""
    return f"{recipient}: opted out of this optional rule"


# Skip reasons by what they start or hold (`Skip.cause`); the planner spells the first two through
# `inhibited_by` and `too_late`.
_CAUSES = (
    ("rule given up", "rule-failed"),
    ("inhibited by ", "inhibited"),
    ("later than max_lateness", "late"),
    ("condition ", "condition"),
    ("no overlap of working hours", "no-overlap"),
    ("no slot in the calendars", "no-slot"),
    ("too little notice", "min-notice"),
    ("empty digest", "empty-digest"),
    ("opted out of this optional rule", "opted-out"),
    (" has no ", "missing"),
)


@dataclass(frozen=True)
class Skip:
    """A message the rules wanted but did not send, and why (no mentor, too late, inhibited...)."""

    rule_id: str
    subject: str
    occurrence: datetime
    reason: str

    @property
    def cause(self) -> str:
        """The kind of reason: missing, late, inhibited, no-overlap, no-slot, min-notice, empty-digest,
        opted-out, condition."""
        return next((cause for text, cause in _CAUSES if text in self.reason), "other")


@dataclass(frozen=True)
class Plan:
    intents: tuple[Intent, ...]
    skips: tuple[Skip, ...] = ()
    # Missing relationships replaced by the manager (the rule's `missing: manager` policy).
    fallbacks: tuple[Skip, ...] = ()
