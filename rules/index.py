"""Date indexes over an organisation, so planning costs what is due, not what exists.

The planner asks two kinds of questions, both through the interfaces here:
- lookups by id and relationship (`OrgLike`: people, goals, milestones, goals_of, milestones_of,
  reports_of): an `Organisation` answers them, and so does the store's window view
  (strides/store/window.py), which loads only what is asked for;
- window questions by day (`OrgIndex`): goals by deadline and by creation day (the owner's
  calendar), open milestones by due day, people by timezone, digest weekday and hire
  anniversary, creations and completions by UTC day.

`OrgIndex.build` answers the window questions from an in-memory snapshot (built once per snapshot,
cached by identity); `ScanIndex` answers them by scanning every record (the reference the tests
and the benchmark's naive peer use); the store answers them with indexed SQL queries.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar

from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, Person

T = TypeVar("T")
# Per owner timezone, the days [first, last] an anchor may fall on (a narrowing hint, see below).
ZoneDays = Mapping[str, tuple[date, date]]
# (moment, "created" | "completed", goal, milestone or None): what the state records happened.
Moment = tuple[datetime, str, Goal, Milestone | None]
# A milestone as inhibition reads it: its due day and when it was completed (None: open).
Dues = tuple[date, datetime | None]


# A role for `OrgIndex.prefetch_related`: the managers of those people without a mentor.
UNMENTORED_MANAGERS = "manager-unmentored"
# A record set aside as certainly held back (see `Quiet`): its id, its anchor day (a goal's
# deadline, a milestone's due day), and its owner's id and timezone.
Quieted = tuple[str, date, str, str]


@dataclass(frozen=True)
class Quiet:
    """A hint: a goal that holds a milestone due by `by` and not completed before `open_until`
    (or a milestone of such a goal) may come back as a `Quieted` entry instead of its record.

    The planner asks it of a reminder that an escalation inhibits, with `by` early enough that
    such a milestone's escalation has certainly fired before the reminder would: the reminder is
    only reported as held back, which needs the owner's clock and not the records.
    """

    by: date
    open_until: datetime


@dataclass(frozen=True)
class Audience:
    """Whose clocks a message is sent on (a narrowing hint): `by_zone` then names the timezones
    of these recipients, not the owner's. Roles are "owner" (fixed addresses count as the owner:
    they are sent at the owner's moment), "manager" and "mentor"; a missing relationship counts
    as whoever the message falls back to (the manager when `to_manager`, else the owner, whose
    moment a skip is reported at)."""

    roles: frozenset[str]
    to_manager: bool = False


class Records(Protocol):
    """Records by id: an Organisation, or any view of the store that reads them on demand."""

    @property
    def people(self) -> Mapping[str, Person]: ...

    @property
    def goals(self) -> Mapping[str, Goal]: ...

    @property
    def milestones(self) -> Mapping[str, Milestone]: ...


class OrgLike(Records, Protocol):
    """What the planner reads of an organisation: records by id and by relationship."""

    def goals_of(self, person_id: str) -> Sequence[Goal]: ...

    def milestones_of(self, goal_id: str) -> Sequence[Milestone]: ...

    def reports_of(self, person_id: str) -> Sequence[Person]: ...


@dataclass
class OrgIndex:
    goals_by_deadline: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    goals_by_created: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    milestones_by_due: dict[date, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    # Milestones not completed (or completed late), by due day, for escalation repeats.
    open_dues: list[date] = field(default_factory=list)
    people_by_zone: dict[str, list[Person]] = field(default_factory=lambda: defaultdict(list))
    people_by_hire_day: dict[tuple[int, int], list[Person]] = field(default_factory=lambda: defaultdict(list))
    active: list[Goal] = field(default_factory=list)
    # Events read from the state: creations and completions by UTC day.
    moments_by_day: dict[date, list[Moment]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, org: Organisation) -> OrgIndex:
        """One pass over people, goals and milestones (no per-goal lookups)."""
        index = cls()
        people = org.people
        for person in people.values():
            index.people_by_zone[person.timezone].append(person)
            if person.hired_on is not None:
                index.people_by_hire_day[(person.hired_on.month, person.hired_on.day)].append(person)
        active: set[str] = set()
        moments = index.moments_by_day
        for goal in org.goals.values():
            moments[_utc_day(goal.created_at)].append((goal.created_at, "created", goal, None))
            if goal.completed_at is not None:
                moments[_utc_day(goal.completed_at)].append((goal.completed_at, "completed", goal, None))
            owner = people.get(goal.owner)
            if goal.status is not GoalStatus.ACTIVE or owner is None:
                continue
            active.add(goal.id)
            index.active.append(goal)
            if goal.deadline is not None:
                index.goals_by_deadline[goal.deadline].append(goal)
            index.goals_by_created[goal.created_at.astimezone(owner.tz).date()].append(goal)
        goals = org.goals
        for milestone in org.milestones.values():
            if milestone.completed_at is not None and milestone.goal in goals:
                moments[_utc_day(milestone.completed_at)].append(
                    (milestone.completed_at, "completed", goals[milestone.goal], milestone)
                )
            if milestone.goal in active:
                index.milestones_by_due[milestone.due].append(milestone)
        index.open_dues = sorted(index.milestones_by_due)
        return index

    # -- records by day -----------------------------------------------------------------------
    #
    # Narrowing hints: `by_zone` maps each owner timezone to the days its anchors may fall on (a
    # sub-range of [first, last]; an owner in a timezone not named is not wanted), or with an
    # `audience` each recipient's timezone (a record is wanted when one of its recipients' is
    # named and its days hold the anchor), and `open_at` asks only for milestones not completed
    # by then. An index may return more than a hint asks (these in-memory ones do; the planner
    # filters exactly), never less: the store's view pushes them into its SQL so a tick reads what
    # can fire, not three days of everything.

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        """Active goals (of known owners) whose deadline falls in [first, last]."""
        yield from _span(self.goals_by_deadline, first, last)

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        """Active goals created on a day in [first, last] of their owner's calendar."""
        yield from _span(self.goals_by_created, first, last)

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        """Milestones of active goals due in [first, last] (completed ones included)."""
        yield from _span(self.milestones_by_due, first, last)

    def quiet_goals_due(
        self, first: date, last: date, by_zone: ZoneDays | None, quiet: Quiet
    ) -> tuple[Iterable[Goal], Sequence[Quieted]]:
        """`goals_due`, with those `quiet` finds held back set aside (here: none are)."""
        return self.goals_due(first, last, by_zone), ()

    def quiet_milestones_due(
        self, first: date, last: date, by_zone: ZoneDays | None, open_at: datetime, quiet: Quiet
    ) -> tuple[Iterable[Milestone], Sequence[Quieted]]:
        """`milestones_due`, with those `quiet` finds held back set aside (here: none are)."""
        return self.milestones_due(first, last, by_zone, open_at), ()

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        for day in self.open_dues:
            if day > last:
                break
            yield from self.milestones_by_due[day]

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        """Creations and completions on UTC days in [first, last]."""
        yield from _span(self.moments_by_day, first, last)

    def active_goals(self) -> Iterable[Goal]:
        """Every active goal of a known owner (cadences counted from a goal's creation)."""
        return self.active

    def prefetch_related(
        self, people: Iterable[Person], roles: Collection[str] = ("manager", "mentor")
    ) -> None:
        """A hint: the managers and/or mentors (`roles`) of these people will be read (or, with
        `UNMENTORED_MANAGERS`, the managers of those of them without a mentor)."""

    def prefetch_subjects(self, subjects: Iterable[str]) -> None:
        """A hint: these subjects ("person:ID", "goal:ID", "milestone:ID") will be planned in
        full, with their owners (a store loads them in one go)."""

    def prefetch_open_milestones(self, goal_ids: Iterable[str], due_by: date, open_after: datetime) -> None:
        """A hint: `open_milestones_of` will be asked for these goals (a store loads them in one go)."""

    def open_milestones_of(self, goal_id: str, due_by: date, open_after: datetime) -> Sequence[Dues] | None:
        """(due day, completed at) of the goal's milestones due by `due_by` and not completed by
        `open_after` (at least those; what an escalation may fire for); None: ask
        `milestones_of` for all of them."""
        return None

    def busy(self, person_id: str) -> bool | None:
        """Does this person own an active goal or manage anyone (so their digest has something to
        say)? None: not known here, ask `goals_of` and `reports_of` (a store answers it for the
        people `digest_people` returned, from ids alone)."""
        return None

    # -- people -------------------------------------------------------------------------------

    def zones(self) -> Collection[str]:
        """The timezones people live in."""
        return [zone for zone, people in self.people_by_zone.items() if people]

    def people_in(self, zone: str) -> Sequence[Person]:
        return self.people_by_zone.get(zone, [])

    def digest_people(
        self, zone: str, weekday: int, minutes: tuple[int, int] | None = None
    ) -> Iterable[Person]:
        """People of `zone` whose digest is on `weekday` (enabled or not).

        A hint: `minutes` [first, last] after local midnight, the digest times wanted.
        """
        return [p for p in self.people_in(zone) if p.digest.weekday == weekday]

    def people_hired(self) -> Iterable[Person]:
        """Everyone with a hire date."""
        for people in self.people_by_hire_day.values():
            yield from people

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        """People hired on one of these (month, day) of any year."""
        for day in sorted(set(days)):
            yield from self.people_by_hire_day.get(day, [])


