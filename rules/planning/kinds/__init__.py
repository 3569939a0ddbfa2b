"""The trigger kinds, one module each, registered by their trigger's type in one table.

Adding a kind: its trigger model in strides/domain/schema.py (with `subject`, `time_of_day`,
`zone` and `lateness`), a module here with a `TriggerKind` (its occasions and its reach), and one
line in `KINDS` (docs/architecture.md walks through an example).
"""

from __future__ import annotations

from strides.domain.schema import (
    AnchorTrigger,
    CadenceTrigger,
    DigestTrigger,
    EscalationTrigger,
    EventTrigger,
    Rule,
)
from strides.rules.planning.kinds import anchor, cadence, digest, escalation, event
from strides.rules.planning.kinds.base import TriggerKind

KINDS: dict[type, TriggerKind] = {
    AnchorTrigger: anchor.KIND,
    CadenceTrigger: cadence.KIND,
    DigestTrigger: digest.KIND,
    EscalationTrigger: escalation.KIND,
    EventTrigger: event.KIND,
}


def kind_of(rule: Rule) -> TriggerKind:
    """The kind a rule's trigger is."""
    return KINDS[type(rule.trigger)]


__all__ = ["KINDS", "TriggerKind", "kind_of"]
