"""Deciding, and pure: what the rules want sent, given the organisation, a window and the ledger.

The planner (`plan`, `plan_event`) turns rules into intended messages; `reconcile` turns wanted
meetings into iTIP messages against what was sent; `digest` composes a person's weekly digest;
`delivery` says whether a message may go out now. No I/O, no clock, no SQL, no Prefect, no vendor
SDK: everything is given as arguments. The built-in rule pack lives beside it, in `builtin/`.
"""

from strides.rules.events import Event
from strides.rules.intents import Intent, Meeting, Plan, Skip, Window
from strides.rules.planning import plan, plan_event

__all__ = ["Event", "Intent", "Meeting", "Plan", "Skip", "Window", "plan", "plan_event"]
