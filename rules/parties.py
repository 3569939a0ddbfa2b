"""Who a message is about (a subject's owner) and who organises a meeting (a rule's `organiser`)."""

from __future__ import annotations

from typing import cast

from strides.domain.model import Organisation, Person
from strides.domain.schema import Role
from strides.rules.index import Records
from strides.rules.recipients import related


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
    found = related(cast(Organisation, org), owner, role)
    if not found:
        return None, f"{owner.id} has no {role.value} to organise the meeting; the sender instead"
    return found[0].id, None
