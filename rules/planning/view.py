"""What the planner asks of an organisation, as a protocol, and the answer from one held in memory.

The planner asks two kinds of questions (`OrgView`):
- lookups by id and relationship (people, goals, milestones, goals_of, milestones_of,
  reports_of);
- window questions by day: goals by deadline and by creation day (the owner's calendar), open
  milestones by due day, people by timezone, digest weekday and hire anniversary, creations and
  completions by UTC day.

Three views answer them: `MemoryView` here, from an `Organisation` (date indexes built once per
snapshot); the store's window view (strides/store/window.py), with indexed SQL queries that read
only what a window can touch; and a view that scans every record (tools/scan_view.py, the
reference the tests and the benchmark's naive peer use).

Narrowing hints. Some arguments only narrow (`by_zone`, `open_at`, `audience`, `quiet`, `wanted`,
`minutes`, `days`) and the `prefetch_*` calls only announce what will be read: a view may return
more than a hint asks, never less, because the planner filters every record exactly. The store's
view pushes them into its SQL, so a tick reads what can fire, not three days of everything; a view
that ignores them all plans the same messages, slower.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeVar

from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, OrgLike, Person

T = TypeVar("T")
# Per owner timezone, the days [first, last] an anchor may fall on (a narrowing hint).
ZoneDays = Mapping[str, tuple[date, date]]
# (moment, "created" | "completed", goal, milestone or None): what the state records happened.
Moment = tuple[datetime, str, Goal, Milestone | None]
# A milestone as inhibition reads it: its due day and when it was completed (None: open).
Dues = tuple[date, datetime | None]
# A role for `prefetch_related`: the managers of those people without a mentor.
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


class OrgView(OrgLike, Protocol):
    """What the planner asks: records by id and relationship, and the window questions by day."""

    # -- people ------------------------------------------------------------------------------

    def zones(self) -> Collection[str]:
        """The timezones people live in."""
        ...

    def people_in(self, zone: str, wanted: Sequence[Person] | None = None) -> Sequence[Person]:
        """The people of `zone`. A hint: `wanted`, when given, are the only ones the planner
        needs (already read; empty: none)."""
        ...

    def digest_people(
        self, zone: str, weekday: int, minutes: tuple[int, int] | None = None
    ) -> Iterable[Person]:
        """People of `zone` whose digest is on `weekday` (enabled or not). A hint: `minutes`
        [first, last] after local midnight, the digest times wanted (first > last: none)."""
        ...

    def people_hired(self) -> Iterable[Person]:
        """Everyone with a hire date."""
        ...

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        """People hired on one of these (month, day) of any year (a hint: more may come back)."""
        ...

    def busy(self, person_id: str) -> bool | None:
        """Does this person own an active goal or manage anyone (so their digest has something to
        say)? None: not known here, ask `goals_of` and `reports_of`."""
        ...

    # -- goals and milestones by day ---------------------------------------------------------

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        """Active goals (of known owners) whose deadline falls in [first, last]."""
        ...

    def quiet_goals_due(
        self, first: date, last: date, by_zone: ZoneDays | None, quiet: Quiet
    ) -> tuple[Iterable[Goal], Sequence[Quieted]]:
        """`goals_due`, with those `quiet` finds held back set aside (a view may set none aside)."""
        ...

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        """Active goals created on a day in [first, last] of their owner's calendar."""
        ...

    def active_goals(self) -> Iterable[Goal]:
        """Every active goal of a known owner (cadences counted from a goal's creation)."""
        ...

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        """Milestones of active goals due in [first, last] (completed ones included). Hints:
        `open_at` asks only for those not completed by then; `by_zone` for those whose due day
        is in the days of their owner's (or, with `audience`, a recipient's) timezone."""
        ...

    def quiet_milestones_due(
        self, first: date, last: date, by_zone: ZoneDays | None, open_at: datetime, quiet: Quiet
    ) -> tuple[Iterable[Milestone], Sequence[Quieted]]:
        """`milestones_due`, with those `quiet` finds held back set aside (a view may set none aside)."""
        ...

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        """Milestones of active goals due by `last` (an escalation's repeats)."""
        ...

    def open_milestones_of(self, goal_id: str, due_by: date, open_after: datetime) -> Sequence[Dues] | None:
        """(due day, completed at) of the goal's milestones due by `due_by` and not completed by
        `open_after` (at least those; what an escalation may fire for); None: ask
        `milestones_of` for all of them."""
        ...

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        """Creations and completions on UTC days in [first, last]."""
        ...

    # -- what will be read (hints) ----------------------------------------------------------

    def prefetch_related(
        self, people: Iterable[Person], roles: Collection[str] = ("manager", "mentor")
    ) -> None:
        """The managers and/or mentors (`roles`) of these people will be read (or, with
        `UNMENTORED_MANAGERS`, the managers of those of them without a mentor)."""
        ...

    def prefetch_subjects(self, subjects: Iterable[str]) -> None:
        """These subjects ("person:ID", "goal:ID", "milestone:ID") will be planned in full, with
        their owners."""
        ...

    def prefetch_open_milestones(self, goal_ids: Iterable[str], due_by: date, open_after: datetime) -> None:
        """`open_milestones_of` will be asked for these goals."""
        ...


