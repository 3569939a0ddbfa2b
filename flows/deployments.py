"""The deployments strides runs: one place that `strides serve` builds from and that
deploy/prefect.yaml must agree with (a test holds them together).

Schedules are cron strings in UTC; the event-driven deployment listens for strides' events
about goals (`strides.goal.*`) and people (`strides.person.*`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strides.rules.reactions import Change

# What on_event reacts to; other strides events are for Prefect's UI and automations.
REACTS_TO = (Change.MILESTONE_COMPLETED.value, Change.DEADLINE_MOVED.value)
EVENT_PARAMETERS = {
    "event": "{{ event.event }}",
    "resource_id": "{{ event.resource.id }}",
    "payload": "{{ event.payload }}",
}


@dataclass(frozen=True)
class Spec:
    name: str
    entrypoint: str  # path:function, relative to the project root (as prefect.yaml has it)
    description: str
    cron: str | None = None
    triggers: tuple[dict[str, Any], ...] = ()
    concurrency_limit: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def module(self) -> str:
        path, _, _ = self.entrypoint.partition(":")
        return "strides." + path.removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.partition(":")[2]


def event_trigger(resource: str, events: tuple[str, ...]) -> dict[str, Any]:
    """A DeploymentEventTrigger (as its keyword arguments): run once per matching event."""
    return {
        "name": f"strides events about {resource}",
        "enabled": True,
        "match": {"prefect.resource.id": resource},
        "expect": list(events),
        "posture": "Reactive",
        "threshold": 1,
        "within": 0,
        "parameters": dict(EVENT_PARAMETERS),
    }


SPECS: tuple[Spec, ...] = (
    Spec(
        "tick",
        "flows/tick.py:tick",
        "Plan the time-based rules for the window since the last tick, then deliver what is due.",
        cron="*/15 * * * *",
        concurrency_limit=1,
    ),
    Spec(
        "deliver",
        "flows/deliver.py:deliver",
        "Drain due messages (retries, and anything a crashed worker left claimed).",
        cron="*/5 * * * *",
    ),
    Spec(
        "sync",
        "flows/sync.py:sync",
        "Reload the organisation from its source and emit an event for each change.",
        cron="7 * * * *",
        concurrency_limit=1,
    ),
    Spec(
        "on-event",
        "flows/on_event.py:on_event",
        "React to one strides event: congratulate a completed milestone, re-plan a moved deadline.",
        triggers=(event_trigger("strides.goal.*", REACTS_TO),),
    ),
)
