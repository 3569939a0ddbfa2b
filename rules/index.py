"""Date indexes over an organisation, so planning costs what is due, not what exists.

Built once per organisation snapshot (cached by identity) and queried by day: goals by
deadline and by creation day (the owner's calendar), open milestones by due day, people by
timezone. The store can answer the same questions with indexed window queries.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TypeVar

from strides.model import Goal, GoalStatus, Milestone, Organisation, Person

T = TypeVar("T")


@dataclass
class OrgIndex:
    goals_by_deadline: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    goals_by_created: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    milestones_by_due: dict[date, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    # Milestones not completed (or completed late), by due day, for escalation repeats.
    open_dues: list[date] = field(default_factory=list)
    people_by_zone: dict[str, list[Person]] = field(default_factory=lambda: defaultdict(list))
    # Events read from the state: creations and completions by UTC day.
    moments_by_day: dict[date, list[tuple[datetime, str, Goal, Milestone | None]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @classmethod
    def build(cls, org: Organisation) -> OrgIndex:
        """One pass over people, goals and milestones (no per-goal lookups)."""
        index = cls()
        people = org.people
        for person in people.values():
            index.people_by_zone[person.timezone].append(person)
        active: set[str] = set()
        moments = index.moments_by_day
        for goal in org.goals.values():
            moments[goal.created_at.date()].append((goal.created_at, "created", goal, None))
            if goal.completed_at is not None:
                moments[goal.completed_at.date()].append((goal.completed_at, "completed", goal, None))
            owner = people.get(goal.owner)
            if goal.status is not GoalStatus.ACTIVE or owner is None:
                continue
            active.add(goal.id)
            if goal.deadline is not None:
                index.goals_by_deadline[goal.deadline].append(goal)
            index.goals_by_created[goal.created_at.astimezone(owner.tz).date()].append(goal)
        goals = org.goals
        for milestone in org.milestones.values():
            if milestone.completed_at is not None and milestone.goal in goals:
                moments[milestone.completed_at.date()].append(
                    (milestone.completed_at, "completed", goals[milestone.goal], milestone)
                )
            if milestone.goal in active:
                index.milestones_by_due[milestone.due].append(milestone)
        index.open_dues = sorted(index.milestones_by_due)
        return index

    def goals_due(self, first: date, last: date) -> Iterator[Goal]:
        yield from _span(self.goals_by_deadline, first, last)

    def goals_created(self, first: date, last: date) -> Iterator[Goal]:
        yield from _span(self.goals_by_created, first, last)

    def milestones_due(self, first: date, last: date) -> Iterator[Milestone]:
        yield from _span(self.milestones_by_due, first, last)

    def milestones_due_before(self, last: date) -> Iterator[Milestone]:
        for day in self.open_dues:
            if day > last:
                break
            yield from self.milestones_by_due[day]


class ScanIndex(OrgIndex):
    """The same questions answered by scanning every record: the reference (and the naive peer)."""

    def __init__(self, org: Organisation) -> None:
        super().__init__()
        self.org = org
        for person in org.people.values():
            self.people_by_zone[person.timezone].append(person)
        self.moments_by_day = OrgIndex.build(org).moments_by_day

    def _active(self) -> Iterator[Goal]:
        for goal in self.org.goals.values():
            if goal.status is GoalStatus.ACTIVE and goal.owner in self.org.people:
                yield goal

    def goals_due(self, first: date, last: date) -> Iterator[Goal]:
        return (g for g in self._active() if g.deadline is not None and first <= g.deadline <= last)

    def goals_created(self, first: date, last: date) -> Iterator[Goal]:
        people = self.org.people
        return (
            g for g in self._active() if first <= g.created_at.astimezone(people[g.owner].tz).date() <= last
        )

    def milestones_due(self, first: date, last: date) -> Iterator[Milestone]:
        active = {g.id for g in self._active()}
        return (m for m in self.org.milestones.values() if m.goal in active and first <= m.due <= last)

    def milestones_due_before(self, last: date) -> Iterator[Milestone]:
        active = {g.id for g in self._active()}
        return (m for m in self.org.milestones.values() if m.goal in active and m.due <= last)


def _span(table: dict[date, list[T]], first: date, last: date) -> Iterator[T]:
    day = first
    while day <= last:
        found = table.get(day)
        if found:
            yield from found
        day += timedelta(days=1)


_CACHE: dict[int, OrgIndex] = {}


def index_of(org: Organisation) -> OrgIndex:
    """The index of this snapshot, built on first use and dropped with the snapshot."""
    key = id(org)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = OrgIndex.build(org)
        weakref.finalize(org, _CACHE.pop, key, None)
    return found
