"""sync: reload the organisation from its source folder and emit an event for each change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from strides.config import Settings
from strides.engine import intake
from strides.flows.common import artifact, utc
from strides.flows.events import emit
from strides.integrations.events import StridesEvent
from strides.store import Store

ARTIFACT_ROWS = 500


@task(
    name="reload-organisation",
    retries=2,
    retry_delay_seconds=[1, 5],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def reload_task(settings: Settings) -> intake.SyncOutcome:
    store = Store(settings.db_url)
    store.migrate()
    return intake.sync(
        store,
        settings.organisation,
        accept_mass_change=settings.accept_mass_change,
        share=settings.mass_change_share,
    )


@task(name="emit-changes", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE, persist_result=False)
def emit_task(events: list[StridesEvent]) -> int:
    for event in events:
        emit(event)
    return len(events)


def _run_name() -> str:
    now = flow_run.parameters.get("now")
    return f"sync {utc(now):%Y-%m-%d %H:%M}" if isinstance(now, datetime) else "sync now"


@flow(name="sync", flow_run_name=_run_name, log_prints=True)
def sync(now: datetime | None = None, settings: dict[str, Any] | None = None) -> dict[str, int]:
    """Store the organisation as its source says now; every difference becomes an event."""
    config = Settings.model_validate(settings or {})
    moment = utc(now)
    outcome = reload_task(config)
    events = [StridesEvent.of(change) for change in outcome.changes]
    emitted = emit_task(events) if events else 0
    lines = [
        f"### strides sync at {moment:%Y-%m-%d %H:%M} UTC",
        f"Source: `{config.organisation}`: {outcome.people} people, "
        f"{len(outcome.rejected)} rejected records.",
        "",
        "| event | about | details |",
        "|---|---|---|",
    ]
    lines += [
        f"| {e.name} | {e.about} | {', '.join(f'{k}={v}' for k, v in e.payload.items())} |"
        for e in events[:ARTIFACT_ROWS]
    ]
    artifact("strides-sync", "\n".join(lines), "What changed in the organisation")
    return {"changes": len(events), "emitted": emitted, "rejected": len(outcome.rejected)}
