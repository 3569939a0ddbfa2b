"""The tick: plan the window since the last tick, then deliver what is due, in coarse tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact

from strides import engine
from strides.config import Settings
from strides.integrations.compose import Sender
from strides.integrations.outbox import OutboxTransport
from strides.rules import Window
from strides.ruleset import load_rules_safely
from strides.store import Store

MAX_CHUNKS_PER_TICK = 1000


def _sender(settings: Settings) -> Sender:
    return Sender(str(settings.organiser_email), settings.organiser_name, settings.meeting_location)


@task(name="plan-window", retries=2, retry_delay_seconds=[1, 5])
def plan_task(settings: Settings, window: Window, now: datetime) -> engine.PlanOutcome:
    loaded = load_rules_safely(settings.rules_dir, settings.state_dir)
    if loaded.warning:
        print(f"WARNING: {loaded.warning}")
    outcome = engine.plan_window(Store(settings.db_url), loaded.rules, window, now)
    # Skipped messages (missing relationship, later than max_lateness, inhibited) are reported.
    for skip in outcome.skips[:200]:
        print(
            f"skipped: rule {skip.rule_id}, {skip.subject} "
            f"at {skip.occurrence:%Y-%m-%d %H:%M %Z}: {skip.reason}"
        )
    if len(outcome.skips) > 200:
        print(f"skipped: {len(outcome.skips) - 200} more")
    return outcome


@task(name="deliver-chunk", retries=3, retry_delay_seconds=[1, 5, 15])
def deliver_task(settings: Settings, now: datetime) -> engine.DeliveryOutcome:
    transport = OutboxTransport(settings.outbox)
    return engine.deliver_due(Store(settings.db_url), transport, _sender(settings), now, settings.chunk_size)


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


@flow(name="tick", flow_run_name="tick {now:%Y-%m-%d %H:%M}", log_prints=True)
def tick(
    now: datetime, settings: dict[str, Any] | None = None, since: datetime | None = None
) -> dict[str, int]:
    """Plan the window since the last tick up to `now`, then deliver everything due by `now`."""
    config = Settings.model_validate(settings or {})
    now = now.astimezone(UTC)
    store = Store(config.db_url)
    window = engine.next_window(store, now, config.first_window, since)
    planned = plan_task(config, window, now).planned if window else 0
    delivery = engine.DeliveryOutcome()
    for _ in range(MAX_CHUNKS_PER_TICK):
        chunk = deliver_task(config, now)
        delivery.merge(chunk)
        if chunk.claimed < config.chunk_size:
            break
    engine.record_tick(store, now, window, planned, delivery)
    _artifact(now, window, delivery)
    return {"planned": planned, "sent": len(delivery.sent), "failed": len(delivery.failed)}
