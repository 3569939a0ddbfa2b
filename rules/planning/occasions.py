"""An occasion: one moment a rule fires for one subject, before its recipients are resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from strides.domain.model import Goal, Milestone, Person
from strides.domain.schema import Rule
from strides.rules.keys import occurrence_name


@dataclass(slots=True)
class Occasion:
    """One moment a rule fires for one subject ("person:ID", "goal:ID", "milestone:ID")."""

    rule: Rule
    subject: str
    owner: Person
    moment_day: date
    goal: Goal | None = None
    milestone: Milestone | None = None
    # Anchored occasions: days from the anchor. Names the meeting independently of its date.
    offset_days: int | None = None
    # An exact moment (events without `at`) instead of `at` on `moment_day`.
    moment: datetime | None = None
    # Escalation steps name their own recipients and may have their own title and body.
    to: tuple[str, ...] | None = None
    title: str | None = None
    body: str | None = None
    at: time | None = None
    # Anchored occasions whose offset counts business days (`-7bd`).
    business: bool = False

    @property
    def slot(self) -> str:
        """Which occurrence this is, independent of its date (so a moved deadline moves the meeting)."""
        if self.offset_days is not None:
            return occurrence_name(offset_days=self.offset_days, business=self.business)
        return occurrence_name(day=self.moment_day)


@dataclass(slots=True)
class PendingMeeting:
    """An invite's meeting before placement: its occasion, the rule's time, who attends."""

    occasion: Occasion
    intended: datetime
    send_at: datetime
    uid: str
    people: tuple[Person, ...]
    attendees: tuple[str, ...]
    organiser: str | None

    @property
    def order(self) -> tuple[float, str, str, str]:
        """The canonical order meetings are placed in, whatever order they were planned in."""
        return (self.intended.timestamp(), self.occasion.rule.id, self.occasion.subject, self.uid)