@dataclass
class _Indexes:
    """An organisation's records by day, zone and hire anniversary, built in one pass."""

    goals_by_deadline: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    goals_by_created: dict[date, list[Goal]] = field(default_factory=lambda: defaultdict(list))
    milestones_by_due: dict[date, list[Milestone]] = field(default_factory=lambda: defaultdict(list))
    # Due days with milestones of active goals, in order, for an escalation's repeats.
    open_dues: list[date] = field(default_factory=list)
    people_by_zone: dict[str, list[Person]] = field(default_factory=lambda: defaultdict(list))
    people_by_hire_day: dict[tuple[int, int], list[Person]] = field(default_factory=lambda: defaultdict(list))
    active: list[Goal] = field(default_factory=list)
    # Events read from the state: creations and completions by UTC day.
    moments_by_day: dict[date, list[Moment]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, org: Organisation) -> _Indexes:
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


class OrgRecords:
    """Records by id and relationship, from an organisation held in memory."""

    def __init__(self, org: Organisation) -> None:
        self.org = org

    @property
    def people(self) -> Mapping[str, Person]:
        return self.org.people

    @property
    def goals(self) -> Mapping[str, Goal]:
        return self.org.goals

    @property
    def milestones(self) -> Mapping[str, Milestone]:
        return self.org.milestones

    def goals_of(self, person_id: str) -> Sequence[Goal]:
        return self.org.goals_of(person_id)

    def milestones_of(self, goal_id: str) -> Sequence[Milestone]:
        return self.org.milestones_of(goal_id)

    def reports_of(self, person_id: str) -> Sequence[Person]:
        return self.org.reports_of(person_id)


class MemoryView(OrgRecords):
    """An `OrgView` of an organisation held in memory, through its date indexes (built once per
    snapshot: `memory_view`)."""

    def __init__(self, org: Organisation, index: _Indexes) -> None:
        super().__init__(org)
        self.index = index

    # -- people ------------------------------------------------------------------------------

    def zones(self) -> Collection[str]:
        return [zone for zone, people in self.index.people_by_zone.items() if people]

    def people_in(self, zone: str, wanted: Sequence[Person] | None = None) -> Sequence[Person]:
        if wanted is not None:
            return wanted
        return self.index.people_by_zone.get(zone, [])

    def digest_people(
        self, zone: str, weekday: int, minutes: tuple[int, int] | None = None
    ) -> Iterable[Person]:
        if minutes is not None and minutes[0] > minutes[1]:
            return []
        return [p for p in self.people_in(zone) if p.digest.weekday == weekday]

    def people_hired(self) -> Iterable[Person]:
        for people in self.index.people_by_hire_day.values():
            yield from people

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        for day in sorted(set(days)):
            yield from self.index.people_by_hire_day.get(day, [])

    def busy(self, person_id: str) -> bool | None:
        return None

    # -- goals and milestones by day ---------------------------------------------------------

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        yield from _span(self.index.goals_by_deadline, first, last)

    def quiet_goals_due(
        self, first: date, last: date, by_zone: ZoneDays | None, quiet: Quiet
    ) -> tuple[Iterable[Goal], Sequence[Quieted]]:
        return self.goals_due(first, last, by_zone), ()

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        yield from _span(self.index.goals_by_created, first, last)

    def active_goals(self) -> Iterable[Goal]:
        return self.index.active

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        yield from _span(self.index.milestones_by_due, first, last)

    def quiet_milestones_due(
        self, first: date, last: date, by_zone: ZoneDays | None, open_at: datetime, quiet: Quiet
    ) -> tuple[Iterable[Milestone], Sequence[Quieted]]:
        return self.milestones_due(first, last, by_zone, open_at), ()

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        for day in self.index.open_dues:
            if day > last:
                break
            yield from self.index.milestones_by_due[day]

    def open_milestones_of(self, goal_id: str, due_by: date, open_after: datetime) -> Sequence[Dues] | None:
        return None

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        yield from _span(self.index.moments_by_day, first, last)

    # -- hints: nothing to read ahead in memory ----------------------------------------------

    def prefetch_related(
        self, people: Iterable[Person], roles: Collection[str] = ("manager", "mentor")
    ) -> None:
        return None

    def prefetch_subjects(self, subjects: Iterable[str]) -> None:
        return None

    def prefetch_open_milestones(self, goal_ids: Iterable[str], due_by: date, open_after: datetime) -> None:
        return None


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _span(table: Mapping[date, list[T]], first: date, last: date) -> Iterator[T]:
    day = first
    while day <= last:
        found = table.get(day)
        if found:
            yield from found
        day += timedelta(days=1)


_INDEXES: dict[int, _Indexes] = {}


def memory_view(org: Organisation) -> MemoryView:
    """The view of this snapshot; its indexes are built on first use and dropped with the snapshot
    (planning the same organisation again, as `strides plan` and rule tests do, builds them once)."""
    key = id(org)
    found = _INDEXES.get(key)
    if found is None:
        found = _INDEXES[key] = _Indexes.build(org)
        weakref.finalize(org, _INDEXES.pop, key, None)
    return MemoryView(org, found)
