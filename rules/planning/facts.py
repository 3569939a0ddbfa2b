"""What planning asks of a rule for every message, worked out once per rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from strides.domain.schema import Kind, Rule
from strides.rules.planning import timing


@dataclass(frozen=True)
class Facts:
    """A rule's answers to the questions every one of its messages asks."""

    moves: tuple[timedelta, timedelta]
    owner_clock: bool
    lateness: timedelta
    # The time of day, None for a digest (each person's own); a cadence's own timezone, if any.
    at: time | None
    fixed: tuple[time, ZoneInfo] | None
    # Applies whenever it fires: no condition, no effective dates.
    always: bool
    # Working hours or quiet hours hold its notices to each recipient's hours.
    held_to_hours: bool
    # The action's pause policy, as intents carry it.
    pause: str
    # An email that applies whenever it fires, delivered when it fires (see `messages.plan_notice`).
    plain: bool

    @classmethod
    def of(cls, rule: Rule) -> Facts:
        trigger = rule.trigger
        at = trigger.time_of_day
        fixed = (at, timing.zone(trigger.zone)) if trigger.zone is not None and at is not None else None
        always = rule.when is None and rule.effective.always
        held_to_hours = bool(rule.calendar.working_hours) or rule.calendar.quiet_hours is not None
        plain = rule.action.kind is Kind.EMAIL and always and not held_to_hours
        return cls(
            timing.moves(rule),
            timing.owner_clock(rule),
            trigger.lateness,
            at,
            fixed,
            always,
            held_to_hours,
            rule.action.pause.value,
            plain,
        )


class FactsOf:
    """Each rule's facts, worked out on first use. Keyed by identity: the rules outlive a plan."""

    def __init__(self) -> None:
        self._found: dict[int, tuple[Rule, Facts]] = {}

    def __call__(self, rule: Rule) -> Facts:
        found = self._found.get(id(rule))
        if found is None or found[0] is not rule:
            found = self._found[id(rule)] = (rule, Facts.of(rule))
        return found[1]
