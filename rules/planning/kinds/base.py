"""What every trigger kind answers: its occasions in a window, how far they reach, how it splits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from strides.domain.schema import Rule
from strides.rules.planning import timing
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import Planner


class TriggerKind:
    """How one kind of trigger fires. Each kind (anchor, cadence, digest, escalation, event) is
    one module of this package, registered by its trigger's type in `KINDS`."""

    def occasions(self, planner: Planner, rule: Rule, part: int | None = None) -> Iterator[Occasion]:
        """The occasions of `rule` that can matter to the planner's window (of one of its `parts`
        when given). The planner checks each exactly: a kind may find more, never fewer."""
        return iter(())

    def reach(self, rule: Rule) -> tuple[timedelta, timedelta]:
        """How far before the window's start and after its end an occasion's day may lie and
        still matter: a day each way for local calendars, what business days and working hours
        can move it, and after the window an invite's lead."""
        slack = timing.slack(rule)
        return timedelta(days=1) + slack, timing.lead(rule) + timedelta(days=1) + slack

    def parts(self, rule: Rule) -> int:
        """Into how many parts planning `rule` splits, each reading on its own (run at once)."""
        return 1

    def weight(self, rule: Rule) -> int:
        """How much of the organisation `rule` is likely to read in a window, roughly (the
        heaviest rules are planned first, so that none is left to run alone at the end)."""
        return 1

    def reopens(self, rule: Rule) -> str | None:
        """The kind of subject ("goal", "milestone", "person") whose meetings this invite rule
        plans in full when the subject changed or was invited to; None: none beyond people."""
        return None
