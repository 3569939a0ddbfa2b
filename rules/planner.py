"""The planner: (rules, organisation, window, ledger) in, intended messages out. Pure.

A message is due in a window when its send time falls before the window's end and it is
still useful at the window's start: an invite until its meeting begins, anything else only
inside the window itself. The ledger's keys remove what was already planned, so planning an
overlapping window again adds nothing.

Catch-up: the engine plans from the end of its last tick, so a moment that passed while it
was down lies in the next window and fires once, late; later than the rule's `max_lateness`
(measured at the window's end, the tick's "now") it is skipped and recorded as skipped.

Steady state (`settled`): invites sent before it were planned by earlier ticks, so only those
whose send time falls after it are planned, plus every meeting of the `changed` and `known`
subjects; cadences are then read per timezone only where a send time can fall, so a tick costs
what is due and what changed, not the organisation.

Conditions see `now` as the window's end (or the event planner's `now`), and one CEL context
is built per record (person, goal, milestone) and reused by every rule's condition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from strides.domain.conditions import (
    build_context,
    compile_condition,
    evaluate,
    goal_view,
    milestone_view,
    person_view,
)
from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.domain.parse import RuleSet
from strides.domain.schema import (
    Anchor,
    AnchorTrigger,
    CadenceAnchor,
    CadenceTrigger,
    DigestTrigger,
    EscalationTrigger,
    EventTrigger,
    Kind,
    MissingPolicy,
    NoOverlap,
    Role,
    Rule,
    Shift,
)
from strides.domain.templates import names, render_text
from strides.rules.calendar import (
    into_working_hours,
    local_moment,
    meeting_slot,
    out_of_quiet_hours,
    shift_day,
)
from strides.rules.digest import compose_digest
from strides.rules.events import Event, derived_events
from strides.rules.index import UNMENTORED_MANAGERS, Audience, OrgIndex, OrgLike, Quiet, Quieted, index_of
from strides.rules.intents import Intent, Meeting, Plan, Skip, Window, inhibited_by, planned, too_late
from strides.rules.keys import meeting_uid, message_key, occurrence_name
from strides.rules.parties import organiser_of
from strides.rules.recipients import resolve
from strides.rules.recurrence import recurrence_days

__all__ = ["RuleRunner", "local_moment", "one_by_one", "plan", "plan_event"]

# Runs the parts of a plan (each rule, or each step of an escalation): one after the other by
# default. A caller may run them at once (strides.engine plans two at a time where its store
# waits on a database server without holding Python's lock); the plan is the same in any order
# (see `plan`).
RuleRunner = Callable[[Sequence[Callable[[], None]]], None]


def one_by_one(parts: Sequence[Callable[[], None]]) -> None:
    for part in parts:
        part()


# Kept as a name of this module: callers and the benchmark look it up here.
_recurrence_days = recurrence_days


@dataclass(slots=True)
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


def _reach(rule: Rule) -> tuple[timedelta, timedelta]:
    """How far business-day shifts, working hours and quiet hours move a moment earlier and later."""
    slack = _slack(rule)
    after = slack
    if rule.calendar.working_hours:
        after += timedelta(days=8)
    if rule.calendar.quiet_hours is not None:
        after += timedelta(days=1)
    return slack, after


def _owner_clock(rule: Rule) -> bool:
    """Do all of the rule's moments fall on its owner's wall clock (so one per timezone)?"""
    if isinstance(rule.trigger, CadenceTrigger) and rule.trigger.timezone is not None:
        return False
    if rule.action.kind is Kind.INVITE:
        return rule.calendar.overlap is None
    return all(t == Role.OWNER.value or "@" in t for t in rule.action.to)


def _lateness(rule: Rule) -> timedelta:
    trigger = rule.trigger
    return timedelta.max if isinstance(trigger, DigestTrigger) else trigger.max_lateness


@dataclass(frozen=True)
class _Facts:
    """What planning asks of a rule for every message, worked out once per rule and plan."""

    reach: tuple[timedelta, timedelta]
    owner_clock: bool
    lateness: timedelta
    # The time of day, None for a digest (each person's own); a cadence's own timezone, if any.
    at: time | None
    fixed: tuple[time, Any] | None
    # Applies whenever it fires: no condition, no effective dates.
    always: bool
    # Working hours or quiet hours move its notices.
    moves: bool
    # The action's pause policy, as intents carry it.
    pause: str
    # An email that applies whenever it fires, delivered when it fires (see `_plan_notice`).
    plain: bool

    @classmethod
    def of(cls, rule: Rule) -> _Facts:
        trigger = rule.trigger
        at: time | None = None
        fixed = None
        if isinstance(trigger, EventTrigger):
            at = trigger.at or time(9, 0)
        elif not isinstance(trigger, DigestTrigger):
            at = trigger.at
        if isinstance(trigger, CadenceTrigger) and trigger.timezone is not None:
            fixed = (trigger.at, _zone(trigger.timezone))
        always = rule.when is None and rule.effective.always
        moves = bool(rule.calendar.working_hours) or rule.calendar.quiet_hours is not None
        pause = rule.action.pause.value
        plain = rule.action.kind is Kind.EMAIL and always and not moves
        return cls(_reach(rule), _owner_clock(rule), _lateness(rule), at, fixed, always, moves, pause, plain)


_NONE, _CHANGED, _ALL = 0, 1, 2
# Roles as the rules spell them (an enum's `.value` is a Python-level property: hot paths compare
# with these).
_OWNER = Role.OWNER.value
# An invite's send time is its meeting's start less the lead on the wall clock (aware datetime
# arithmetic), so across a daylight-saving change it lies up to that change (at most two hours)
# away from the instant a lead before the meeting: the bounds that narrow by it are widened so.
_WALL_LEAD = timedelta(hours=3)
# How much earlier than an occasion's day a milestone must be due, past its escalation's first
# step, for that escalation to have certainly fired before the occasion on any clock: more than
# two days apart on the wall, and no timezone moves its offset by more than a day at once.
_QUIET_MARGIN = timedelta(days=3)


@dataclass
class _Planner:
    rules: RuleSet
    org: OrgLike
    window: Window
    already: Container[str]
    # Planning "now": the window's end for ticks, the given moment for events.
    now: datetime
    # UIDs of meetings already invited to: wanted whenever they lie ahead (see `_plan_invite`).
    known: Container[str] = frozenset()
    # Their subjects: planned wherever their anchors have moved (see `_anchored`).
    known_subjects: frozenset[str] = frozenset()
    # Steady state: invites whose send time is before `settled` were planned by earlier ticks,
    # except for the subjects in `changed` (their records changed since). None: plan them all.
    settled: datetime | None = None
    changed: frozenset[str] = frozenset()
    # Skip a timezone's people at once when a cadence cannot matter there (off for the naive peer).
    cull: bool = True
    intents: list[Intent] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    fallbacks: list[Skip] = field(default_factory=list)
    _contexts: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    _facts: dict[int, tuple[Rule, _Facts]] = field(default_factory=dict)
    # `_in_reach`'s bounds by (rule, owner only): the rules outlive the plan (see `facts`).
    _reach_bounds: dict[tuple[int, bool], tuple[datetime, datetime]] = field(default_factory=dict)
    _inhibiting_by: dict[timedelta, tuple[date, datetime]] = field(default_factory=dict)
    _earliest_by: dict[int, datetime] = field(default_factory=dict)

    def facts(self, rule: Rule) -> _Facts:
        found = self._facts.get(id(rule))
        if found is None or found[0] is not rule:
            found = self._facts[id(rule)] = (rule, _Facts.of(rule))
        return found[1]

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
        if not isinstance(self.org, Organisation):
            raise TypeError("planning over a view of the organisation needs its index")
        return index_of(self.org)

    @functools.cached_property
    def reopened(self) -> frozenset[str]:
        """Subjects planned in full although settled: changed, or already invited to."""
        found = self.changed | self.known_subjects
        # Read in one go what the invite rules will plan again (`_anchored_subject`, cadences).
        kinds = {"person"}
        for rule in self.rules.enabled:
            trigger = rule.trigger
            if rule.action.kind is Kind.INVITE and isinstance(trigger, AnchorTrigger):
                kinds.add(
                    {Anchor.MILESTONE_DUE: "milestone", Anchor.PERSON_HIRED: "person"}.get(
                        trigger.anchor, "goal"
                    )
                )
        self.index.prefetch_subjects(s for s in found if s.partition(":")[0] in kinds)
        return found

    @functools.cached_property
    def reopened_people(self) -> dict[str, list[Person]]:
        """The people whose subject is reopened, by timezone."""
        found: dict[str, list[Person]] = {}
        for subject in sorted(self.reopened):
            kind, _, ident = subject.partition(":")
            person = self.org.people.get(ident) if kind == "person" else None
            if person is not None:
                found.setdefault(person.timezone, []).append(person)
        return found

    def settle(self) -> None:
        """Work out the answers every rule shares (read from the index once) before rules are
        planned at once."""
        self.index  # noqa: B018 (cached)
        self.inhibitors  # noqa: B018
        if any(rule.action.kind is Kind.INVITE for rule in self.rules.enabled):
            self.reopened_people  # noqa: B018 (cached: `reopened` too)

    def _invite_due(self, subject: str, uid: str, start: datetime, send_at: datetime) -> bool:
        """Useful until the meeting starts: a late invite still goes out, a past meeting does not.

        A meeting already invited to (`known`) is wanted whenever it lies ahead, so the
        reconciler can tell a moved meeting from one that is no longer wanted. In the steady
        state an invite sent before `settled` is an earlier tick's, unless its subject changed.
        """
        window = self.window
        if start <= window.start:
            return False
        if uid in self.known:
            return True
        if send_at >= window.end:
            return False
        return self.settled is None or send_at >= self.settled or subject in self.reopened

    def _scope(self, rule: Rule, low: datetime, high: datetime) -> int:
        """Whom a cadence day in one timezone concerns: nobody, the reopened subjects, or all.

        [low, high] bounds its moment before calendar shifts, for every recipient and attendee.
        """
        if not self.cull:
            return _ALL
        before, after = _reach(rule)
        low, high = low - before, high + after
        if rule.action.kind is not Kind.INVITE:
            return _ALL if low < self.window.end and high >= self.window.start else _NONE
        lead = rule.action.lead
        if high <= self.window.start or low - lead - _WALL_LEAD >= self.window.end:
            return _NONE
        if self.settled is None or high - lead + _WALL_LEAD >= self.settled:
            return _ALL
        return _CHANGED

    def _day_scope(self, rule: Rule, day: date, at: time, tz: Any) -> int:
        """`_scope` of `at` on `day` in `tz`: exact on the owner's clock, else the day's whole span."""
        moment = local_moment(day, at, tz)
        if _owner_clock(rule):
            return self._scope(rule, moment, moment)
        if rule.action.kind is Kind.INVITE and (
            not isinstance(rule.trigger, CadenceTrigger) or rule.trigger.timezone is None
        ):
            # A working-hours overlap keeps the meeting on the owner's day.
            return self._scope(
                rule, local_moment(day, time(0), tz), local_moment(day + timedelta(days=1), time(0), tz)
            )
        return self._scope(rule, moment - timedelta(hours=27), moment + timedelta(hours=27))

    def _local_days(self, tz: Any, before: timedelta, after: timedelta) -> tuple[date, date]:
        first = (self.window.start - before).astimezone(tz).date()
        last = (self.window.end + after).astimezone(tz).date()
        return first, last

    def _active_goals(self) -> Iterator[tuple[Goal, Person]]:
        for goal in self.index.active_goals():
            owner = self.org.people.get(goal.owner)
            if owner is not None:
                yield goal, owner

    def _span(self, rule: Rule) -> tuple[date, date]:
        """The owner-local days an occasion of `rule` may fall on and still matter to this window."""
        lead = rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)
        slack = _slack(rule)
        first = (self.window.start - timedelta(days=1) - slack).date()
        last = (self.window.end + lead + timedelta(days=1) + slack).date()
        return first, last

    def _owner(self, goal: Goal) -> Person | None:
        return self.org.people.get(goal.owner)

    def occasions(self, rule: Rule, part: int | None = None) -> Iterator[_Occasion]:
        """The occasions of `rule` (of one of its `parts` when given)."""
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
            for zone in self.index.zones():
                tz = _zone(zone)
                first, last = self._local_days(tz, timedelta(days=1), timedelta(days=1))
                day = first
                while day <= last:
                    # Any time of that day (each person's own `at`), on their own clock.
                    start, end = (
                        local_moment(day, time(0), tz),
                        local_moment(day + timedelta(days=1), time(0), tz),
                    )
                    if self._scope(rule, start, end) != _NONE:
                        at = _wall_minutes(day, tz, *self._moment_bounds(rule))
                        for person in self.index.digest_people(zone, day.isoweekday(), at):
                            if person.digest.enabled:
                                yield _Occasion(rule, f"person:{person.id}", person, day)
                    day += timedelta(days=1)
        elif isinstance(trigger, EscalationTrigger):
            yield from self._escalation(rule, trigger, part)
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
        if trigger.anchor is CadenceAnchor.PERSON_HIRED:
            hired = list(self._hired(rule, trigger, before, after))
            self._prefetch_related(rule, rule.action.to, hired)
            for person in hired:
                assert person.hired_on is not None
                first, last = self._local_days(_zone(trigger.timezone or person.timezone), before, after)
                for day in _recurrence_days(trigger.every, person.hired_on, first, last):
                    yield _Occasion(rule, f"person:{person.id}", person, day)
            return
        # Computed once per timezone (the rule's phase), not per person: a timezone where the
        # cadence cannot matter to this window is skipped without reading its people.
        for zone in self.index.zones():
            tz = _zone(trigger.timezone or zone)
            first, last = self._local_days(tz, before, after)
            for day in _recurrence_days(trigger.every, trigger.starts, first, last):
                scope = self._day_scope(rule, day, trigger.at, tz)
                if scope == _NONE:
                    continue
                people = self.index.people_in(zone) if scope == _ALL else self.reopened_people.get(zone, [])
                self._prefetch_related(rule, rule.action.to, people)
                for person in people:
                    yield _Occasion(rule, f"person:{person.id}", person, day)

    def _hired(
        self, rule: Rule, trigger: CadenceTrigger, before: timedelta, after: timedelta
    ) -> Iterable[Person]:
        """People whose hire-date cadence may fall near the window (by anniversary when yearly).

        In the steady state an invite's anniversaries are looked up only where its send time can
        fall in the window; the reopened subjects' people are added whatever their anniversary.
        """
        if not self.cull or _simple_yearly(trigger.every) is None:
            return self.index.people_hired()
        first = self.window.start - before - timedelta(days=2)
        last = self.window.end + after + timedelta(days=2)
        if self.settled is not None and rule.action.kind is Kind.INVITE:
            slack = _slack(rule) + timedelta(days=2)
            first = max(first, self.settled + rule.action.lead - slack)
            if rule.calendar.business_days is not Shift.PREVIOUS:
                # Only a shift to the previous business day moves a meeting before its anniversary:
                # otherwise an anniversary after the last meeting day this window can send for
                # cannot be sent now (two days' margin: local days and daylight saving).
                last = min(last, self.window.end + rule.action.lead + timedelta(days=2))
        start, end = first.date(), last.date()
        days = [(d.month, d.day) for d in (start + timedelta(days=n) for n in range((end - start).days + 1))]
        found = {p.id: p for p in self.index.hired_on_days(days)}
        if self.settled is not None:
            for people in self.reopened_people.values():
                found.update((p.id, p) for p in people if p.hired_on is not None)
        return [found[pid] for pid in sorted(found)]

    def _anchored(self, rule: Rule, trigger: AnchorTrigger) -> Iterator[_Occasion]:
        first, last = self._span(rule)
        if self.settled is not None and rule.action.kind is Kind.INVITE:
            # Steady state: only invites whose send time can fall after `settled`; the
            # reopened subjects are planned in full below.
            reach = rule.action.lead - _slack(rule) - timedelta(days=2)
            first = max(first, (self.settled + reach).date())
        seen: set[tuple[str, int | None]] = set()
        for occasion in self._anchored_between(rule, trigger, first, last):
            seen.add((occasion.subject, occasion.offset_days))
            yield occasion
        if rule.action.kind is not Kind.INVITE or not self.reopened:
            return
        # A meeting already invited to stays wanted wherever its anchor has moved, even beyond
        # this window's reach: the reconciler then updates it instead of cancelling it. So do
        # the meetings of subjects whose records changed.
        for subject in sorted(self.reopened):
            for occasion in self._anchored_subject(rule, trigger, subject):
                if (occasion.subject, occasion.offset_days) not in seen:
                    yield occasion

    def _anchored_between(
        self, rule: Rule, trigger: AnchorTrigger, first: date, last: date
    ) -> Iterator[_Occasion]:
        """Occasions whose day falls in [first, last], found through the date indexes."""
        if trigger.anchor is Anchor.PERSON_HIRED:
            for person in self.index.people_hired():
                for occasion in self._anchored_person(rule, trigger, person):
                    if first <= occasion.moment_day <= last:
                        yield occasion
            return
        # An inhibited rule reads the milestones of each goal it fires for (`_inhibitor`).
        inhibited = rule.id in self.inhibitors
        quiet_after = self._quiet_after(rule)
        days = self._occasion_days(rule, trigger.at, _owner_clock(rule), first, last)
        for offset in trigger.offsets:
            low, high, by_zone = _shifted(days, -offset)
            if low > high:
                continue
            quiet = None
            if quiet_after is not None:
                # Every occasion of this query is on or after `low + offset`: a milestone due
                # `_QUIET_MARGIN` before its escalation's first step has fired by then (see `Quiet`).
                due_by = self._inhibiting(quiet_after)[0]
                quiet = Quiet(min(low + offset - quiet_after - _QUIET_MARGIN, due_by), self.window.end)
            quieted: Sequence[Quieted] = ()
            if trigger.anchor is Anchor.MILESTONE_DUE:
                if quiet is None:
                    milestones = list(self.index.milestones_due(low, high, by_zone, open_at=self.now))
                else:
                    due, quieted = self.index.quiet_milestones_due(low, high, by_zone, self.now, quiet)
                    milestones = list(due)
                if inhibited:
                    self._prefetch_inhibiting(rule, {m.goal for m in milestones})
                self._prefetch_related(
                    rule, rule.action.to, (self._owner(self.org.goals[m.goal]) for m in milestones)
                )
                for milestone in milestones:
                    yield from self._anchored_milestone(rule, milestone, (offset,))
                self._held_quiet(rule, "milestone", offset, quieted)
                continue
            if trigger.anchor is Anchor.GOAL_DEADLINE and quiet is not None:
                deadlines, quieted = self.index.quiet_goals_due(low, high, by_zone, quiet)
                goals = list(deadlines)
            elif trigger.anchor is Anchor.GOAL_DEADLINE:
                goals = list(self.index.goals_due(low, high, by_zone))
            else:
                goals = list(self.index.goals_created(first - offset, last - offset))
            if inhibited:
                self._prefetch_inhibiting(rule, {g.id for g in goals})
            self._prefetch_related(rule, rule.action.to, (self._owner(g) for g in goals))
            for goal in goals:
                yield from self._anchored_goal(rule, trigger, goal, (offset,))
            self._held_quiet(rule, "goal", offset, quieted)

    def _quiet_after(self, rule: Rule) -> timedelta | None:
        """The first step of the escalation that inhibits `rule`, when the index may set aside
        the occasions it certainly holds back (`Quiet`): `rule` is then a plain notice to the
        owner alone at a time on their clock, not moved to a business day, and inhibited by that
        one escalation alone, in effect whenever it fires. None otherwise."""
        inhibitors = self.inhibitors.get(rule.id, ())
        if len(inhibitors) != 1 or not inhibitors[0].effective.always:
            return None
        trigger = inhibitors[0].trigger
        facts = self.facts(rule)
        to = rule.action.to
        if (
            not isinstance(trigger, EscalationTrigger)
            or not facts.plain
            or facts.at is None
            or facts.fixed is not None
            or rule.calendar.business_days is not Shift.NONE
            or not (len(to) == 1 and to[0] == _OWNER)
        ):
            return None
        return trigger.steps[0].after

    def _held_quiet(self, rule: Rule, kind: str, offset: timedelta, quieted: Sequence[Quieted]) -> None:
        """The skips of the occasions the index set aside (`Quiet`), as `_plan_notice` and
        `_held_back` record them: too late, else inhibited; nothing outside the window."""
        if not quieted:
            return
        at = self.facts(rule).at
        assert at is not None  # see `_quiet_after`
        reason = inhibited_by(self.inhibitors[rule.id][0].id)
        start, end, earliest = self.window.start, self.window.end, self._earliest(rule)
        for ident, anchor, owner, zone in quieted:
            moment = local_moment(anchor + offset, at, _zone(zone))
            utc = moment.astimezone(UTC)
            if start <= utc < end:
                why = too_late(owner) if utc < earliest else reason
                self.skips.append(Skip(rule.id, f"{kind}:{ident}", moment, why))

    def _prefetch_related(
        self, rule: Rule, to: Sequence[str], owners: Iterable[Person | None], title: str | None = None
    ) -> None:
        """Read the managers and mentors of these owners in one go, those the rule reads: as
        recipients or organiser, in its texts or its condition, and the managers of those without
        a mentor a message to the mentor goes to (else none are read for it; anything not read
        here is read when used)."""
        texts = (title or "", rule.action.title or "", rule.action.body or "")
        organiser = rule.action.organiser if rule.action.kind is Kind.INVITE else None
        targets = {*to, *([organiser] if organiser else ())}
        mentor, manager = Role.MENTOR.value, Role.MANAGER.value
        roles: set[str] = set()
        if rule.when is not None:
            roles = {manager, mentor}  # a condition may read either
        else:
            if mentor in targets or any("mentor" in t for t in texts):
                roles.add(mentor)
            if targets & {manager, Role.SKIP_LEVEL.value} or any("manager" in t for t in texts):
                roles.add(manager)
            elif mentor in to:
                # Resolving a message to the mentor looks up the manager of whoever has none.
                roles.add(UNMENTORED_MANAGERS)
        if roles:
            self.index.prefetch_related((p for p in owners if p is not None), frozenset(roles))

    def _moment_bounds(self, rule: Rule) -> tuple[datetime, datetime]:
        """[low, high): where an occasion's moment (before calendar shifts) must fall to matter.

        A notice matters when it lands in the window, an invite when its meeting is still ahead
        and its send time (the meeting's start less the lead) is before the window's end, and in
        the steady state not before `settled` (earlier ticks planned those). Calendar shifts
        (`_reach`) widen the range; a working-hours overlap may move a meeting later that day.
        """
        before, after = _reach(rule)
        low, high = self.window.start, self.window.end
        if rule.action.kind is Kind.INVITE:
            lead = rule.action.lead
            if rule.calendar.overlap is not None:
                low -= timedelta(days=2)
            if self.settled is not None:
                low = max(low, self.settled + lead - _WALL_LEAD)
            high += lead + _WALL_LEAD
        return low - after, high + before

    def _occasion_days(
        self, rule: Rule, at: time, owner_only: bool, first: date, last: date
    ) -> tuple[date, date, dict[str, tuple[date, date]] | None]:
        """The occasion days (within [first, last]) whose moment can matter to this window.

        On the owner's clock the days are exact per owner timezone; otherwise each recipient
        sees the day's `at` on their own clock, so the days of every timezone are taken
        together (and no owner timezone is singled out: None).
        """
        low, high = self._moment_bounds(rule)
        spans = {zone: _days_at(_zone(zone), at, low, high) for zone in self.index.zones()}
        if not spans:
            return first, last, {}
        if not owner_only:
            return (
                max(first, min(a for a, _ in spans.values())),
                min(last, max(b for _, b in spans.values())),
                None,
            )
        by_zone = {z: (max(first, a), min(last, b)) for z, (a, b) in spans.items()}
        by_zone = {z: (a, b) for z, (a, b) in by_zone.items() if a <= b}
        if not by_zone:
            return first, first - timedelta(days=1), {}
        return min(a for a, _ in by_zone.values()), max(b for _, b in by_zone.values()), by_zone

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

    def _escalation(
        self, rule: Rule, trigger: EscalationTrigger, part: int | None = None
    ) -> Iterator[_Occasion]:
        """Each rung of the ladder for each open milestone; stops once the milestone is completed.
        (`part`: one rung alone, by its index; the repeats after the steps.)"""
        first, last_day = self._span(rule)
        last = trigger.steps[-1]
        for index, step in enumerate(trigger.steps):
            if part is not None and part != index:
                continue
            owner_only = all(t == Role.OWNER.value or "@" in t for t in step.to)
            # Each recipient sees the step's time on their own clock: its days are taken per
            # recipient timezone where the index can tell whose (else those of every timezone).
            audience = None if owner_only else _audience(step.to, rule.action.missing)
            days = self._occasion_days(rule, trigger.at, owner_only or audience is not None, first, last_day)
            low, high, by_zone = _shifted(days, -step.after)
            if low > high:
                continue
            milestones = list(
                self.index.milestones_due(low, high, by_zone, open_at=self.now, audience=audience)
            )
            self._prefetch_related(
                rule, step.to, (self._owner(self.org.goals[m.goal]) for m in milestones), step.title
            )
            for milestone in milestones:
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
        if trigger.repeat is None or part not in (None, len(trigger.steps)):
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

    def _moment(self, occasion: _Occasion, person: Person) -> datetime:
        """When the occasion happens for `person`: business-day shift, then the local time."""
        if occasion.moment is not None:
            return occasion.moment
        rule = occasion.rule
        facts = self.facts(rule)
        if facts.fixed is not None:
            return local_moment(occasion.moment_day, *facts.fixed)
        day = shift_day(occasion.moment_day, occasion.owner, rule.calendar)
        at = occasion.at or facts.at or person.digest.at  # a digest: each person's own time
        return local_moment(day, at, person.tz)

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
        if self.facts(rule).always:
            return True
        if not rule.effective.covers(moment.astimezone(occasion.owner.tz).date()):
            return False
        if rule.when is None:
            return True
        ok, problem = evaluate(compile_condition(rule.when), self._context(occasion))
        if problem is not None:
            self.skips.append(Skip(rule.id, occasion.subject, moment, problem))
        return ok

    def _inhibiting(self, first: timedelta) -> tuple[date, datetime]:
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

    def _earliest(self, rule: Rule) -> datetime:
        """The earliest moment (UTC) a message of `rule` may still be sent at (its max lateness)."""
        found = self._earliest_by.get(id(rule))
        if found is None:
            lateness = self.facts(rule).lateness
            floor = datetime.min.replace(tzinfo=UTC)
            found = floor if lateness >= self.now - floor else (self.now - lateness).astimezone(UTC)
            self._earliest_by[id(rule)] = found
        return found

    def _prefetch_inhibiting(self, rule: Rule, goal_ids: Iterable[str]) -> None:
        goal_ids = list(goal_ids)
        for other in self.inhibitors.get(rule.id, ()):
            if isinstance(other.trigger, EscalationTrigger):
                self.index.prefetch_open_milestones(goal_ids, *self._inhibiting(other.trigger.steps[0].after))

    def _inhibitor(self, occasion: _Occasion, moment: datetime, utc: datetime | None = None) -> str | None:
        """The escalation rule that suppresses this message (same goal, escalation firing), if any.
        (`utc`: `moment` in UTC, when the caller has it.)"""
        goal = occasion.goal
        if goal is None:
            return None
        if utc is None:
            utc = moment.astimezone(UTC)
        # Compared in UTC: comparing moments of two zones asks both for their offsets.
        inside = self.window.start <= utc < self.window.end
        for other in self.inhibitors.get(occasion.rule.id, ()):
            trigger = other.trigger
            if not isinstance(trigger, EscalationTrigger):
                continue
            first = trigger.steps[0].after
            candidates = None
            if inside:
                candidates = self.index.open_milestones_of(goal.id, *self._inhibiting(first))
            if candidates is None:
                candidates = [(m.due, m.completed_at) for m in self.org.milestones_of(goal.id)]
            tz, at, effective = occasion.owner.tz, trigger.at, other.effective
            for due, completed in candidates:
                if completed is not None and completed <= moment:
                    continue  # completed before the message: it does not hold it back
                fires = local_moment(due + first, at, tz)
                if fires <= moment and (effective.always or effective.covers(fires.date())):
                    return other.id
        return None

    # -- who and what -------------------------------------------------------------------------

    def context(self, occasion: _Occasion, moment: datetime, wanted: Container[str]) -> dict[str, object]:
        """A template's names, those `wanted` (the texts read them): the owner's manager and
        mentor only then, since looking them up may read them from the store."""
        owner = occasion.owner
        goal, milestone = occasion.goal, occasion.milestone
        context: dict[str, object] = {"person": owner, "owner": owner, "goal": goal, "milestone": milestone}
        if "days_left" in wanted or "days_late" in wanted or "date" in wanted:
            today = moment.astimezone(owner.tz).date()
            due = milestone.due if milestone else goal.deadline if goal else None
            context["days_left"] = (due - today).days if due else None
            context["days_late"] = (today - due).days if due else None
            context["date"] = today.isoformat()
        people = self.org.people
        if "manager" in wanted:
            context["manager"] = people.get(owner.manager or "")
        if "mentor" in wanted:
            context["mentor"] = next((people[m] for m in owner.mentors if m in people), None)
        return context

    def plan_rule(self, rule: Rule, part: int | None = None) -> None:
        for occasion in self.occasions(rule, part):
            self.plan_occasion(occasion)

    def parts(self, rule: Rule) -> list[Callable[[], None]]:
        """Planning `rule` in parts that may run at once: an escalation's rungs (and repeats)
        each query milestones of their own."""
        trigger = rule.trigger
        if not isinstance(trigger, EscalationTrigger):
            return [functools.partial(self.plan_rule, rule)]
        count = len(trigger.steps) + (trigger.repeat is not None)
        return [functools.partial(self.plan_rule, rule, part) for part in range(count)]

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
        # A working-hours overlap may move the start later that day: judge by the day's end
        # first, by the meeting's own start once it is known (below).
        latest = start
        if rule.calendar.overlap is not None:
            latest = local_moment(start.astimezone(owner.tz).date() + timedelta(days=1), time(0), owner.tz)
        if not self._invite_due(occasion.subject, uid, latest, send_at):
            return
        if not self._applies(occasion, start):
            return
        resolved = resolve(self.org, owner, occasion.to or rule.action.to, rule.action.missing)
        if resolved.missing:
            # Reported once: in the window where the invite would have been sent.
            if self.window.contains(send_at):
                self.skips.append(Skip(rule.id, occasion.subject, start, resolved.missing))
            return
        for note in resolved.fallbacks:
            self.fallbacks.append(Skip(rule.id, occasion.subject, start, note))
        people, addresses = list(resolved.people), list(resolved.addresses)
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
        if not self._invite_due(occasion.subject, uid, start, send_at):
            return
        if (inhibitor := self._inhibitor(occasion, start)) is not None:
            self.skips.append(Skip(rule.id, occasion.subject, start, inhibited_by(inhibitor)))
            return
        context = _Texts(self, occasion, start)
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
        rule, owner = occasion.rule, occasion.owner
        facts = self.facts(rule)
        fired = self._moment(occasion, owner)
        # Compared in UTC (the window's zone): comparing moments of two zones asks both for their
        # offsets, every time.
        fired_utc = fired.astimezone(UTC)
        to = occasion.to or rule.action.to
        owner_alone = len(to) == 1 and to[0] == _OWNER
        if owner_alone and facts.plain:
            # To the owner alone, on their clock, whenever it fires: what the general way below
            # comes to, without its bookkeeping (most notices of a day).
            if self.window.start <= fired_utc < self.window.end and not self._held_back(
                occasion, owner.id, fired, fired_utc
            ):
                self._add(occasion, owner.id, fired, fired, _Texts(self, occasion, fired), None)
            return
        owner_only = occasion.to is None and facts.owner_clock
        if not self._in_reach(rule, fired_utc, owner_only=owner_only):
            return
        if owner_alone:
            # The common case, without resolving.
            people: Sequence[Person] = (owner,)
            addresses: Sequence[str] = ()
            fallbacks: Sequence[str] = ()
        else:
            resolved = resolve(self.org, owner, to, rule.action.missing)
            if resolved.missing:
                if self.window.contains(fired) and self._applies(occasion, fired):
                    self.skips.append(Skip(rule.id, occasion.subject, fired, resolved.missing))
                return
            people, addresses, fallbacks = resolved.people, resolved.addresses, resolved.fallbacks
        # Notices arrive at the local time of whoever receives them.
        start, end = self.window.start, self.window.end
        moves = facts.moves
        targets: list[tuple[str, datetime, datetime, Person | None]] = []
        for someone in people:
            if someone is owner and not moves:
                moment, utc = fired, fired_utc
            else:
                moment = self._moment(occasion, someone)
                if moves:
                    moment = self._deliverable(rule, moment, someone)
                utc = moment.astimezone(UTC)
            if start <= utc < end:
                targets.append((someone.id, moment, utc, someone))
        if start <= fired_utc < end:
            targets += [(a, fired, fired_utc, None) for a in addresses]
        if not targets or not self._applies(occasion, fired):
            return
        for note in fallbacks:
            self.fallbacks.append(Skip(rule.id, occasion.subject, fired, note))
        for recipient, moment, utc, person in targets:
            if self._held_back(occasion, recipient, moment, utc):
                continue
            digest = rule.action.kind is Kind.DIGEST and person is not None and not person.digest.send_empty
            if digest and person is not None and self._empty_digest(person, moment):
                self.skips.append(Skip(rule.id, occasion.subject, moment, f"{person.id}: empty digest"))
                continue
            self._add(occasion, recipient, moment, moment, _Texts(self, occasion, moment), None)

    def _empty_digest(self, person: Person, moment: datetime) -> bool:
        """`compose_digest(...).is_empty`, answered from goals and reports when they decide it."""
        busy = self.index.busy(person.id)
        if busy is None:
            goals = self.org.goals_of(person.id)
            busy = any(g.status is GoalStatus.ACTIVE for g in goals) or bool(self.org.reports_of(person.id))
        return not busy and compose_digest(person, self.org, moment).is_empty

    def _in_reach(self, rule: Rule, moment: datetime, *, owner_only: bool) -> bool:
        """Could a notice fired at `moment` land in this window for one of its recipients?

        Recipients elsewhere see the same wall time up to a day apart; calendar shifts move it
        as far as `_reach` says (the planner's assumption: a week and a day at most).
        """
        bounds = self._reach_bounds.get((id(rule), owner_only))
        if bounds is None:
            before, after = self.facts(rule).reach
            pad = timedelta(0) if owner_only else timedelta(hours=27)
            bounds = self._reach_bounds[(id(rule), owner_only)] = (
                self.window.start - after - pad,
                self.window.end + before + pad,
            )
        return bounds[0] <= moment < bounds[1]

    def _add(
        self,
        occasion: _Occasion,
        recipient: str,
        occurrence: datetime,
        send_at: datetime,
        texts: Callable[[], tuple[str, str]],
        meeting: Meeting | None,
    ) -> None:
        rule = occasion.rule
        facts = self.facts(rule)
        key = message_key(rule.id, occasion.subject, occurrence, recipient)
        # Invites are not filtered here: rules/reconcile.py compares them with what was sent.
        if meeting is None and key in self.already:
            return
        title, body = texts()
        self.intents.append(
            planned(
                key,
                rule.id,
                rule.action.kind,
                occasion.subject,
                occurrence,
                recipient,
                send_at,
                title,
                body,
                meeting,
                facts.pause,
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

    def _held_back(
        self, occasion: _Occasion, recipient: str, moment: datetime, utc: datetime | None = None
    ) -> bool:
        """Too late to send, or inhibited by an escalation: recorded as a skip. (`utc`: `moment`
        in UTC, when the caller has it.)"""
        rule = occasion.rule
        if utc is None:
            utc = moment.astimezone(UTC)
        if utc < self._earliest(rule):
            reason = too_late(recipient)
        elif rule.id not in self.inhibitors:
            return False
        elif (inhibitor := self._inhibitor(occasion, moment, utc)) is not None:
            reason = inhibited_by(inhibitor)
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
            self._add(occasion, recipient, moment, send_at, _Texts(self, occasion, moment), None)


@functools.lru_cache(maxsize=1024)
def _reads(title: str, body: str) -> frozenset[str]:
    """The names a title and body read."""
    return names(title) | names(body)


class _Texts:
    """A message's title and body, rendered on first use and once (an invite's attendees share
    them); the template context is built only if a template has placeholders."""

    __slots__ = ("built", "moment", "occasion", "planner")

    def __init__(self, planner: _Planner, occasion: _Occasion, moment: datetime) -> None:
        self.planner, self.occasion, self.moment = planner, occasion, moment
        self.built: tuple[str, str] | None = None

    def __call__(self) -> tuple[str, str]:
        if self.built is None:
            occasion = self.occasion
            title = occasion.title or occasion.rule.action.title or "Your weekly strides digest"
            body = occasion.rule.action.body
            if "{" in title or "{" in body:
                context = self.planner.context(occasion, self.moment, _reads(title, body))
                title, body = render_text(title, context), render_text(body, context)
            self.built = (title, body)
        return self.built


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _days_at(tz: Any, at: time, low: datetime, high: datetime) -> tuple[date, date]:
    """The days [first, last] whose `at` on the wall clock of `tz` falls in [low, high)."""
    first = low.astimezone(tz).date() - timedelta(days=1)
    while local_moment(first, at, tz) < low:
        first += timedelta(days=1)
    last = high.astimezone(tz).date() + timedelta(days=1)
    while local_moment(last, at, tz) >= high:
        last -= timedelta(days=1)
    return first, last


def _wall_minutes(day: date, tz: Any, low: datetime, high: datetime) -> tuple[int, int]:
    """The wall-clock minutes of `day` in `tz` whose moment may fall in [low, high), widened by
    two hours each way for daylight-saving jumps (a wall time they skip moves forward)."""
    start = local_moment(day, time(0), tz)
    end = local_moment(day + timedelta(days=1), time(0), tz)
    low, high = max(low, start), min(high, end)
    if low >= high:
        return 0, -1
    first = low.astimezone(tz)
    last = high.astimezone(tz)
    minutes = 0 if first.date() < day else first.hour * 60 + first.minute
    until = 24 * 60 if last.date() > day else last.hour * 60 + last.minute + 1
    return max(0, minutes - 120), min(24 * 60, until + 120)


def _shifted(
    days: tuple[date, date, dict[str, tuple[date, date]] | None], by: timedelta
) -> tuple[date, date, dict[str, tuple[date, date]] | None]:
    """Occasion days moved to anchor days (an anchor is its occasion less the offset)."""
    first, last, by_zone = days
    if by_zone is None:
        return first + by, last + by, None
    return first + by, last + by, {z: (a + by, b + by) for z, (a, b) in by_zone.items()}


def _audience(to: Sequence[str], missing: MissingPolicy) -> Audience | None:
    """Whose timezones decide when a message to `to` lands (None: a role no index narrows by)."""
    roles = set()
    for target in to:
        if "@" in target or target == Role.OWNER.value:
            roles.add(Role.OWNER.value)
        elif target in (Role.MANAGER.value, Role.MENTOR.value):
            roles.add(target)
        else:
            return None
    return Audience(frozenset(roles), to_manager=missing is MissingPolicy.MANAGER)


@functools.lru_cache(maxsize=256)
def _simple_yearly(rrule: str) -> int | None:
    """The INTERVAL of a plain FREQ=YEARLY rule (anniversaries), else None."""
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    if parts.get("FREQ") != "YEARLY" or not set(parts) <= {"FREQ", "INTERVAL", "WKST"}:
        return None
    return int(parts.get("INTERVAL", "1"))


def _weight(rule: Rule) -> int:
    """How much of the organisation a rule is likely to read in a window, roughly: an anchored
    rule queries once an offset (an escalation once a step, but in parts: see `parts`)."""
    trigger = rule.trigger
    if isinstance(trigger, AnchorTrigger):
        return len(trigger.offsets)
    return 1


def _finish(planner: _Planner) -> Plan:
    # Sorted by instants as numbers: comparing aware datetimes asks their timezones each time.
    # Two intents of one key (one rule, subject, occurrence and recipient: two rungs of a ladder
    # that a business-day shift brought to one day, say) keep the one last in this order, not
    # the one planned last, which depends on how the rules were run (`plan`'s `run_rules`).
    intents = sorted(
        planner.intents, key=lambda i: (i.send_at.timestamp(), i.rule_id, i.recipient, i.key, i.title, i.body)
    )
    unique = list({i.key: i for i in intents}.values())

    def order(skip: Skip) -> tuple[float, str, str, str]:
        return (skip.occurrence.timestamp(), skip.rule_id, skip.subject, skip.reason)

    return Plan(
        tuple(unique), tuple(sorted(planner.skips, key=order)), tuple(sorted(planner.fallbacks, key=order))
    )


def plan(
    rules: RuleSet,
    org: OrgLike,
    window: Window,
    already: Container[str] = frozenset(),
    known: Mapping[str, str] | None = None,
    *,
    index: OrgIndex | None = None,
    settled: datetime | None = None,
    changed: Iterable[str] = (),
    cull: bool = True,
    run_rules: RuleRunner = one_by_one,
) -> Plan:
    """Every message the enabled rules want sent in `window` that `already` does not hold.

    Invites are the exception: every wanted meeting that is due, or whose UID is in `known`
    (already invited to: UID to subject) and still ahead, is returned; rules/reconcile.py decides
    what to send. Known subjects are planned wherever their anchor has moved, so a moved meeting
    is updated rather than cancelled.

    `index` replaces the organisation's date indexes (for example by `ScanIndex`, the
    every-record reference the tests and the benchmark compare with); it is required when `org`
    is a view (the store's) rather than an `Organisation`.

    The steady state: with `settled`, invites whose send time is before it are taken as planned
    by earlier ticks (the ledger holds them) and only those of the subjects in `changed` (records
    changed since, "goal:ID", "milestone:ID", "person:ID") and of `known` meetings are planned
    again. Without it every invite still ahead is planned (a first tick, or new rules).
    `cull=False` walks every timezone's people for every cadence day (the naive peer).

    `run_rules` plans the rules, one after the other by default. Whatever order or concurrency
    it uses, the plan is the same: each rule is planned by one caller, the planner's shared
    answers are worked out before (`settle`) and the rest are caches of equal values, and
    `_finish` orders what the rules found whatever order they found it in.

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
        settled=settled,
        changed=frozenset(changed),
        cull=cull,
    )
    if index is not None:
        planner.index = index
    if run_rules is one_by_one:
        for rule in rules.enabled:
            planner.plan_rule(rule)
    else:
        planner.settle()
        # The heaviest first, so that no long rule is left to run alone at the end.
        run_rules([p for r in sorted(rules.enabled, key=_weight, reverse=True) for p in planner.parts(r)])
    kinds = {r.trigger.event for r in rules.enabled if isinstance(r.trigger, EventTrigger)}
    if kinds:
        planner.plan_events(list(derived_events(org, window.start, window.end, planner.index, kinds)))
    return _finish(planner)


def plan_event(
    rules: RuleSet, org: Organisation, event: Event, now: datetime, already: Container[str] = frozenset()
) -> Plan:
    """The messages the event rules want for one event, planned at `now` (some may be for later)."""
    planner = _Planner(rules, org, Window(now, now + timedelta(days=3660)), already, now=now)
    planner.plan_events([event])
    return _finish(planner)
