"""strides' events: their names and what they are about, as HR sources, the CLI and Prefect's event
bus carry them (emitting them is the Prefect layer's: strides.flows.events).

Every event concerns a goal or a person, its Prefect resource (`strides.goal.<id>`,
`strides.person.<id>`), so deployment triggers match on `prefect.resource.id`. A milestone's
events belong to its goal and name the milestone in the payload and as a related resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from strides.integrations import IntegrationError
from strides.rules.reactions import Change, Happening

NOTIFICATION_SENT = "strides.notification.sent"
EVENT_NAMES = frozenset({*(c.value for c in Change), NOTIFICATION_SENT})
RESOURCE_KINDS = ("goal", "person")
# Earlier spellings, still read: the name each is now.
DEPRECATED_NAMES = {
    "strides.goal.updated": "strides.goal.changed",
    "strides.goal.deadline_moved": "strides.goal.deadline-moved",
}


def event_name(name: str) -> tuple[str, str | None]:
    """The full name of an event given with or without `strides.`, and a deprecation note when it
    is an earlier spelling; EventError when strides does not know it."""
    full = name if name.startswith("strides.") else f"strides.{name}"
    if full in DEPRECATED_NAMES:
        new = DEPRECATED_NAMES[full]
        return new, f"event {name!r} is now called {new.removeprefix('strides.')!r}; the old name still works"
    if full not in EVENT_NAMES:
        known = ", ".join(sorted(n.removeprefix("strides.") for n in EVENT_NAMES))
        raise EventError(f"unknown event {name!r}; known: {known}")
    return full, None


class EventError(IntegrationError, ValueError):
    """An event strides does not know, or one about something it cannot identify."""


def resource_id(about: str) -> str:
    """ "goal:g1" -> "strides.goal.g1" (the form Prefect resources and triggers use)."""
    kind, _, ident = about.partition(":")
    if kind not in RESOURCE_KINDS or not ident:
        raise EventError(f"an event concerns goal:<id> or person:<id>, not {about!r}")
    return f"strides.{kind}.{ident}"


def about_of(resource: str) -> str:
    """ "strides.goal.g1" -> "goal:g1"."""
    parts = resource.split(".", 2)
    if len(parts) != 3 or parts[0] != "strides" or parts[1] not in RESOURCE_KINDS:
        raise EventError(f"not a strides resource: {resource!r}")
    return f"{parts[1]}:{parts[2]}"


@dataclass(frozen=True)
class StridesEvent:
    """An event as strides reads it, whatever emitted it (sync, the HR endpoint, the CLI)."""

    name: str
    about: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in EVENT_NAMES:
            known = ", ".join(sorted(EVENT_NAMES))
            raise EventError(f"unknown event {self.name!r} (known: {known})")
        resource_id(self.about)

    @classmethod
    def of(cls, happening: Happening) -> StridesEvent:
        return cls(happening.change.value, happening.about, dict(happening.details))

    def resource(self) -> dict[str, str]:
        ident = self.about.partition(":")[2]
        return {"prefect.resource.id": resource_id(self.about), "prefect.resource.name": ident}

    def related(self) -> list[dict[str, str]]:
        milestone = self.payload.get("milestone")
        if not milestone:
            return []
        return [
            {"prefect.resource.id": f"strides.milestone.{milestone}", "prefect.resource.role": "milestone"}
        ]
