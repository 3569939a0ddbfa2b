"""The tick: plan the window since the last tick, then deliver what is due, in coarse tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, task

from strides import engine
from strides.config import Settings
from strides.flows.common import artifact, send_due, sent_markdown, utc
from strides.rules import Window
from strides.ruleset import load_rules_safely
from strides.store import Store
from strides.store.shards import WHOLE, Shard

MAX_CHUNKS_PER_TICK = 1000
# However much is due, a tick's delivery is about this many task runs (each drains several chunks).
DELIVERY_TASKS = 32


@task(name="plan-window", retries=2, retry_delay_seconds=[1, 5])
def plan_task(
    settings: Settings,
    window: Window,
    now: datetime,
    basis: engine.PlanBasis | None = None,
    shard: Shard = WHOLE,
) -> engine.PlanOutcome:
    """Plan one shard of the window (a range of subject buckets): a few thousand people's worth."""
    loaded = load_rules_safely(settings.rules_dir, settings.state_dir)
    if loaded.warning and shard.index == 0:
        print(f"WARNING: {loaded.warning}")
    outcome = engine.plan_window(Store(settings.db_url), loaded.rules, window, now, basis=basis, shard=shard)
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
def deliver_task(settings: Settings, now: datetime, chunks: int = 1) -> engine.DeliveryOutcome:
    return send_due(settings, now, chunks)


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
    now = utc(now)
    store = Store(config.db_url)
    window = engine.next_window(store, now, config.first_window, since)
    # Planning runs as a handful of tasks, each a shard of about `plan_chunk` people's subjects,
    # all against the same basis (the organisation changes this tick plans with).
    basis = engine.plan_basis(store, load_rules_safely(config.rules_dir, config.state_dir).rules)
    outcomes = (
        [
            plan_task(config, window, now, basis, shard)
            for shard in engine.plan_shards(store, config.plan_chunk)
        ]
        if window
        else []
    )
    planned = sum(o.planned for o in outcomes)
    delivery = engine.DeliveryOutcome()
    chunks = engine.chunks_per_task(engine.count_due(store, now), config.chunk_size, DELIVERY_TASKS)
    for _ in range(MAX_CHUNKS_PER_TICK):
        chunk = deliver_task(config, now, chunks)
        delivery.merge(chunk)
        if chunk.claimed < config.chunk_size * chunks:
            break
    engine.record_tick(store, now, window, planned, delivery, basis)
    span = (
        f"Window: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
        if window
        else "Window: none"
    )
    title = f"strides tick at {now:%Y-%m-%d %H:%M} UTC"
    skipped = sum(len(o.skips) for o in outcomes)
    new_skips = sum(o.new_skips for o in outcomes)
    counts = f"Planned {planned}, skipped {skipped} ({new_skips} new; `strides skips` lists them)."
    artifact(
        "strides-tick",
        sent_markdown(title, [span, counts], delivery.sent, len(delivery.failed)),
        "What the tick sent",
    )
    return {
        "planned": planned,
        "sent": len(delivery.sent),
        "failed": len(delivery.failed),
        "skipped": skipped,
        "skipped_new": new_skips,
    }
