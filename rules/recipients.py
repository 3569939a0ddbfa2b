"""Recipients by relationship (owner, manager, skip-level, mentors, fixed addresses), whose a subject
is (`owner_of`), and who organises a meeting (`organiser_of`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from strides.domain.model import OrgLike, Person, Records
from strides.domain.schema import MissingPolicy, Role


@dataclass(frozen=True)
class Resolved:
    """Who gets it: people of the organisation, fixed addresses, and what was missing."""

    people: tuple[Person, ...]
    addresses: tuple[str, ...] = ()
    # Set when a relationship was missing and the rule's policy is to skip.
    missing: str | None = None
    # Relationships that were missing and replaced by the manager.
    fallbacks: tuple[str, ...] = ()


_ROLES = {role.value: role for role in Role}
_OWNER = Role.OWNER.value


def related(org: OrgLike, owner: Person, role: Role) -> list[Person]:
    if role is Role.OWNER:
        return [owner]
    if role is Role.MENTOR:
        return [org.people[m] for m in owner.mentors if m in org.people]
    manager = org.people.get(owner.manager) if owner.manager else None
    if role is Role.MANAGER:
        return [manager] if manager else []
    above = org.people.get(manager.manager) if manager and manager.manager else None
    return [above] if above else []


def resolve(org: OrgLike, owner: Person, targets: Sequence[str], policy: MissingPolicy) -> Resolved:
    """The recipients of one message about `owner`; a missing relationship follows `policy`."""
    if len(targets) == 1 and targets[0] == _OWNER:
        return Resolved((owner,))  # the common case, without the general bookkeeping
    people: list[Person] = []
    addresses: list[str] = []
    fallbacks: list[str] = []
    seen: set[str] = set()
    for target in targets:
        if "@" in target:
            if target not in addresses:
                addresses.append(target)
            continue
        role = _ROLES[target]
        found = related(org, owner, role)
        if not found:
            manager = related(org, owner, Role.MANAGER)
            if policy is MissingPolicy.MANAGER and role is not Role.MANAGER and manager:
                found = manager
                fallbacks.append(f"{owner.id} has no {role.value}; the manager {manager[0].id} instead")
            else:
                return Resolved((), (), f"{owner.id} has no {role.value}")
        for person in found:
            # Compare ids: model equality compares every field.
            if person.id not in seen:
                seen.add(person.id)
                people.append(person)
    return Resolved(tuple(people), tuple(addresses), None, tuple(fallbacks))


def owner_of(org: Records, subject: str) -> Person | None:
    """Whose a subject ("person:ID", "goal:ID", "milestone:ID") is, if they are in `org`."""
    kind, _, ident = subject.partition(":")
    if kind == "milestone":
        milestone = org.milestones.get(ident)
        kind, ident = "goal", milestone.goal if milestone else ""
    if kind == "goal":
        goal = org.goals.get(ident)
        ident = goal.owner if goal else ""
    return org.people.get(ident)


def organiser_of(org: Records, owner: Person, target: str | None) -> tuple[str | None, str | None]:
    """(organiser, note) of a meeting about `owner`: a person's id, a fixed address, or None for
    the configured sender. A missing relationship (no mentor) falls back to the sender, with a note."""
    if target is None:
        return None, None
    if "@" in target:
        return target, None
    role = Role(target)
    # `related` reads people only (by id), which every Records has.
    found = related(cast(OrgLike, org), owner, role)
    if not found:
        return None, f"{owner.id} has no {role.value} to organise the meeting; the sender instead"
    return found[0].id, None
