"""The work of strides as plain functions: plan a window, deliver what is due, report, react.

Flows call these; tests call them directly. Each module is one kind of work:
`plan` (a window into the ledger, and the tick's bookkeeping), `deliver` (claim, build, send,
record), `report` (what the ledger holds, summed up), `react` (one event's messages),
`intake` (the organisation from its source) and `busy` (people's busy times from their own
calendars for a tick; imported where used, as it loads the CalDAV and HTTP clients). Nothing here
imports Prefect.
"""

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

__all__ = [
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
