"""The tick: plan the window since the last tick, then deliver what is due, in coarse tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from strides import engine
from strides.config import Settings
from strides.flows import progress
from strides.flows.common import (
    THREADS,
    artifact,
    deliver_in_waves,
    delivery_helpers,
    send_due,
    sent_markdown,
    utc,
)
from strides.integrations.rule_files import load_rules_safely
from strides.rules import Window
from strides.store import Store
from strides.store.shards import WHOLE, Shard


# Task runs keep no cache key and no stored result: the ledger is the record, and computing a
# cache key hashes every input (the settings, the window) for nothing.
@task(name="plan-window", retries=2, retry_delay_seconds=[1, 5], cache_policy=NO_CACHE, persist_result=False)
def plan_task(
    settings: Settings,
    window: Window,
    now: datetime,
    basis: engine.PlanBasis | None = None,
    shard: Shard = WHOLE,
    calendars: engine.Calendars | None = None,
) -> engine.PlanOutcome:
    """Plan one shard of the window (a range of subject buckets): a few thousand people's worth."""
    loaded = load_rules_safely(settings.rules_dir, settings.state_dir)
    if loaded.warning and shard.index == 0:
        print(f"WARNING: {loaded.warning}")
    outcome = engine.plan_window(
        Store(settings.db_url),
        loaded.rules,
        window,
        now,
        basis=basis,
        shard=shard,
        processes=settings.plan_processes,
        calendars=calendars,
    )
    # A calendar that could not be read: the person's busy times were not known to this plan.
    for warning in outcome.calendar_warnings:
        print(f"WARNING: {warning}")
    # Skipped messages (missing relationship, later than max_lateness, inhibited) are reported.
    for skip in outcome.skips[:200]:
        print(
            f"skipped: rule {skip.rule_id}, {skip.subject} "
            f"at {skip.occurrence:%Y-%m-%d %H:%M %Z}: {skip.reason}"
        )
    if len(outcome.skips) > 200:
        print(f"skipped: {len(outcome.skips) - 200} more")
    return outcome


@task(
    name="deliver-chunks",
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def deliver_task(settings: Settings, now: datetime, chunks: int = 1) -> engine.DeliveryOutcome:
    return send_due(settings, now, chunks)


def _run_name() -> str:
    from prefect.runtime import flow_run

    now = flow_run.parameters.get("now")
    return f"tick {now.astimezone(UTC):%Y-%m-%d %H:%M}" if isinstance(now, datetime) else "tick now"


@flow(
    name="tick",
    flow_run_name=_run_name,
    log_prints=True,
    # Prefect's annotation wants TaskRunner[PrefectFuture[Any]]; its generic is invariant.
    task_runner=cast(TaskRunner[PrefectFuture[Any]], ThreadPoolTaskRunner(max_workers=THREADS)),
)
def tick(
    now: datetime | None = None, settings: dict[str, Any] | None = None, since: datetime | None = None
) -> dict[str, Any]:
    """Plan the window since the last tick up to `now` (default: the clock), then deliver what is due."""
    config = Settings.model_validate(settings or {})
    # A scheduled run has no `now`: the flow (never the logic below it) reads the clock.
    now = utc(now)
    store = Store(config.db_url)
    window = engine.next_window(store, now, config.first_window, since)
    # Planning runs as a handful of tasks, each a shard of about `plan_chunk` people's subjects,
    # all against the same basis (the organisation changes this tick plans with). One after
    # another: each shard records into the ledger in its own transaction.
    progress.stage("reading the rules")
    basis = engine.plan_basis(store, load_rules_safely(config.rules_dir, config.state_dir).rules)
    shards = engine.plan_shards(store, config.plan_chunk, window, basis) if window else []
    progress.stage("planning", len(shards))
    outcomes = []
    # Each person's calendar is read once for the tick, whichever shards place their meetings.
    calendars = engine.Calendars(config.calendar_timeout)
    for shard in shards:
        assert window is not None  # shards only with a window
        outcomes.append(plan_task(config, window, now, basis, shard, calendars))
        progress.advance()
    planned = sum(o.planned for o in outcomes)

    def wave(tasks: int, chunks: int) -> list[engine.DeliveryOutcome]:
        # At once on the flow's task runner (threads, or Dask workers); claims keep them apart.
        futures = [deliver_task.submit(config, now, chunks) for _ in range(tasks)]
        return [future.result() for future in futures]

    due = engine.count_due(store, now, config.claim_timeout)
    progress.stage("delivering", due)
    helpers = delivery_helpers(config, due, now)
    try:
        delivery, _ = deliver_in_waves(store, now, config.chunk_size, wave, stale_after=config.claim_timeout)
    except BaseException:
        if helpers is not None:
            helpers.stop()
        raise
    for part in helpers.results() if helpers is not None else []:
        assert isinstance(part, engine.DeliveryOutcome)
        delivery.merge(part)
        if config.notification_events:
            from strides.flows.events import emit_sent

            emit_sent(part.sent)
    engine.record_tick(store, now, window, planned, delivery, basis)
    span = (
        f"Window: {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} UTC"
        if window
        else "Window: none"
    )
    title = f"strides tick at {now:%Y-%m-%d %H:%M} UTC"
    skipped = sum(len(o.skips) for o in outcomes)
    new_skips = sum(o.new_skips for o in outcomes)
    # A rule over its planning budget, or failing, is given up for this window (rules.planning).
    given_up = sorted(
        {f"{s.rule_id}: {s.reason}" for o in outcomes for s in o.skips if s.cause == "rule-failed"}
    )
    counts = f"Planned {planned}, skipped {skipped} ({new_skips} new; `strides skips` lists them)."
    unread = sorted({w for o in outcomes for w in o.calendar_warnings})
    artifact(
        "strides-tick",
        sent_markdown(
            title,
            [span, counts, *(f"WARNING: {w}" for w in unread)],
            delivery.sent,
            len(delivery.failed),
            len(delivery.held_back),
        ),
        "What the tick sent",
    )
    return {
        "planned": planned,
        "sent": len(delivery.sent),
        "failed": len(delivery.failed),
        "held_back": len(delivery.held_back),
        "retrying": len(delivery.retrying),
        "ambiguous": len(delivery.ambiguous),
        "skipped": skipped,
        "skipped_new": new_skips,
        "rules_given_up": given_up,
        "calendars_unread": unread,
    }
