"""Events the rules react to, and which rules react to them. Events are injected by the event
transport or read from the state itself (strides/rules/planning/kinds/event.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from strides.domain.parse import RuleSet
from strides.domain.schema import EventKind, EventTrigger


@dataclass(frozen=True)
class Event:
    """Something that happened to a goal (and maybe one of its milestones) at a moment."""

    kind: EventKind
    at: datetime
    goal: str
    milestone: str | None = None
    # goal.deadline-moved: the deadline before the move.
    previous_deadline: date | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("an event's moment must be timezone-aware")
        if self.kind.value.startswith("milestone.") and self.milestone is None:
            raise ValueError(f"a {self.kind.value} event names its milestone")


def event_rule_ids(rules: RuleSet, kind: EventKind | None = None) -> frozenset[str]:
    """The enabled event rules (of one event kind, if given)."""
    return frozenset(
        r.id
        for r in rules.enabled
        if isinstance(r.trigger, EventTrigger) and (kind is None or r.trigger.event is kind)
    )


def event_kinds(rules: RuleSet) -> set[EventKind]:
    """The kinds of event the enabled rules react to."""
    return {r.trigger.event for r in rules.enabled if isinstance(r.trigger, EventTrigger)}
