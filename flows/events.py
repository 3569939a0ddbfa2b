"""Emitting strides' events to Prefect's event bus (PREFECT_API_URL must point at the server)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from strides.integrations.events import NOTIFICATION_SENT, StridesEvent


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
