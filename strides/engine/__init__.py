"""The work of strides as plain functions: plan a window, deliver what is due, report, react.

Flows call these; tests call them directly. Each module is one kind of work:
`plan` (a window into the ledger, and the tick's bookkeeping), `deliver` (claim, build, send,
record), `report` (what the ledger holds, summed up), `react` (one event's messages),
`intake` (the organisation from its source), `calendars` (what placement sees people booked
for: the store's meetings and their own calendars' busy times) and `busy` (reading those
calendars; imported where used, as it loads the CalDAV and HTTP clients). Nothing here
imports Prefect.
"""

# The names below are imported on first use (PEP 562): a command that needs one part of the engine
# (`strides status` reads `report`) does not pay for importing the others (about 0.5 s for
# delivery's rendering and the planner), and `strides --help` none.
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strides.engine.calendars import Calendars
    from strides.engine.deliver import (
        DeliveryOutcome,
        Sent,
        chunks_per_task,
        count_due,
        deliver_due,
        digest_reports,
        digest_span,
        drain,
    )
    from strides.engine.plan import (
        PlanBasis,
        PlanOutcome,
        WindowPlan,
        decide,
        lookahead,
        next_window,
        plan_basis,
        plan_shards,
        plan_window,
        record_tick,
        rules_digest,
    )
    from strides.engine.react import plan_event_window, record_event
    from strides.engine.report import SummaryLine, kind_label, summarise

_HOME = {
    "Calendars": "calendars",
    "DeliveryOutcome": "deliver",
    "PlanBasis": "plan",
    "PlanOutcome": "plan",
    "Sent": "deliver",
    "SummaryLine": "report",
    "WindowPlan": "plan",
    "chunks_per_task": "deliver",
    "count_due": "deliver",
    "decide": "plan",
    "deliver_due": "deliver",
    "digest_reports": "deliver",
    "digest_span": "deliver",
    "drain": "deliver",
    "kind_label": "report",
    "lookahead": "plan",
    "next_window": "plan",
    "plan_basis": "plan",
    "plan_event_window": "react",
    "plan_shards": "plan",
    "plan_window": "plan",
    "record_event": "react",
    "record_tick": "plan",
    "rules_digest": "plan",
    "summarise": "report",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "Calendars",
    "DeliveryOutcome",
    "PlanBasis",
    "PlanOutcome",
    "Sent",
    "SummaryLine",
    "WindowPlan",
    "chunks_per_task",
    "count_due",
    "decide",
    "deliver_due",
    "digest_reports",
    "digest_span",
    "drain",
    "kind_label",
    "lookahead",
    "next_window",
    "plan_basis",
    "plan_event_window",
    "plan_shards",
    "plan_window",
    "record_event",
    "record_tick",
    "rules_digest",
    "summarise",
]
