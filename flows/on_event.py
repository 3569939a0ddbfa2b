"""on_event: react to one strides event (a completed milestone, a moved deadline), then deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from strides import engine
from strides.config import Settings
from strides.engine import react
from strides.flows.common import artifact, send_due, sent_markdown, utc
from strides.integrations.events import StridesEvent, about_of
from strides.integrations.rule_files import load_rules
from strides.store import Store


@task(
    name="react-and-deliver",
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def react_task(
    settings: Settings, event: StridesEvent, now: datetime
) -> tuple[react.Reaction, engine.DeliveryOutcome]:
    """Apply the event, then send what is due: one task run, since each costs a round of API calls
    between the event and the outbox. Both steps are idempotent (keys, claims): a retry repeats
    neither a recorded nor a sent message."""
    reaction = react.react(Store(settings.db_url), load_rules(settings.rules_dir), event, now)
    delivery = send_due(settings, now, max_chunks=1000) if reaction.recorded else engine.DeliveryOutcome()
    return reaction, delivery


def _run_name() -> str:
    parameters = flow_run.parameters
    event = str(parameters.get("event", "event")).removeprefix("strides.")
    return f"on {event} {str(parameters.get('resource_id', '')).removeprefix('strides.')}".strip()


@flow(name="on-event", flow_run_name=_run_name, log_prints=True)
def on_event(
    event: str,
    resource_id: str,
    payload: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """React to `event` about `resource_id` (strides.goal.<id> or strides.person.<id>)."""
    config = Settings.model_validate(settings or {})
    moment = utc(now)
    happening = StridesEvent(event, about_of(resource_id), payload or {})
    reaction, delivery = react_task(config, happening, moment)
    notes = [f"Event `{event}` about `{happening.about}`: {reaction.note}."]
    if reaction.cancelled:
        notes.append(f"Withdrawn (no longer wanted): {len(reaction.cancelled)} pending message(s).")
    artifact(
        "strides-on-event",
        sent_markdown(
            f"strides reaction at {moment:%Y-%m-%d %H:%M} UTC",
            notes,
            delivery.sent,
            len(delivery.failed),
            len(delivery.held_back),
        ),
        "What the event brought",
    )
    return {
        "recorded": reaction.recorded,
        "cancelled": len(reaction.cancelled),
        "sent": len(delivery.sent),
        "note": reaction.note,
    }
