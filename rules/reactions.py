"""Reactions to what happens, as pure functions: what changed between two snapshots, and
which messages a change brings.

This is deliberately a small, built-in event model kept apart from the rule language: one
event-triggered rule (the milestone congratulation) and the goal re-planning a moved deadline
needs. Events are named `strides.<thing>.<what>` and concern a goal or a person.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from strides.domain.model import Goal, Milestone, Organisation
from strides.domain.parse import RuleSet
from strides.rules.intents import Intent, Plan, Window
from strides.rules.planning import plan


class Change(StrEnum):
    """What can happen to the organisation; the value is the event name."""

    PERSON_JOINED = "strides.person.joined"
    PERSON_LEFT = "strides.person.left"
    PERSON_CHANGED = "strides.person.changed"
    GOAL_CREATED = "strides.goal.created"
    GOAL_REMOVED = "strides.goal.removed"
    GOAL_COMPLETED = "strides.goal.completed"
    GOAL_CHANGED = "strides.goal.changed"
    DEADLINE_MOVED = "strides.goal.deadline-moved"
    MILESTONE_ADDED = "strides.milestone.added"
    MILESTONE_COMPLETED = "strides.milestone.completed"
    MILESTONE_MOVED = "strides.milestone.moved"


@dataclass(frozen=True)
class Happening:
    """One change to one goal or person (`about` is "goal:<id>" or "person:<id>")."""

    change: Change
    about: str
    details: dict[str, str | None] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return self.about.split(":", 1)[0]

    @property
    def ident(self) -> str:
        return self.about.split(":", 1)[1]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _goal_changes(old: Goal | None, new: Goal | None) -> list[Happening]:
    if new is None:
        return [] if old is None else [Happening(Change.GOAL_REMOVED, f"goal:{old.id}", {"owner": old.owner})]
    about = f"goal:{new.id}"
    base: dict[str, str | None] = {"owner": new.owner}
    if old is None:
        return [Happening(Change.GOAL_CREATED, about, base)]
    found: list[Happening] = []
    if old.deadline != new.deadline:
        found.append(
            Happening(
                Change.DEADLINE_MOVED,
                about,
                {**base, "previous": _iso(old.deadline), "deadline": _iso(new.deadline)},
            )
        )
    if new.completed_at is not None and old.completed_at is None:
        found.append(
            Happening(Change.GOAL_COMPLETED, about, {**base, "completed_at": _iso(new.completed_at)})
        )
    if not found and old != new:
        found.append(Happening(Change.GOAL_CHANGED, about, base))
    return found


def _milestone_changes(old: Milestone | None, new: Milestone) -> list[Happening]:
    about = f"goal:{new.goal}"
    base: dict[str, str | None] = {"milestone": new.id}
    if old is None:
        return [Happening(Change.MILESTONE_ADDED, about, {**base, "due": _iso(new.due)})]
    found: list[Happening] = []
    if new.completed_at is not None and old.completed_at is None:
        found.append(
            Happening(Change.MILESTONE_COMPLETED, about, {**base, "completed_at": _iso(new.completed_at)})
        )
    if old.due != new.due:
        found.append(
            Happening(
                Change.MILESTONE_MOVED, about, {**base, "previous": _iso(old.due), "due": _iso(new.due)}
            )
        )
    return found


def diff(old: Organisation, new: Organisation) -> list[Happening]:
    """Everything that changed from `old` to `new`, people first, in a stable order."""
    found: list[Happening] = []
    for pid in sorted(old.people.keys() | new.people.keys()):
        before, after = old.people.get(pid), new.people.get(pid)
        if before is None:
            found.append(Happening(Change.PERSON_JOINED, f"person:{pid}"))
        elif after is None:
            found.append(Happening(Change.PERSON_LEFT, f"person:{pid}"))
        elif before != after:
            found.append(Happening(Change.PERSON_CHANGED, f"person:{pid}"))
    for gid in sorted(old.goals.keys() | new.goals.keys()):
        found += _goal_changes(old.goals.get(gid), new.goals.get(gid))
    for mid in sorted(new.milestones):
        found += _milestone_changes(old.milestones.get(mid), new.milestones[mid])
    return found


# -- the built-in event rule: congratulate on a completed milestone ------------------------------

# The built-in pack's event rule that congratulates on each completed milestone.
CONGRATULATION = "milestone-congratulation"


# -- a moved deadline: plan the goal again -------------------------------------------------------


def goal_subjects(org: Organisation, goal_id: str) -> frozenset[str]:
    """The subjects under which messages about one goal are keyed."""
    return frozenset({f"goal:{goal_id}", *(f"milestone:{m.id}" for m in org.milestones_of(goal_id))})


def replan_goal(
    rules: RuleSet,
    org: Organisation,
    goal_id: str,
    window: Window,
    already: Container[str] = frozenset(),
    known: Mapping[str, str] | None = None,
) -> Plan:
    """What the rules want for one goal in `window`: the planner's answer, kept to that goal.

    `known` are the meetings already invited to, UID to subject (see `plan`), for rules/reconcile.py.
    """
    goal = org.goals.get(goal_id)
    if goal is None:
        return Plan(())
    # Built without validation: `org` may be a slice (strides.store.slices) whose people refer
    # to others outside it; it passed validation as a whole when stored.
    focused = Organisation.model_construct(
        people=org.people,
        goals={goal_id: goal},
        milestones={m.id: m for m in org.milestones_of(goal_id)},
    )
    subjects = goal_subjects(org, goal_id)
    result = plan(rules, focused, window, already, known)
    return Plan(
        tuple(i for i in result.intents if i.subject in subjects),
        tuple(s for s in result.skips if s.subject in subjects),
    )


def outdated(pending: Iterable[Intent], wanted: Plan) -> list[str]:
    """Keys of not-yet-sent messages about a goal that its new plan no longer contains."""
    keep = {i.key for i in wanted.intents}
    return [i.key for i in pending if i.key not in keep]
