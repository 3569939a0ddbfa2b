"""The planner's state for one window, and the questions every trigger kind and message asks of it.

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
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from strides.domain.model import Goal, Milestone, Person
from strides.domain.parse import RuleSet
from strides.domain.schema import Kind, Role, Rule
from strides.rules.calendar import into_working_hours, local_moment, out_of_quiet_hours, shift_day
from strides.rules.intents import Intent, Skip, Window
from strides.rules.placement import Bookings, NoBookings
from strides.rules.planning import timing
from strides.rules.planning.facts import FactsOf
from strides.rules.planning.held_back import HeldBack
from strides.rules.planning.occasions import Occasion, PendingMeeting
from strides.rules.planning.view import UNMENTORED_MANAGERS, OrgView

# Whom a cadence day in one timezone concerns: nobody, the reopened subjects, or everyone.
NOBODY, REOPENED, EVERYONE = 0, 1, 2

_MENTOR, _MANAGER, _SKIP_LEVEL = Role.MENTOR.value, Role.MANAGER.value, Role.SKIP_LEVEL.value


@dataclass
class Planner:
    """Everything one plan knows and has found so far; trigger kinds (kinds/) find the occasions
    and `messages` turns them into intents."""

    rules: RuleSet
    view: OrgView
    window: Window
    already: Container[str]
    # Planning "now": the window's end for ticks, the given moment for events.
    now: datetime
    # UIDs of meetings already invited to: wanted whenever they lie ahead (see `invite_due`).
    known: Container[str] = frozenset()
    # Their subjects: planned wherever their anchors have moved.
    known_subjects: frozenset[str] = frozenset()
    # Steady state: invites whose send time is before `settled` were planned by earlier ticks,
    # except for the subjects in `changed` (their records changed since). None: plan them all.
    settled: datetime | None = None
    changed: frozenset[str] = frozenset()
    # The subject kinds ("goal", "milestone", "person") whose reopened subjects invite rules plan
    # in full (each kind says which of its rules do).
    reopens: frozenset[str] = frozenset({"person"})
    # What people are already booked for: meetings strides sent, busy times, pauses.
    bookings: Bookings = field(default_factory=NoBookings)
    intents: list[Intent] = field(default_factory=list)
    # Invites' meetings found so far, placed together once every rule is planned (`placing`).
    pending: list[PendingMeeting] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    fallbacks: list[Skip] = field(default_factory=list)
    # Rules given up in this plan (over their budget, or failed): rule id to why.
    abandoned: dict[str, str] = field(default_factory=dict)
    facts: FactsOf = field(default_factory=FactsOf)
    contexts: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    # `in_reach`'s bounds by (rule, owner only): the rules outlive the plan.
    _reach_bounds: dict[tuple[int, bool], tuple[datetime, datetime]] = field(default_factory=dict)

    @functools.cached_property
    def held_back(self) -> HeldBack:
        return HeldBack(self.rules, self.view, self.window, self.now, self.facts)

    @functools.cached_property
    def reopened(self) -> frozenset[str]:
        """Subjects planned in full although settled: changed, or already invited to."""
        found = self.changed | self.known_subjects
        # Read in one go what the invite rules will plan again.
        self.view.prefetch_subjects(s for s in found if s.partition(":")[0] in self.reopens)
        return found

    @functools.cached_property
    def reopened_people(self) -> dict[str, list[Person]]:
        """The people whose subject is reopened, by timezone."""
        found: dict[str, list[Person]] = {}
        for subject in sorted(self.reopened):
            kind, _, ident = subject.partition(":")
            person = self.view.people.get(ident) if kind == "person" else None
            if person is not None:
                found.setdefault(person.timezone, []).append(person)
        return found

    def settle(self) -> None:
        """Work out the answers every rule shares (read from the view once) before rules are
        planned at once."""
        self.held_back.inhibitors  # noqa: B018 (cached)
        if any(rule.action.kind is Kind.INVITE for rule in self.rules.enabled):
            self.reopened_people  # noqa: B018 (cached: `reopened` too)

    # -- the window's reach --------------------------------------------------------------------

    def span(self, reach: tuple[timedelta, timedelta]) -> tuple[date, date]:
        """The days (by the window's UTC dates) an occasion reaching this far may fall on."""
        before, after = reach
        return (self.window.start - before).date(), (self.window.end + after).date()

    def local_days(self, tz: ZoneInfo, reach: tuple[timedelta, timedelta]) -> tuple[date, date]:
        """The days of `tz`'s calendar an occasion reaching this far may fall on."""
        before, after = reach
        return (self.window.start - before).astimezone(tz).date(), (self.window.end + after).astimezone(
            tz
        ).date()

    def scope(self, rule: Rule, low: datetime, high: datetime) -> int:
        """Whom a day of `rule` in one timezone concerns: NOBODY, the REOPENED subjects, or
        EVERYONE. [low, high] bounds its moment before calendar shifts, for every recipient."""
        before, after = timing.moves(rule)
        low, high = low - before, high + after
        if rule.action.kind is not Kind.INVITE:
            return EVERYONE if low < self.window.end and high >= self.window.start else NOBODY
        lead = rule.action.lead
        # A meeting already sent may have been placed later than its moment.
        ahead = rule.calendar.slot.within + rule.action.duration if self.known_subjects else timedelta(0)
        if high + ahead <= self.window.start or low - lead - timing.WALL_LEAD >= self.window.end:
            return NOBODY
        if self.settled is None or high - lead + timing.WALL_LEAD >= self.settled:
            return EVERYONE
        return REOPENED

    def moment_bounds(self, rule: Rule) -> tuple[datetime, datetime]:
        """[low, high): where an occasion's moment (before calendar shifts) must fall to matter.

        A notice matters when it lands in the window, an invite when its meeting is still ahead
        and its send time (the meeting's start less the lead) is before the window's end, and in
        the steady state not before `settled` (earlier ticks planned those). Calendar shifts
        widen the range; a working-hours overlap may move a meeting later that day.
        """
        before, after = timing.moves(rule)
        low, high = self.window.start, self.window.end
        if rule.action.kind is Kind.INVITE:
            lead = rule.action.lead
            if self.known_subjects:
                # Placement may have moved a meeting already sent later than its moment: it is
                # still ahead, and wanted.
                low -= rule.calendar.slot.within + rule.action.duration
            if self.settled is not None:
                low = max(low, self.settled + lead - timing.WALL_LEAD)
            high += lead + timing.WALL_LEAD
        return low - after, high + before

    def occasion_days(self, rule: Rule, at: time, owner_only: bool, first: date, last: date) -> timing.Days:
        """The occasion days (within [first, last]) whose moment can matter to this window.

        On the owner's clock the days are exact per owner timezone; otherwise each recipient
        sees the day's `at` on their own clock, so the days of every timezone are taken
        together (and no owner timezone is singled out: None).
        """
        low, high = self.moment_bounds(rule)
        spans = {zone: timing.days_at(timing.zone(zone), at, low, high) for zone in self.view.zones()}
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

    def in_reach(self, rule: Rule, moment: datetime, *, owner_only: bool) -> bool:
        """Could a notice fired at `moment` land in this window for one of its recipients?

        Recipients elsewhere see the same wall time up to a day apart; calendar shifts move it
        as far as `timing.moves` says (the planner's assumption: a week and a day at most).
        """
        bounds = self._reach_bounds.get((id(rule), owner_only))
        if bounds is None:
            before, after = self.facts(rule).moves
            pad = timedelta(0) if owner_only else timing.OTHER_CLOCKS
            bounds = self._reach_bounds[(id(rule), owner_only)] = (
                self.window.start - after - pad,
                self.window.end + before + pad,
            )
        return bounds[0] <= moment < bounds[1]

    def invite_due(self, subject: str, uid: str, start: datetime, send_at: datetime) -> bool:
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

    # -- records ---------------------------------------------------------------------------------

    def owner(self, goal: Goal) -> Person | None:
        return self.view.people.get(goal.owner)

    def done(self, milestone: Milestone) -> bool:
        """Completed as of planning "now" (a fixture may hold a completion still in the future)."""
        return milestone.completed_at is not None and milestone.completed_at <= self.now

    def prefetch_related(
        self,
        rule: Rule,
        to: Sequence[str],
        owners: Iterable[Person | None],
        title: str | None = None,
        body: str | None = None,
    ) -> None:
        """Read the managers and mentors of these owners in one go, those the rule reads: as
        recipients or organiser, in its texts or its condition, and the managers of those without
        a mentor a message to the mentor goes to (else none are read for it; anything not read
        here is read when used)."""
        texts = (title or "", body or "", rule.action.title or "", rule.action.body or "")
        organiser = rule.action.organiser if rule.action.kind is Kind.INVITE else None
        targets = {*to, *([organiser] if organiser else ())}
        roles: set[str] = set()
        if rule.when is not None:
            roles = {_MANAGER, _MENTOR}  # a condition may read either
        else:
            if _MENTOR in targets or any("mentor" in t for t in texts):
                roles.add(_MENTOR)
            if targets & {_MANAGER, _SKIP_LEVEL} or any("manager" in t for t in texts):
                roles.add(_MANAGER)
            elif _MENTOR in to:
                # Resolving a message to the mentor looks up the manager of whoever has none.
                roles.add(UNMENTORED_MANAGERS)
        if roles:
            self.view.prefetch_related((p for p in owners if p is not None), frozenset(roles))

    # -- when ------------------------------------------------------------------------------------

    def moment(self, occasion: Occasion, person: Person) -> datetime:
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

    def deliverable(self, rule: Rule, moment: datetime, person: Person) -> datetime:
        """Working hours and quiet hours of the recipient move a notice later, never earlier."""
        if rule.calendar.working_hours:
            moment = into_working_hours(moment, person, rule.calendar)
        if rule.calendar.quiet_hours is not None:
            moment = out_of_quiet_hours(moment, person.tz, rule.calendar.quiet_hours)
        return moment

    def is_held_back(
        self, occasion: Occasion, recipient: str, moment: datetime, utc: datetime | None = None
    ) -> bool:
        """Too late to send, or inhibited by an escalation: recorded as a skip. (`utc`: `moment`
        in UTC, when the caller has it.)"""
        reason = self.held_back.reason(occasion, recipient, moment, utc or moment.astimezone(UTC))
        if reason is None:
            return False
        self.skips.append(Skip(occasion.rule.id, occasion.subject, moment, reason))
        return True
