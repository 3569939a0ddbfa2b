"""The escalation trigger: an overdue milestone climbs a ladder of recipients (each rung a step after
its due day) until it is completed, the last rung repeating while it stays open."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import cast

from strides.domain.schema import EscalationTrigger, MissingPolicy, Role, Rule
from strides.rules.planning import timing
from strides.rules.planning.kinds.base import TriggerKind
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import Planner
from strides.rules.planning.view import Audience


class EscalationKind(TriggerKind):
    def parts(self, rule: Rule) -> int:
        # Each rung queries milestones of its own, and so do the repeats after the last.
        trigger = cast(EscalationTrigger, rule.trigger)
        return len(trigger.steps) + (trigger.repeat is not None)

    def occasions(self, planner: Planner, rule: Rule, part: int | None = None) -> Iterator[Occasion]:
        """Each rung of the ladder for each open milestone; stops once the milestone is completed.
        (`part`: one rung alone, by its index; the repeats after the steps.)"""
        trigger = cast(EscalationTrigger, rule.trigger)
        view = planner.view
        first, last_day = planner.span(self.reach(rule))
        last = trigger.steps[-1]
        for index, step in enumerate(trigger.steps):
            if part is not None and part != index:
                continue
            owner_only = all(t == Role.OWNER.value or "@" in t for t in step.to)
            # Each recipient sees the step's time on their own clock: its days are taken per
            # recipient timezone where the view can tell whose (else those of every timezone).
            audience = None if owner_only else _audience(step.to, rule.action.missing)
            days = planner.occasion_days(
                rule, trigger.at, owner_only or audience is not None, first, last_day
            )
            low, high, by_zone = timing.shifted(days, -step.after)
            if low > high:
                continue
            milestones = list(view.milestones_due(low, high, by_zone, open_at=planner.now, audience=audience))
            owners = (planner.owner(view.goals[m.goal]) for m in milestones)
            planner.prefetch_related(rule, step.to, owners, step.title, step.body)
            for milestone in milestones:
                goal = view.goals[milestone.goal]
                owner = planner.owner(goal)
                if owner is None or planner.done(milestone):
                    continue
                day = milestone.due + step.after
                yield Occasion(
                    rule,
                    f"milestone:{milestone.id}",
                    owner,
                    day,
                    goal,
                    milestone,
                    to=step.to,
                    title=step.title,
                    body=step.body,
                )
        if trigger.repeat is None or part not in (None, len(trigger.steps)):
            return
        every = trigger.repeat.days or 1
        # Repeats of the last rung: every open milestone at least `after + repeat` overdue.
        for milestone in view.milestones_due_before(last_day - last.after - trigger.repeat):
            goal = view.goals[milestone.goal]
            owner = planner.owner(goal)
            if owner is None or planner.done(milestone):
                continue
            rung = milestone.due + last.after
            count = max(1, -(-((first - rung).days) // every))
            day = rung + timedelta(days=count * every)
            while day <= last_day:
                yield Occasion(
                    rule,
                    f"milestone:{milestone.id}",
                    owner,
                    day,
                    goal,
                    milestone,
                    to=last.to,
                    title=last.title,
                    body=last.body,
                )
                day += timedelta(days=every)


def _audience(to: Sequence[str], missing: MissingPolicy) -> Audience | None:
    """Whose timezones decide when a message to `to` lands (None: a role no view narrows by)."""
    roles = set()
    for target in to:
        if "@" in target or target == Role.OWNER.value:
            roles.add(Role.OWNER.value)
        elif target in (Role.MANAGER.value, Role.MENTOR.value):
            roles.add(target)
        else:
            return None
    return Audience(frozenset(roles), to_manager=missing is MissingPolicy.MANAGER)


KIND = EscalationKind()
