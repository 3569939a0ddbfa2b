"""strides' events on Prefect's event bus: names, resources, and emitting them.

Every event concerns a goal or a person, its Prefect resource (`strides.goal.<id>`,
`strides.person.<id>`), so deployment triggers match on `prefect.resource.id`. A milestone's
events belong to its goal and name the milestone in the payload and as a related resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from strides.errors import StridesError
from strides.rules.reactions import Change, Happening

NOTIFICATION_SENT = "strides.notification.sent"
EVENT_NAMES = frozenset({*(c.value for c in Change), NOTIFICATION_SENT})
RESOURCE_KINDS = ("goal", "person")


class EventError(StridesError, ValueError):
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


def emit(event: StridesEvent, occurred: datetime | None = None) -> str | None:
    """Send one event to Prefect (PREFECT_API_URL must point at the server); returns its id."""
    from prefect.events import emit_event

    sent = emit_event(
        event=event.name,
        resource=event.resource(),
        related=event.related(),
        payload=dict(event.payload),
        occurred=occurred,
    )
    return None if sent is None else str(sent.id)


async def publish(events: Iterable[StridesEvent], occurred: datetime | None = None) -> list[str]:
    """Send events now, over one connection, and return their ids (for short-lived processes:
    the CLI, the HTTP endpoint). PREFECT_API_URL must point at the server."""
    from prefect.events import Event
    from prefect.events.clients import get_events_client

    ids: list[str] = []
    async with get_events_client() as client:
        for event in events:
            fields: dict[str, Any] = {
                "event": event.name,
                "resource": event.resource(),
                "related": event.related(),
                "payload": dict(event.payload),
            }
            if occurred is not None:
                fields["occurred"] = occurred
            prepared = Event.model_validate(fields)
            await client.emit(prepared)
            ids.append(str(prepared.id))
    return ids


def emit_sent(sent: Iterable[Any]) -> int:
    """`strides.notification.sent` for each delivered message (engine.Sent), about its recipient."""
    count = 0
    for item in sent:
        emit(
            StridesEvent(
                NOTIFICATION_SENT,
                f"person:{item.recipient}",
                {
                    "key": item.key,
                    "rule": item.rule_id,
                    "kind": item.kind,
                    "occurrence": item.occurrence.isoformat(),
                    "ref": item.ref,
                },
            )
        )
        count += 1
    return count
