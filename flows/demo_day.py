"""`demo-day`: one simulated day of the demo as one Prefect flow run, ticking the engine at the
given moments as a deployment's tick flow would at each (plan the window since the last tick,
deliver what is due, record the tick)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow

from strides import engine
from strides.config import Settings
from strides.flows.common import send_due, utc
from strides.integrations.rule_files import load_rules_safely
from strides.store import Store

COUNTS = ("planned", "sent", "failed", "held_back", "skipped", "ticks")


def _run_name() -> str:
    from prefect.runtime import flow_run

    moments = flow_run.parameters.get("moments") or []
    first = moments[0] if moments else None
    return f"demo day {first.astimezone(UTC):%Y-%m-%d}" if isinstance(first, datetime) else "demo day"


@flow(name="demo-day", flow_run_name=_run_name)
def demo_day(
    moments: list[datetime], settings: dict[str, Any] | None = None, since: datetime | None = None
) -> dict[str, int]:
    """Tick at each of `moments` (the first plans from `since`, or the last tick); the day's counts."""
    config = Settings.model_validate(settings or {})
    store = Store(config.db_url)
    rules = load_rules_safely(config.rules_dir, config.state_dir).rules
    report = dict.fromkeys(COUNTS, 0)
    for index, moment in enumerate(moments):
        now = utc(moment)
        window = engine.next_window(store, now, config.first_window, since if index == 0 else None)
        basis = engine.plan_basis(store, rules)
        planned = (
            engine.plan_window(
                store, rules, window, now, basis=basis, calendars=engine.Calendars(config.calendar_timeout)
            )
            if window
            else None
        )
        for warning in planned.calendar_warnings if planned else ():
            print(f"WARNING: {warning}")
        delivery = send_due(config, now, max_chunks=1000)
        engine.record_tick(store, now, window, planned.planned if planned else 0, delivery, basis)
        report["planned"] += planned.planned if planned else 0
        report["skipped"] += len(planned.skips) if planned else 0
        report["sent"] += len(delivery.sent)
        report["failed"] += len(delivery.failed)
        report["held_back"] += len(delivery.held_back)
        report["ticks"] += 1
    return report
