"""Bad input loses nothing: a record rejected today keeps its last good version."""

from __future__ import annotations

from collections.abc import Iterable

from strides.integrations.org_files import Rejection
from strides.model import Goal, Milestone, Organisation, Person

_KIND_TABLE = {"person": "people", "goal": "goals", "milestone": "milestones"}


def keep_last_good(
    previous: Organisation, loaded: Organisation, rejected: Iterable[Rejection]
) -> Organisation:
    """`loaded`, plus the previous version of every record rejected now, minus what no longer resolves."""
    kept: dict[str, set[str]] = {"people": set(), "goals": set(), "milestones": set()}
    for rejection in rejected:
        if rejection.record_id:
            kept[_KIND_TABLE[rejection.kind]].add(rejection.record_id)
    people: dict[str, Person] = dict(loaded.people)
    goals: dict[str, Goal] = dict(loaded.goals)
    milestones: dict[str, Milestone] = dict(loaded.milestones)
    people.update({i: previous.people[i] for i in kept["people"] - people.keys() if i in previous.people})
    goals.update({i: previous.goals[i] for i in kept["goals"] - goals.keys() if i in previous.goals})
    milestones.update(
        {
            i: previous.milestones[i]
            for i in kept["milestones"] - milestones.keys()
            if i in previous.milestones
        }
    )
    # A kept record may point at someone who left for good: drop that link, and drop goals and
    # milestones whose owner or goal is gone.
    people = {
        i: p.model_copy(
            update={
                "manager": p.manager if p.manager in people else None,
                "mentors": tuple(m for m in p.mentors if m in people),
            }
        )
        for i, p in people.items()
    }
    goals = {i: g for i, g in goals.items() if g.owner in people}
    milestones = {i: m for i, m in milestones.items() if m.goal in goals}
    return Organisation(people=people, goals=goals, milestones=milestones)
