"""Taking in the organisation from its source: store what loads, and lose nothing that does not.

A record rejected today keeps its last good version (`keep_last_good`); a snapshot that looks like
a broken export (most people gone, most records rejected) is not applied at all
(`strides.rules.mass_change`); `sync` reloads the source and returns what changed, for the Prefect
side to announce.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from strides.domain.errors import StridesError
from strides.domain.model import Goal, Milestone, Organisation, Person
from strides.integrations import SourceError
from strides.integrations.org_files import LoadResult, Rejection, load_organisation
from strides.rules.mass_change import mass_change
from strides.rules.reactions import Happening, diff
from strides.store import Store, snapshot

_KIND_TABLE = {"person": "people", "goal": "goals", "milestone": "milestones"}
# The share of the organisation a snapshot may remove, or of its records it may reject, before it
# is held back as a likely broken export (the `mass_change_share` setting).
MASS_CHANGE_SHARE = 0.1


class MassChange(StridesError):
    """A new organisation snapshot was held back: applying it would remove or reject too much."""


def _guard(previous: Organisation, new: Organisation, loaded: LoadResult, share: float) -> None:
    """Raise MassChange when `new` looks like a broken export of `previous`."""

    def ids(org: Organisation) -> dict[str, set[str]]:
        return {"people": set(org.people), "goals": set(org.goals), "milestones": set(org.milestones)}

    before, after = ids(previous), ids(new)
    removed = {kind: len(before[kind] - after[kind]) for kind in before}
    # A record refused for several fields is one record.
    refused = {(r.kind, r.file, r.line) for r in loaded.rejected if not r.kept}
    rejected = {kind: 0 for kind in before}
    for kind, _, _ in refused:
        rejected[_KIND_TABLE[kind]] += 1
    loaded_counts = {
        "people": len(loaded.organisation.people),
        "goals": len(loaded.organisation.goals),
        "milestones": len(loaded.organisation.milestones),
    }
    read = {kind: loaded_counts[kind] + rejected[kind] for kind in before}
    why = mass_change({k: len(v) for k, v in before.items()}, removed, read, rejected, share)
    if why is not None:
        raise MassChange(why)


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
    # A link refused now (an unknown manager or mentor, a manager cycle) keeps its last good value:
    # a typo in today's export does not cancel anyone's meetings.
    for rejection in rejected:
        before = previous.people.get(rejection.record_id or "")
        link = rejection.field if rejection.kept and rejection.kind == "person" else None
        if before is not None and before.id in people and link in ("manager", "mentors"):
            value = before.manager if link == "manager" else before.mentors
            people[before.id] = people[before.id].model_copy(update={link: value})
    _break_manager_cycles(people)
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


def _break_manager_cycles(people: dict[str, Person]) -> None:
    """Drop the manager links of any cycle that restored links and today's links make together."""
    for start in list(people):
        seen: list[str] = []
        node: str | None = start
        while node is not None and node in people and node not in seen:
            seen.append(node)
            node = people[node].manager
        if node is not None and node in seen:
            for pid in seen[seen.index(node) :]:
                people[pid] = people[pid].model_copy(update={"manager": None})


def store_organisation(
    store: Store, loaded: LoadResult, *, accept_mass_change: bool = False, share: float = MASS_CHANGE_SHARE
) -> Organisation:
    """Save what was loaded as the snapshot; a record rejected now keeps its stored version.

    Raises MassChange, saving nothing, when the snapshot looks like a broken export (unless
    `accept_mass_change`). Runs started together take turns (`Store.exclusive`): each saves against
    what the one before it saved, so the same snapshot saved twice changes nothing the second time."""
    with store.exclusive(), store.session() as session:
        previous = snapshot.load_organisation(session)
        organisation = loaded.organisation
        if loaded.rejected:
            organisation = keep_last_good(previous, organisation, loaded.rejected)
        if not accept_mass_change:
            _guard(previous, organisation, loaded, share)
        snapshot.save_organisation(session, organisation)
    return organisation


@dataclass(frozen=True)
class SyncOutcome:
    changes: list[Happening]
    rejected: list[Rejection]
    people: int


def sync(
    store: Store, source: Path, *, accept_mass_change: bool = False, share: float = MASS_CHANGE_SHARE
) -> SyncOutcome:
    """Reload the organisation from `source`, store it, and return what changed (MassChange, saving
    nothing, when it looks like a broken export)."""
    loaded = load_organisation(source)
    if not loaded.organisation.people and loaded.rejected:
        raise SourceError(f"{source}: nothing could be loaded ({len(loaded.rejected)} records rejected)")
    with store.exclusive(), store.session() as session:
        before = snapshot.load_organisation(session)
        if not accept_mass_change:
            _guard(before, loaded.organisation, loaded, share)
        changes = diff(before, loaded.organisation)
        if changes:
            snapshot.save_organisation(session, loaded.organisation)
    return SyncOutcome(changes, list(loaded.rejected), len(loaded.organisation.people))
