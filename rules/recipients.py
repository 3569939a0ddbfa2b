"""Recipients by relationship: owner, manager, skip-level, mentor(s) and fixed addresses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strides.domain.model import Person
from strides.domain.schema import MissingPolicy, Role
from strides.rules.index import OrgLike


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
