"""deliver: drain every due message from the ledger, in parallel chunks, with retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from strides import engine
from strides.config import Settings
from strides.flows.common import artifact, send_due, sent_markdown, utc


@task(
    name="drain-chunks",
    retries=3,
    retry_delay_seconds=[1, 5, 15],
    cache_policy=NO_CACHE,
    persist_result=False,
)
def drain_task(settings: Settings, now: datetime, max_chunks: int) -> engine.DeliveryOutcome:
    """One lane of delivery: chunk after chunk until nothing is due (claims keep lanes apart)."""
    return send_due(settings, now, max_chunks)


def _run_name() -> str:
    now = flow_run.parameters.get("now")
    return f"deliver {utc(now):%Y-%m-%d %H:%M}" if isinstance(now, datetime) else "deliver now"


@flow(name="deliver", flow_run_name=_run_name, log_prints=True)
def deliver(
    now: datetime | None = None, settings: dict[str, Any] | None = None, lanes: int = 2, max_chunks: int = 50
) -> dict[str, int]:
    """Send everything due by `now` (default: the current time), on `lanes` tasks at once."""
    config = Settings.model_validate(settings or {})
    moment = utc(now)
    futures = [drain_task.submit(config, moment, max_chunks) for _ in range(max(1, lanes))]
    total = engine.DeliveryOutcome()
    for future in futures:
        total.merge(future.result())
    artifact(
        "strides-deliver",
        sent_markdown(
            f"strides delivery at {moment:%Y-%m-%d %H:%M} UTC",
            [],
            total.sent,
            len(total.failed),
            len(total.held_back),
        ),
        "What the delivery sent",
    )
    return {
        "claimed": total.claimed,
        "sent": len(total.sent),
        "failed": len(total.failed),
        "held_back": len(total.held_back),
    }
