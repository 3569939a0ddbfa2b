"""The rule language and the planner: pure decisions, no I/O, no Prefect, no vendor SDK."""

from strides.rules.errors import RuleError, RuleSetError
from strides.rules.events import Event
from strides.rules.intents import Intent, Meeting, Plan, Skip, Window
from strides.rules.parse import RuleSet, combine, parse_rules
from strides.rules.planner import plan, plan_event
from strides.rules.schema import Kind, Rule

__all__ = [
    "Event",
    "Intent",
    "Kind",
    "Meeting",
    "Plan",
    "Rule",
    "RuleError",
    "RuleSet",
    "RuleSetError",
    "Skip",
    "Window",
    "combine",
    "parse_rules",
    "plan",
    "plan_event",
]
