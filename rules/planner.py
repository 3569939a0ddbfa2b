"""The planner: (rules, organisation, window, ledger) in, intended messages out. Pure.

A message is due in a window when its send time falls before the window's end and it is
still useful at the window's start: an invite until its meeting begins, anything else only
inside the window itself. The ledger's keys remove what was already planned, so planning an
overlapping window again adds nothing.

Catch-up: the engine plans from the end of its last tick, so a moment that passed while it
was down lies in the next window and fires once, late; later than the rule's `max_lateness`
(measured at the window's end, the tick's "now") it is skipped and recorded as skipped.

Conditions see `now` as the window's end (or the event planner's `now`), and one CEL context
is built per record (person, goal, milestone) and reused by every rule's condition.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from strides.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.rules.calendar import (
    into_working_hours,
    local_moment,
    meeting_slot,
    out_of_quiet_hours,
    shift_day,
)
from strides.rules.conditions import (
    build_context,
    compile_condition,
    evaluate,
    goal_view,
    milestone_view,
    person_view,
)
from strides.rules.digest import compose_digest
from strides.rules.events import Event, derived_events
from strides.rules.index import OrgIndex, index_of
from strides.rules.intents import Intent, Meeting, Plan, Skip, Window
from strides.rules.keys import meeting_uid, message_key, occurrence_name
from strides.rules.parse import RuleSet
from strides.rules.parties import organiser_of
from strides.rules.recipients import resolve
from strides.rules.recurrence import recurrence_days
from strides.rules.schema import (
    Anchor,
    AnchorTrigger,
    CadenceAnchor,
    CadenceTrigger,
    DigestTrigger,
    EscalationTrigger,
    EventTrigger,
    Kind,
    NoOverlap,
    Rule,
    Shift,
)
from strides.rules.templates import render_text

__all__ = ["local_moment", "plan", "plan_event"]


# Kept as a name of this module: callers and the benchmark look it up here.
_recurrence_days = recurrence_days


@dataclass(frozen=True)
class _Occasion:
    """One moment a rule fires for one subject, before recipients are resolved."""

    rule: Rule
    subject: str
    owner: Person
    moment_day: date
    goal: Goal | None = None
    milestone: Milestone | None = None
    # Anchored occasions: days from the anchor. Names the meeting independently of its date.
    offset_days: int | None = None
    # An exact moment (events without `at`) instead of `at` on `moment_day`.
    moment: datetime | None = None
    # Escalation steps name their own recipients and may have their own title.
    to: tuple[str, ...] | None = None
    title: str | None = None
    at: time | None = None

    @property
    def slot(self) -> str:
        """Which occurrence this is, independent of its date (so a moved deadline moves the meeting)."""
        if self.offset_days is not None:
            return occurrence_name(offset_days=self.offset_days)
        return occurrence_name(day=self.moment_day)


def _slack(rule: Rule) -> timedelta:
    """How far business-day shifts and working hours can move a moment (long weekends, holidays)."""
    moves = rule.calendar.business_days is not Shift.NONE or rule.calendar.working_hours
    return timedelta(days=8) if moves else timedelta(0)


def _lateness(rule: Rule) -> timedelta:
    trigger = rule.trigger
    return timedelta.max if isinstance(trigger, DigestTrigger) else trigger.max_lateness


@dataclass
class _Planner:
    rules: RuleSet
    org: Organisation
    window: Window
    already: Container[str]
    # Planning "now": the window's end for ticks, the given moment for events.
    now: datetime
    # UIDs of meetings already invited to: wanted whenever they lie ahead (see `_plan_invite`).
    known: Container[str] = frozenset()
    # Their subjects: planned wherever their anchors have moved (see `_anchored`).
    known_subjects: frozenset[str] = frozenset()
    intents: list[Intent] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    fallbacks: list[Skip] = field(default_factory=list)
    _contexts: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @functools.cached_property
    def inhibitors(self) -> dict[str, list[Rule]]:
        """For each rule id, the enabled escalation rules that inhibit it."""
        found: dict[str, list[Rule]] = {}
        for rule in self.rules.enabled:
            for target in rule.inhibits:
                found.setdefault(target, []).append(rule)
        return found

    @functools.cached_property
    def index(self) -> OrgIndex:
        return index_of(self.org)

    # -- when ---------------------------------------------------------------------------------

    def _local_days(self, tz: Any, before: timedelta, after: timedelta) -> tuple[date, date]:
        first = (self.window.start - before).astimezone(tz).date()
        last = (self.window.end + after).astimezone(tz).date()
        return first, last

    def _active_goals(self) -> Iterator[tuple[Goal, Person]]:
        for goal in self.org.goals.values():
            if goal.status is GoalStatus.ACTIVE and goal.owner in self.org.people:
                yield goal, self.org.people[goal.owner]

    def _span(self, rule: Rule) -> tuple[date, date]:
        """The owner-local days an occasion of `rule` may fall on and still matter to this window."""
        lead = rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)
        slack = _slack(rule)
        first = (self.window.start - timedelta(days=1) - slack).date()
        last = (self.window.end + lead + timedelta(days=1) + slack).date()
        return first, last

    def _owner(self, goal: Goal) -> Person | None:
        return self.org.people.get(goal.owner)

    def occasions(self, rule: Rule) -> Iterator[_Occasion]:
        trigger = rule.trigger
        lead = rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)
        # Days far enough back for business-day shifts, and forward for invite lead times.
        slack = _slack(rule)
        before = timedelta(days=1) + slack
        after = lead + timedelta(days=1) + slack
        if isinstance(trigger, AnchorTrigger):
            yield from self._anchored(rule, trigger)
        elif isinstance(trigger, CadenceTrigger):
            yield from self._cadence(rule, trigger, before, after)
        elif isinstance(trigger, DigestTrigger):
            for zone, people in self.index.people_by_zone.items():
                first, last = self._local_days(_zone(zone), timedelta(days=1), timedelta(days=1))
                day = first
                while day <= last:
                    for person in people:
                        if person.digest.enabled and day.isoweekday() == person.digest.weekday:
                            yield _Occasion(rule, f"person:{person.id}", person, day)
                    day += timedelta(days=1)
        elif isinstance(trigger, EscalationTrigger):
            yield from self._escalation(rule, trigger)
        # Event rules fire from events (derived from the state in plan(), or plan_event()).

    def _cadence(
        self, rule: Rule, trigger: CadenceTrigger, before: timedelta, after: timedelta
    ) -> Iterator[_Occasion]:
        if trigger.anchor is CadenceAnchor.GOAL_CREATED:
            for goal, owner in self._active_goals():
                starts = goal.created_at.astimezone(owner.tz).date()
                first, last = self._local_days(owner.tz, before, after)
                for day in _recurrence_days(trigger.every, starts, first, last):
                    yield _Occasion(rule, f"goal:{goal.id}", owner, day, goal=goal)
            return
        # Computed once per timezone (the rule's phase), not per person.
        for zone, people in self.index.people_by_zone.items():
            tz = _zone(trigger.timezone or zone)
            first, last = self._local_days(tz, before, after)
            if trigger.anchor is CadenceAnchor.ORGANISATION:
                days = _recurrence_days(trigger.every, trigger.starts, first, last)
                for day in days:
                    for person in people:
                        yield _Occasion(rule, f"person:{person.id}", person, day)
                continue
            for person in people:
                if person.hired_on is not None:
                    for day in _recurrence_days(trigger.every, person.hired_on, first, last):
                        yield _Occasion(rule, f"person:{person.id}", person, day)

    def _anchored(self, rule: Rule, trigger: AnchorTrigger) -> Iterator[_Occasion]:
        first, last = self._span(rule)
        seen: set[tuple[str, int | None]] = set()
        for occasion in self._anchored_between(rule, trigger, first, last):
            seen.add((occasion.subject, occasion.offset_days))
            yield occasion
        if rule.action.kind is not Kind.INVITE or not self.known_subjects:
            return
        # A meeting already invited to stays wanted wherever its anchor has moved, even beyond
        # this window's reach: the reconciler then updates it instead of cancelling it.
        for subject in sorted(self.known_subjects):
            for occasion in self._anchored_subject(rule, trigger, subject):
                if (occasion.subject, occasion.offset_days) not in seen:
                    yield occasion

    def _anchored_between(
        self, rule: Rule, trigger: AnchorTrigger, first: date, last: date
    ) -> Iterator[_Occasion]:
        """Occasions whose day falls in [first, last], found through the date indexes."""
        if trigger.anchor is Anchor.PERSON_HIRED:
            for person in self.org.people.values():
                for occasion in self._anchored_person(rule, trigger, person):
                    if first <= occasion.moment_day <= last:
                        yield occasion
            return
        for offset in trigger.offsets:
            if trigger.anchor is Anchor.MILESTONE_DUE:
                for milestone in self.index.milestones_due(first - offset, last - offset):
                    yield from self._anchored_milestone(rule, milestone, (offset,))
                continue
            goals = (
                self.index.goals_due(first - offset, last - offset)
                if trigger.anchor is Anchor.GOAL_DEADLINE
                else self.index.goals_created(first - offset, last - offset)
            )
            for goal in goals:
                yield from self._anchored_goal(rule, trigger, goal, (offset,))

    def _anchored_subject(self, rule: Rule, trigger: AnchorTrigger, subject: str) -> Iterator[_Occasion]:
        """Every occasion of `rule` for one subject ("goal:ID", "milestone:ID", "person:ID")."""
        kind, _, ident = subject.partition(":")
        if kind == "person" and trigger.anchor is Anchor.PERSON_HIRED and ident in self.org.people:
            yield from self._anchored_person(rule, trigger, self.org.people[ident])
        elif kind == "goal" and trigger.anchor in (Anchor.GOAL_DEADLINE, Anchor.GOAL_CREATED):
            goal = self.org.goals.get(ident)
            if goal is not None and goal.status is GoalStatus.ACTIVE:
                yield from self._anchored_goal(rule, trigger, goal, trigger.offsets)
        elif kind == "milestone" and trigger.anchor is Anchor.MILESTONE_DUE:
            milestone = self.org.milestones.get(ident)
            goal = self.org.goals.get(milestone.goal) if milestone else None
            if milestone is not None and goal is not None and goal.status is GoalStatus.ACTIVE:
                yield from self._anchored_milestone(rule, milestone, trigger.offsets)

    def _anchored_person(self, rule: Rule, trigger: AnchorTrigger, person: Person) -> Iterator[_Occasion]:
        if person.hired_on is None:
            return
        for offset in trigger.offsets:
            day = person.hired_on + offset
            yield _Occasion(rule, f"person:{person.id}", person, day, offset_days=offset.days)

    def _anchored_goal(
        self, rule: Rule, trigger: AnchorTrigger, goal: Goal, offsets: Sequence[timedelta]
    ) -> Iterator[_Occasion]:
        owner = self._owner(goal)
        if owner is None:
            return
        base = goal.deadline if trigger.anchor is Anchor.GOAL_DEADLINE else None
        if trigger.anchor is Anchor.GOAL_DEADLINE and base is None:
            return
        for offset in offsets:
            day = (base or goal.created_at.astimezone(owner.tz).date()) + offset
            yield _Occasion(rule, f"goal:{goal.id}", owner, day, goal=goal, offset_days=offset.days)

    def _anchored_milestone(
        self, rule: Rule, milestone: Milestone, offsets: Sequence[timedelta]
    ) -> Iterator[_Occasion]:
        goal = self.org.goals[milestone.goal]
        owner = self._owner(goal)
        if owner is None or self._done(milestone):
            return
        for offset in offsets:
            yield _Occasion(
                rule, f"milestone:{milestone.id}", owner, milestone.due + offset, goal, milestone, offset.days
            )

    def _done(self, milestone: Milestone) -> bool:
        """Completed as of planning "now" (a fixture may hold a completion still in the future)."""
        return milestone.completed_at is not None and milestone.completed_at <= self.now

    def _escalation(self, rule: Rule, trigger: EscalationTrigger) -> Iterator[_Occasion]:
        """Each rung of the ladder for each open milestone; stops once the milestone is completed."""
        first, last_day = self._span(rule)
        last = trigger.steps[-1]
        for step in trigger.steps:
            for milestone in self.index.milestones_due(first - step.after, last_day - step.after):
                goal = self.org.goals[milestone.goal]
                owner = self._owner(goal)
                if owner is None or self._done(milestone):
                    continue
                yield _Occasion(
                    rule,
                    f"milestone:{milestone.id}",
                    owner,
                    milestone.due + step.after,
                    goal,
                    milestone,
                    to=step.to,
                    title=step.title,
                )
        if trigger.repeat is None:
            return
        every = trigger.repeat.days or 1
        # Repeats of the last rung: every open milestone at least `after + repeat` overdue.
        for milestone in self.index.milestones_due_before(last_day - last.after - trigger.repeat):
            goal = self.org.goals[milestone.goal]
            owner = self._owner(goal)
            if owner is None or self._done(milestone):
                continue
            rung = milestone.due + last.after
            count = max(1, -(-((first - rung).days) // every))
            day = rung + timedelta(days=count * every)
            while day <= last_day:
                yield _Occasion(
                    rule,
                    f"milestone:{milestone.id}",
                    owner,
                    day,
                    goal,
                    milestone,
                    to=last.to,
                    title=last.title,
                )
                day += timedelta(days=every)

    def _at(self, occasion: _Occasion, person: Person) -> time:
        trigger = occasion.rule.trigger
        if occasion.at is not None:
            return occasion.at
        if isinstance(trigger, DigestTrigger):
            return person.digest.at
        if isinstance(trigger, EventTrigger):
            return trigger.at or time(9, 0)
        return trigger.at

    def _moment(self, occasion: _Occasion, person: Person) -> datetime:
        """When the occasion happens for `person`: business-day shift, then the local time."""
        if occasion.moment is not None:
            return occasion.moment
        rule = occasion.rule
        trigger = rule.trigger
        if isinstance(trigger, CadenceTrigger) and trigger.timezone is not None:
            return local_moment(occasion.moment_day, trigger.at, _zone(trigger.timezone))
        day = shift_day(occasion.moment_day, occasion.owner, rule.calendar)
        return local_moment(day, self._at(occasion, person), person.tz)

    def _deliverable(self, rule: Rule, moment: datetime, person: Person) -> datetime:
        """Working hours and quiet hours of the recipient move a notice later, never earlier."""
        if rule.calendar.working_hours:
            moment = into_working_hours(moment, person, rule.calendar)
        if rule.calendar.quiet_hours is not None:
            moment = out_of_quiet_hours(moment, person.tz, rule.calendar.quiet_hours)
        return moment

    # -- whether ------------------------------------------------------------------------------

    def _context(self, occasion: _Occasion) -> Any:
        key = (
            occasion.owner.id,
            occasion.goal.id if occasion.goal else "",
            occasion.milestone.id if occasion.milestone else "",
        )
        context = self._contexts.get(key)
        if context is None:
            owner = occasion.owner
            today = self.now.astimezone(owner.tz).date()
            manager = self.org.people.get(owner.manager) if owner.manager else None
            mentors = [self.org.people[m] for m in owner.mentors if m in self.org.people]
            context = build_context(
                {
                    "goal": goal_view(occasion.goal, owner.tz, today),
                    "milestone": milestone_view(occasion.milestone, owner.tz, today),
                    "person": person_view(owner, len(self.org.reports_of(owner.id))),
                    "manager": person_view(manager),
                    "mentor": person_view(mentors[0] if mentors else None),
                    "now": self.now,
                }
            )
            self._contexts[key] = context
        return context

    def _applies(self, occasion: _Occasion, moment: datetime) -> bool:
        rule = occasion.rule
        if not rule.effective.covers(moment.astimezone(occasion.owner.tz).date()):
            return False
        if rule.when is None:
            return True
        ok, problem = evaluate(compile_condition(rule.when), self._context(occasion))
        if problem is not None:
            self.skips.append(Skip(rule.id, occasion.subject, moment, problem))
        return ok

    def _inhibitor(self, occasion: _Occasion, moment: datetime) -> str | None:
        """The escalation rule that suppresses this message (same goal, escalation firing), if any."""
        goal = occasion.goal
        if goal is None:
            return None
        for other in self.inhibitors.get(occasion.rule.id, ()):
            trigger = other.trigger
            if not isinstance(trigger, EscalationTrigger):
                continue
            first = trigger.steps[0].after
            for milestone in self.org.milestones_of(goal.id):
                fires = local_moment(milestone.due + first, trigger.at, occasion.owner.tz)
                open_then = milestone.completed_at is None or milestone.completed_at > moment
                if open_then and fires <= moment and other.effective.covers(fires.date()):
                    return other.id
        return None

    # -- who and what -------------------------------------------------------------------------

    def context(self, occasion: _Occasion, moment: datetime) -> dict[str, object]:
        today = moment.astimezone(occasion.owner.tz).date()
        goal, milestone = occasion.goal, occasion.milestone
        due = milestone.due if milestone else goal.deadline if goal else None
        manager = self.org.people.get(occasion.owner.manager or "")
        mentors = [self.org.people[m] for m in occasion.owner.mentors if m in self.org.people]
        return {
            "person": occasion.owner,
            "owner": occasion.owner,
            "goal": goal,
            "milestone": milestone,
            "manager": manager,
            "mentor": mentors[0] if mentors else None,
            "days_left": (due - today).days if due else None,
            "days_late": (today - due).days if due else None,
            "date": today.isoformat(),
        }

    def plan_rule(self, rule: Rule) -> None:
        for occasion in self.occasions(rule):
            self.plan_occasion(occasion)

    def plan_occasion(self, occasion: _Occasion) -> None:
        if occasion.rule.action.kind is Kind.INVITE:
            self._plan_invite(occasion)
        else:
            self._plan_notice(occasion)

    def _recipients(self, occasion: _Occasion, moment: datetime) -> tuple[list[Person], list[str]] | None:
        rule = occasion.rule
        resolved = resolve(self.org, occasion.owner, occasion.to or rule.action.to, rule.action.missing)
        if resolved.missing:
            self.skips.append(Skip(rule.id, occasion.subject, moment, resolved.missing))
            return None
        for note in resolved.fallbacks:
            self.fallbacks.append(Skip(rule.id, occasion.subject, moment, note))
        return list(resolved.people), list(resolved.addresses)

    def _plan_invite(self, occasion: _Occasion) -> None:
        rule, owner = occasion.rule, occasion.owner
        start = self._moment(occasion, owner)
        send_at = start - rule.action.lead
        uid = meeting_uid(rule.id, occasion.subject, occasion.slot)
        # Useful until the meeting starts: a late invite still goes out, a past meeting does not.
        # A meeting already invited to (`known`) is wanted whenever it lies ahead, so the
        # reconciler can tell a moved meeting from one that is no longer wanted.
        if not (start > self.window.start and (send_at < self.window.end or uid in self.known)):
            return
        if not self._applies(occasion, start):
            return
        resolved = resolve(self.org, owner, occasion.to or rule.action.to, rule.action.missing)
        if resolved.missing:
            # Reported once: in the window where the invite would have been sent.
            if self.window.contains(send_at):
                self.skips.append(Skip(rule.id, occasion.subject, start, resolved.missing))
            return
        found = self._recipients(occasion, start)
        if found is None:
            return
        people, addresses = found
        if rule.calendar.overlap is not None and len(people) > 1:
            slot = meeting_slot(
                start.astimezone(owner.tz).date(),
                start.astimezone(owner.tz).time(),
                rule.action.duration,
                owner,
                [p for p in people if p.id != owner.id],
            )
            if slot is None and rule.calendar.overlap is NoOverlap.SKIP:
                names = ", ".join(p.id for p in people)
                self.skips.append(
                    Skip(rule.id, occasion.subject, start, f"no overlap of working hours ({names})")
                )
                return
            start = slot or start
        if (inhibitor := self._inhibitor(occasion, start)) is not None:
            self.skips.append(Skip(rule.id, occasion.subject, start, f"inhibited by {inhibitor}"))
            return
        context = self.context(occasion, start)
        attendees = tuple(p.id for p in people) + tuple(addresses)
        organiser, instead = organiser_of(self.org, owner, rule.action.organiser)
        if instead is not None and self.window.contains(send_at):
            self.fallbacks.append(Skip(rule.id, occasion.subject, start, instead))
        if organiser is not None and organiser not in attendees:
            attendees += (organiser,)  # the organiser's own calendar holds the meeting too
        meeting = Meeting(
            uid=uid,
            start=start,
            end=start + rule.action.duration,
            timezone=owner.timezone,
            attendees=attendees,
            organiser=organiser,
        )
        for attendee in attendees:
            self._add(occasion, attendee, start, max(send_at, self.window.start), context, meeting)

    def _plan_notice(self, occasion: _Occasion) -> None:
        rule = occasion.rule
        fired = self._moment(occasion, occasion.owner)
        if not self._in_reach(fired):
            return
        resolved = resolve(self.org, occasion.owner, occasion.to or rule.action.to, rule.action.missing)
        if resolved.missing:
            if self.window.contains(fired) and self._applies(occasion, fired):
                self.skips.append(Skip(rule.id, occasion.subject, fired, resolved.missing))
            return
        targets: list[tuple[str, datetime, Person | None]] = [
            (p.id, self._deliverable(rule, self._moment(occasion, p), p), p) for p in resolved.people
        ]
        targets += [(a, fired, None) for a in resolved.addresses]
        # Notices arrive at the local time of whoever receives them.
        targets = [t for t in targets if self.window.contains(t[1])]
        if not targets or not self._applies(occasion, fired):
            return
        for note in resolved.fallbacks:
            self.fallbacks.append(Skip(rule.id, occasion.subject, fired, note))
        for recipient, moment, person in targets:
            if self._held_back(occasion, recipient, moment):
                continue
            if rule.action.kind is Kind.DIGEST and person is not None:
                digest = compose_digest(person, self.org, moment)
                if digest.is_empty and not person.digest.send_empty:
                    self.skips.append(Skip(rule.id, occasion.subject, moment, f"{person.id}: empty digest"))
                    continue
            self._add(occasion, recipient, moment, moment, self.context(occasion, moment), None)

    def _in_reach(self, moment: datetime) -> bool:
        """Could a notice at `moment` (moved by at most a few days) land in this window?"""
        slack = timedelta(days=35)
        return self.window.start - slack <= moment < self.window.end + slack

    def _add(
        self,
        occasion: _Occasion,
        recipient: str,
        occurrence: datetime,
        send_at: datetime,
        context: dict[str, object],
        meeting: Meeting | None,
    ) -> None:
        rule = occasion.rule
        key = message_key(rule.id, occasion.subject, occurrence, recipient)
        # Invites are not filtered here: rules/reconcile.py compares them with what was sent.
        if meeting is None and key in self.already:
            return
        template = occasion.title or rule.action.title
        title = render_text(template, context) if template else "Your weekly strides digest"
        self.intents.append(
            Intent(
                key=key,
                rule_id=rule.id,
                kind=rule.action.kind,
                subject=occasion.subject,
                occurrence=occurrence,
                recipient=recipient,
                send_at=send_at,
                title=title,
                body=render_text(rule.action.body, context),
                meeting=meeting,
            )
        )

    # -- events -------------------------------------------------------------------------------

    def event_occasions(self, event: Event) -> Iterator[_Occasion]:
        goal = self.org.goals.get(event.goal)
        owner = self.org.people.get(goal.owner) if goal else None
        if goal is None or owner is None:
            return
        milestone = self.org.milestones.get(event.milestone) if event.milestone else None
        subject = f"milestone:{milestone.id}" if milestone else f"goal:{goal.id}"
        for rule in self.rules.enabled:
            trigger = rule.trigger
            if not isinstance(trigger, EventTrigger) or trigger.event is not event.kind:
                continue
            moment = event.at + trigger.delay
            day = moment.astimezone(owner.tz).date()
            exact = None if trigger.at is not None or rule.calendar.business_days.value != "none" else moment
            yield _Occasion(rule, subject, owner, day, goal, milestone, moment=exact)

    def plan_events(self, events: Sequence[Event]) -> None:
        """Event occasions are not bound to the window: a delayed message is planned now for later."""
        for event in events:
            for occasion in self.event_occasions(event):
                self._plan_event_occasion(occasion)

    def _held_back(self, occasion: _Occasion, recipient: str, moment: datetime) -> bool:
        """Too late to send, or inhibited by an escalation: recorded as a skip."""
        rule = occasion.rule
        if self.now - moment > _lateness(rule):
            reason = f"{recipient}: later than max_lateness, skipped"
        elif (inhibitor := self._inhibitor(occasion, moment)) is not None:
            reason = f"inhibited by {inhibitor}"
        else:
            return False
        self.skips.append(Skip(rule.id, occasion.subject, moment, reason))
        return True

    def _plan_event_occasion(self, occasion: _Occasion) -> None:
        rule = occasion.rule
        if rule.action.kind is Kind.INVITE:
            self._plan_invite(occasion)
            return
        fired = self._moment(occasion, occasion.owner)
        if not self._applies(occasion, fired):
            return
        found = self._recipients(occasion, fired)
        if found is None:
            return
        people, addresses = found
        targets = [(p.id, self._deliverable(rule, self._moment(occasion, p), p)) for p in people]
        targets += [(a, fired) for a in addresses]
        for recipient, moment in targets:
            if self._held_back(occasion, recipient, moment):
                continue
            send_at = max(moment, self.window.start)
            self._add(occasion, recipient, moment, send_at, self.context(occasion, moment), None)


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _finish(planner: _Planner) -> Plan:
    intents = sorted(planner.intents, key=lambda i: (i.send_at, i.rule_id, i.recipient, i.key))
    unique = list({i.key: i for i in intents}.values())

    def order(skip: Skip) -> tuple[datetime, str, str, str]:
        return (skip.occurrence, skip.rule_id, skip.subject, skip.reason)

    return Plan(
        tuple(unique), tuple(sorted(planner.skips, key=order)), tuple(sorted(planner.fallbacks, key=order))
    )


def plan(
    rules: RuleSet,
    org: Organisation,
    window: Window,
    already: Container[str] = frozenset(),
    known: Mapping[str, str] | None = None,
    *,
    index: OrgIndex | None = None,
) -> Plan:
    """Every message the enabled rules want sent in `window` that `already` does not hold.

    Invites are the exception: every wanted meeting that is due, or whose UID is in `known`
    (already invited to: UID to subject) and still ahead, is returned; rules/reconcile.py decides
    what to send. Known subjects are planned wherever their anchor has moved, so a moved meeting
    is updated rather than cancelled.

    `index` replaces the organisation's date indexes (for example by `ScanIndex`, the
    every-record reference the tests and the benchmark compare with).

    Events the state itself records in the window (goal created or completed, milestone
    completed or overdue) drive the event rules too; the rest come through `plan_event`.
    """
    known = known or {}
    planner = _Planner(
        rules,
        org,
        window,
        already,
        now=window.end,
        known=known.keys(),
        known_subjects=frozenset(known.values()),
    )
    if index is not None:
        planner.index = index
    for rule in rules.enabled:
        planner.plan_rule(rule)
    if any(isinstance(r.trigger, EventTrigger) for r in rules.enabled):
        planner.plan_events(list(derived_events(org, window.start, window.end)))
    return _finish(planner)


def plan_event(
    rules: RuleSet, org: Organisation, event: Event, now: datetime, already: Container[str] = frozenset()
) -> Plan:
    """The messages the event rules want for one event, planned at `now` (some may be for later)."""
    planner = _Planner(rules, org, Window(now, now + timedelta(days=3660)), already, now=now)
    planner.plan_events([event])
    return _finish(planner)
