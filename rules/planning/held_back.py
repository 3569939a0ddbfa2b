"""What holds a message back: later than its rule's max lateness, or an escalation firing.

An escalation (a rule with `inhibits:`) keeps the plain reminders of the same goal quiet while one
of the goal's milestones is overdue and climbing its ladder, Alertmanager-style. A reminder whose
goal holds a milestone long overdue can be set aside by the view without reading its records
(`Quiet`): it is only reported as held back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from strides.domain.parse import RuleSet
from strides.domain.schema import EscalationTrigger, Role, Rule, Shift
from strides.rules.calendar import local_moment
from strides.rules.intents import Skip, Window, inhibited_by, too_late
from strides.rules.planning import timing
from strides.rules.planning.facts import FactsOf
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.view import OrgView, Quiet, Quieted

_OWNER = Role.OWNER.value


@dataclass
class HeldBack:
    """The rules' inhibitions and lateness cut-offs for one window planned at `now`."""

    rules: RuleSet
    view: OrgView
    window: Window
    now: datetime
    facts: FactsOf
    _inhibiting_by: dict[timedelta, tuple[date, datetime]] = field(default_factory=dict)
    _earliest_by: dict[int, datetime] = field(default_factory=dict)

    @functools.cached_property
    def inhibitors(self) -> dict[str, list[tuple[Rule, EscalationTrigger]]]:
        """For each rule id, the enabled escalations that inhibit it (only escalations inhibit:
        the schema refuses `inhibits` on other rules)."""
        found: dict[str, list[tuple[Rule, EscalationTrigger]]] = {}
        for rule in self.rules.enabled:
            if isinstance(rule.trigger, EscalationTrigger):
                for target in rule.inhibits:
                    found.setdefault(target, []).append((rule, rule.trigger))
        return found

    def earliest(self, rule: Rule) -> datetime:
        """The earliest moment (UTC) a message of `rule` may still be sent at (its max lateness)."""
        found = self._earliest_by.get(id(rule))
        if found is None:
            lateness = self.facts(rule).lateness
            floor = datetime.min.replace(tzinfo=UTC)
            found = floor if lateness >= self.now - floor else (self.now - lateness).astimezone(UTC)
            self._earliest_by[id(rule)] = found
        return found

    def reason(self, occasion: Occasion, recipient: str, moment: datetime, utc: datetime) -> str | None:
        """Why this message is held back (too late, or inhibited), or None: it goes out."""
        rule = occasion.rule
        if utc < self.earliest(rule):
            return too_late(recipient)
        if rule.id not in self.inhibitors:
            return None
        inhibitor = self.inhibitor(occasion, moment, utc)
        return None if inhibitor is None else inhibited_by(inhibitor)

    def inhibiting(self, first: timedelta) -> tuple[date, datetime]:
        """Which milestones can inhibit a message sent in this window through an escalation whose
        first step is `first` after the due day: due by this day, and not completed by the
        window's start (a message at `moment` is inhibited by one open then, firing before it)."""
        found = self._inhibiting_by.get(first)
        if found is None:
            found = self._inhibiting_by[first] = (
                (self.window.end + timedelta(days=1)).date() - first,
                self.window.start,
            )
        return found

    def prefetch(self, rule: Rule, goal_ids: Iterable[str]) -> None:
        """The dues of these goals' milestones will be asked by `inhibitor`: read them in one go."""
        goal_ids = list(goal_ids)
        for _, trigger in self.inhibitors.get(rule.id, ()):
            self.view.prefetch_open_milestones(goal_ids, *self.inhibiting(trigger.steps[0].after))

    def inhibitor(self, occasion: Occasion, moment: datetime, utc: datetime | None = None) -> str | None:
        """The escalation rule that suppresses this message (same goal, escalation firing), if any.
        (`utc`: `moment` in UTC, when the caller has it.)"""
        goal = occasion.goal
        if goal is None:
            return None
        if utc is None:
            utc = moment.astimezone(UTC)
        # Compared in UTC: comparing moments of two zones asks both for their offsets.
        inside = self.window.start <= utc < self.window.end
        for other, trigger in self.inhibitors.get(occasion.rule.id, ()):
            first = trigger.steps[0].after
            candidates = None
            if inside:
                candidates = self.view.open_milestones_of(goal.id, *self.inhibiting(first))
            if candidates is None:
                candidates = [(m.due, m.completed_at) for m in self.view.milestones_of(goal.id)]
            tz, at, effective = occasion.owner.tz, trigger.at, other.effective
            for due, completed in candidates:
                if completed is not None and completed <= moment:
                    continue  # completed before the message: it does not hold it back
                fires = local_moment(due + first, at, tz)
                if fires <= moment and (effective.always or effective.covers(fires.date())):
                    return other.id
        return None

    def quiet_after(self, rule: Rule) -> timedelta | None:
        """The first step of the escalation that inhibits `rule`, when the view may set aside the
        occasions it certainly holds back (`Quiet`): `rule` is then a plain notice to the owner
        alone at a time on their clock, not moved to a business day, and inhibited by that one
        escalation alone, in effect whenever it fires. None otherwise."""
        inhibitors = self.inhibitors.get(rule.id, ())
        if len(inhibitors) != 1 or not inhibitors[0][0].effective.always:
            return None
        facts = self.facts(rule)
        to = rule.action.to
        if (
            not facts.plain
            or facts.at is None
            or facts.fixed is not None
            or rule.calendar.business_days is not Shift.NONE
            or not (len(to) == 1 and to[0] == _OWNER)
        ):
            return None
        return inhibitors[0][1].steps[0].after

    def quiet(self, rule: Rule, low: date, offset: timedelta) -> Quiet | None:
        """The hint to set aside `rule`'s occasions from anchor day `low` on (see `Quiet`)."""
        after = self.quiet_after(rule)
        if after is None:
            return None
        # Every occasion of the query is on or after `low + offset`: a milestone due
        # `QUIET_MARGIN` before its escalation's first step has fired by then.
        due_by = self.inhibiting(after)[0]
        return Quiet(min(low + offset - after - timing.QUIET_MARGIN, due_by), self.window.end)

    def quiet_skips(self, rule: Rule, kind: str, offset: timedelta, quieted: Sequence[Quieted]) -> list[Skip]:
        """The skips of the occasions the view set aside (`Quiet`), as `reason` gives them: too
        late, else inhibited; nothing outside the window."""
        if not quieted:
            return []
        at = self.facts(rule).at
        assert at is not None  # see `quiet_after`
        reason = inhibited_by(self.inhibitors[rule.id][0][0].id)
        start, end, earliest = self.window.start, self.window.end, self.earliest(rule)
        found = []
        for ident, anchor, owner, zone in quieted:
            moment = local_moment(anchor + offset, at, timing.zone(zone))
            utc = moment.astimezone(UTC)
            if start <= utc < end:
                why = too_late(owner) if utc < earliest else reason
                found.append(Skip(rule.id, f"{kind}:{ident}", moment, why))
        return found