class ScanIndex(OrgIndex):
    """The same questions answered by scanning every record: the reference (and the naive peer)."""

    def __init__(self, org: Organisation) -> None:
        super().__init__()
        self.org = org
        for person in org.people.values():
            self.people_by_zone[person.timezone].append(person)

    def _active(self) -> Iterator[Goal]:
        for goal in self.org.goals.values():
            if goal.status is GoalStatus.ACTIVE and goal.owner in self.org.people:
                yield goal

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        return (g for g in self._active() if g.deadline is not None and first <= g.deadline <= last)

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        people = self.org.people
        return (
            g for g in self._active() if first <= g.created_at.astimezone(people[g.owner].tz).date() <= last
        )

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        active = {g.id for g in self._active()}
        return (m for m in self.org.milestones.values() if m.goal in active and first <= m.due <= last)

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        active = {g.id for g in self._active()}
        return (m for m in self.org.milestones.values() if m.goal in active and m.due <= last)

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        found: list[Moment] = []
        goals = self.org.goals
        for goal in goals.values():
            for what, moment in (("created", goal.created_at), ("completed", goal.completed_at)):
                if moment is not None and first <= _utc_day(moment) <= last:
                    found.append((moment, what, goal, None))
        for milestone in self.org.milestones.values():
            done = milestone.completed_at
            if done is not None and milestone.goal in goals and first <= _utc_day(done) <= last:
                found.append((done, "completed", goals[milestone.goal], milestone))
        return found

    def active_goals(self) -> Iterable[Goal]:
        return list(self._active())

    def people_hired(self) -> Iterable[Person]:
        return [p for p in self.org.people.values() if p.hired_on is not None]

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        wanted = set(days)
        return [
            p
            for p in self.org.people.values()
            if p.hired_on is not None and (p.hired_on.month, p.hired_on.day) in wanted
        ]


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _span(table: Mapping[date, list[T]], first: date, last: date) -> Iterator[T]:
    day = first
    while day <= last:
        found = table.get(day)
        if found:
            yield from found
        day += timedelta(days=1)


_CACHE: dict[int, OrgIndex] = {}


def index_of(org: Organisation) -> OrgIndex:
    """The index of this snapshot, built on first use and dropped with the snapshot."""
    key = id(org)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = OrgIndex.build(org)
        weakref.finalize(org, _CACHE.pop, key, None)
    return found
