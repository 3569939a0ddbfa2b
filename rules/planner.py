"""The planner: (rules, organisation, window, ledger) in, intended messages out. Pure.

A message is due in a window when its send time falls before the window's end and it is
still useful at the window's start: an invite until its meeting begins, anything else only
inside the window itself. The ledger's keys remove what was already planned, so planning an
overlapping window again adds nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from strides.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.rules.digest import compose_digest
from strides.rules.intents import Intent, Meeting, Plan, Skip, Window
from strides.rules.keys import meeting_slot, meeting_uid, message_key
from strides.rules.parse import RuleSet
from strides.rules.schema import (
    Anchor,
    AnchorTrigger,
    CadenceTrigger,
    DigestTrigger,
    Kind,
    MissingPolicy,
    Role,
    Rule,
)
from strides.rules.templates import render_text


def local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`at` on `day` on the wall clock of `tz`; a time skipped by a DST jump moves forward."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    # Round-trip through UTC: a wall time inside a spring-forward gap does not exist and
    # comes back shifted by the gap, which is what a person's calendar would do too.
    return aware.astimezone(ZoneInfo("UTC")).astimezone(tz)


@functools.lru_cache(maxsize=4096)
def _recurrence_days(rrule: str, starts: date, first: date, last: date) -> tuple[date, ...]:
    """The days in [first, last] on which `rrule` (counted from `starts`) falls."""
    rule = rrulestr(rrule, dtstart=datetime.combine(starts, time()))
    begin = datetime.combine(max(first, starts), time())
    end = datetime.combine(last, time())
    return tuple(d.date() for d in rule.between(begin, end, inc=True))


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

    @property
    def slot(self) -> str:
        if self.offset_days is not None:
            return meeting_slot(offset_days=self.offset_days)
        return meeting_slot(day=self.moment_day)


class _Planner:
    def __init__(
        self, org: Organisation, window: Window, already: Container[str], known: Container[str]
    ) -> None:
        self.org = org
        self.window = window
        self.already = already
        self.known = known
        self.intents: list[Intent] = []
        self.skips: list[Skip] = []

    # -- when ---------------------------------------------------------------------------------

    def _local_days(self, tz: ZoneInfo, before: timedelta, after: timedelta) -> tuple[date, date]:
        first = (self.window.start - before).astimezone(tz).date()
        last = (self.window.end + after).astimezone(tz).date()
        return first, last

    def occasions(self, rule: Rule) -> Iterator[_Occasion]:
        trigger = rule.trigger
        lead = rule.action.lead if rule.action.kind is Kind.INVITE else timedelta(0)
        if isinstance(trigger, AnchorTrigger):
            yield from self._anchored(rule, trigger)
        elif isinstance(trigger, CadenceTrigger):
            for person in self.org.people.values():
                first, last = self._local_days(person.tz, timedelta(days=1), lead + timedelta(days=1))
                for day in _recurrence_days(trigger.every, trigger.starts, first, last):
                    yield _Occasion(rule, f"person:{person.id}", person, day)
        elif isinstance(trigger, DigestTrigger):
            for person in self.org.people.values():
                if not person.digest.enabled:
                    continue
                first, last = self._local_days(person.tz, timedelta(days=1), timedelta(days=1))
                day = first
                while day <= last:
                    if day.isoweekday() == person.digest.weekday:
                        yield _Occasion(rule, f"person:{person.id}", person, day)
                    day += timedelta(days=1)

    def _anchored(self, rule: Rule, trigger: AnchorTrigger) -> Iterator[_Occasion]:
        for goal in self.org.goals.values():
            if goal.status is not GoalStatus.ACTIVE:
                continue
            owner = self.org.people[goal.owner]
            if trigger.anchor is Anchor.GOAL_DEADLINE:
                if goal.deadline is not None:
                    for offset in trigger.offsets:
                        yield _Occasion(
                            rule,
                            f"goal:{goal.id}",
                            owner,
                            goal.deadline + offset,
                            goal=goal,
                            offset_days=offset.days,
                        )
            else:
                for milestone in self.org.milestones_of(goal.id):
                    if milestone.done:
                        continue
                    for offset in trigger.offsets:
                        yield _Occasion(
                            rule,
                            f"milestone:{milestone.id}",
                            owner,
                            milestone.due + offset,
                            goal,
                            milestone,
                            offset.days,
                        )

    def _at(self, rule: Rule, person: Person) -> time:
        trigger = rule.trigger
        if isinstance(trigger, DigestTrigger):
            return person.digest.at
        return trigger.at

    # -- who ----------------------------------------------------------------------------------

    def recipients(self, occasion: _Occasion) -> tuple[list[Person], str | None]:
        people: list[Person] = []
        owner = occasion.owner
        for role in occasion.rule.action.to:
            found: list[Person] = []
            if role is Role.OWNER:
                found = [owner]
            elif role is Role.MANAGER and owner.manager:
                found = [self.org.people[owner.manager]]
            elif role is Role.MENTOR:
                found = [self.org.people[m] for m in owner.mentors]
            if not found:
                fallback = occasion.rule.action.missing
                if fallback is MissingPolicy.MANAGER and role is not Role.MANAGER and owner.manager:
                    found = [self.org.people[owner.manager]]
                else:
                    return [], f"{owner.id} has no {role.value}"
            people.extend(p for p in found if p not in people)
        return people, None

    # -- what ---------------------------------------------------------------------------------

    def context(self, occasion: _Occasion, moment: datetime) -> dict[str, object]:
        today = moment.astimezone(occasion.owner.tz).date()
        goal, milestone = occasion.goal, occasion.milestone
        due = milestone.due if milestone else goal.deadline if goal else None
        manager = self.org.people.get(occasion.owner.manager or "")
        mentors = [self.org.people[m] for m in occasion.owner.mentors]
        return {
            "person": occasion.owner,
            "owner": occasion.owner,
            "goal": goal,
            "milestone": milestone,
            "manager": manager,
            "mentor": mentors[0] if mentors else None,
            "days_left": (due - today).days if due else None,
            "date": today.isoformat(),
        }

    def plan_rule(self, rule: Rule) -> None:
        action = rule.action
        for occasion in self.occasions(rule):
            if action.kind is Kind.INVITE:
                self._plan_invite(occasion)
            else:
                self._plan_notice(occasion)

    def _plan_invite(self, occasion: _Occasion) -> None:
        rule, owner = occasion.rule, occasion.owner
        start = local_moment(occasion.moment_day, self._at(rule, owner), owner.tz)
        send_at = start - rule.action.lead
        uid = meeting_uid(rule.id, occasion.subject, occasion.slot)
        # Useful until the meeting starts: a late invite still goes out, a past meeting does not.
        # A meeting already invited to (`known`) is wanted whenever it lies ahead, so the
        # reconciler can tell a moved meeting from one that is no longer wanted.
        if not (start > self.window.start and (send_at < self.window.end or uid in self.known)):
            return
        people, missing = self.recipients(occasion)
        if missing:
            if self.window.contains(send_at):
                self.skips.append(Skip(rule.id, occasion.subject, start, missing))
            return
        context = self.context(occasion, start)
        meeting = Meeting(
            uid=uid,
            start=start,
            end=start + rule.action.duration,
            timezone=owner.timezone,
            attendees=tuple(p.id for p in people),
        )
        for person in people:
            self._add(occasion, person, start, max(send_at, self.window.start), context, meeting)

    def _plan_notice(self, occasion: _Occasion) -> None:
        rule = occasion.rule
        people, missing = self.recipients(occasion)
        if missing:
            moment = local_moment(occasion.moment_day, self._at(rule, occasion.owner), occasion.owner.tz)
            if self.window.contains(moment):
                self.skips.append(Skip(rule.id, occasion.subject, moment, missing))
            return
        for person in people:
            # Notices arrive at the local time of whoever receives them.
            moment = local_moment(occasion.moment_day, self._at(rule, person), person.tz)
            if not self.window.contains(moment):
                continue
            if rule.action.kind is Kind.DIGEST:
                digest = compose_digest(person, self.org, moment)
                if digest.is_empty and not person.digest.send_empty:
                    self.skips.append(Skip(rule.id, occasion.subject, moment, f"{person.id}: empty digest"))
                    continue
            self._add(occasion, person, moment, moment, self.context(occasion, moment), None)

    def _add(
        self,
        occasion: _Occasion,
        person: Person,
        occurrence: datetime,
        send_at: datetime,
        context: dict[str, object],
        meeting: Meeting | None,
    ) -> None:
        rule = occasion.rule
        key = message_key(rule.id, occasion.subject, occurrence, person.id)
        # Invites are not filtered here: rules/reconcile.py compares them with what was sent.
        if meeting is None and key in self.already:
            return
        title = render_text(rule.action.title, context) if rule.action.title else "Your weekly strides digest"
        self.intents.append(
            Intent(
                key=key,
                rule_id=rule.id,
                kind=rule.action.kind,
                subject=occasion.subject,
                occurrence=occurrence,
                recipient=person.id,
                send_at=send_at,
                title=title,
                body=render_text(rule.action.body, context),
                meeting=meeting,
            )
        )


def plan(
    rules: RuleSet,
    org: Organisation,
    window: Window,
    already: Container[str] = frozenset(),
    known: Container[str] = frozenset(),
) -> Plan:
    """Every message the enabled rules want sent in `window` that `already` does not hold.

    Invites are the exception: every wanted meeting that is due, or whose UID is in `known`
    (already invited to) and still ahead, is returned; rules/reconcile.py decides what to send.
    """
    planner = _Planner(org, window, already, known)
    for rule in rules.enabled:
        planner.plan_rule(rule)
    intents = sorted(planner.intents, key=lambda i: (i.send_at, i.rule_id, i.recipient, i.key))
    return Plan(tuple(intents), tuple(planner.skips))
