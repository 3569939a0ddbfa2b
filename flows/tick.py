"""The tick: plan the window since the last tick, then deliver what is due, in coarse tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from strides import engine
from strides.config import Settings
from strides.flows.common import send_due
from strides.rules import Window
from strides.ruleset import load_rules_safely
from strides.store import Store

MAX_CHUNKS_PER_TICK = 1000


@task(name="plan-window", retries=2, retry_delay_seconds=[1, 5])
def plan_task(settings: Settings, window: Window, now: datetime) -> engine.PlanOutcome:
    loaded = load_rules_safely(settings.rules_dir, settings.state_dir)
    if loaded.warning:
        print(f"WARNING: {loaded.warning}")
    return engine.plan_window(Store(settings.db_url), loaded.rules, window, now)


@task(name="deliver-chunk", retries=3, retry_delay_seconds=[1, 5, 15])
def deliver_task(settings: Settings, now: datetime) -> engine.DeliveryOutcome:
    return send_due(settings, now)


def _artifact(now: datetime, window: Window | None, delivery: engine.DeliveryOutcome) -> None:
    lines = [
        f"### strides tick at {now:%Y-%m-%d %H:%M} UTC",
        f"Window: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
        if window
        else "Window: none",
        "",
        "| rule | kind | recipient | occurrence (UTC) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {s.rule_id} | {s.kind} | {s.recipient} | {s.occurrence:%Y-%m-%d %H:%M} |"
        for s in delivery.sent[:500]
    ]
    if len(delivery.sent) > 500:
        lines.append(f"| … | | {len(delivery.sent) - 500} more | |")
    create_markdown_artifact(markdown="\n".join(lines), key="strides-tick", description="What the tick sent")


def _run_name() -> str:
    from prefect.runtime import flow_run

    now = flow_run.parameters.get("now")
    return f"tick {now.astimezone(UTC):%Y-%m-%d %H:%M}" if isinstance(now, datetime) else "tick now"


@flow(name="tick", flow_run_name=_run_name, log_prints=True)
def tick(
    now: datetime | None = None, settings: dict[str, Any] | None = None, since: datetime | None = None
) -> dict[str, int]:
    """Plan the window since the last tick up to `now` (default: the clock), then deliver what is due."""
    config = Settings.model_validate(settings or {})
    # A scheduled run has no `now`: the flow (never the logic below it) reads the clock.
    now = (now or datetime.now(UTC)).astimezone(UTC)
    store = Store(config.db_url)
    window = engine.next_window(store, now, config.first_window, since)
    outcome = plan_task(config, window, now) if window else None
    planned = outcome.planned if outcome else 0
    delivery = engine.DeliveryOutcome()
    for _ in range(MAX_CHUNKS_PER_TICK):
        chunk = deliver_task(config, now)
        delivery.merge(chunk)
        if chunk.claimed < config.chunk_size:
            break
    engine.record_tick(store, now, window, planned, delivery)
    _artifact(now, window, delivery)
    skipped = len(outcome.skips) if outcome else 0
    return {
        "planned": planned,
        "sent": len(delivery.sent),
        "failed": len(delivery.failed),
        "skipped": skipped,
    }
