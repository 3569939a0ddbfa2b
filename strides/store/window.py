"""The organisation as one planning window sees it: indexed SQL queries instead of the whole snapshot.

`StoreView` is the store's `OrgView` (strides/rules/planning/view.py): it answers the planner's
window questions (goals by deadline and creation day, milestones by due day, people by timezone,
digest weekday and hire anniversary, creations and completions by day) with queries on indexed
date columns, honouring every narrowing hint, and its lookups by id and relationship (people,
goals, milestones, goals_of, milestones_of, reports_of) from what those queries loaded, fetching
the rest in batches. So a tick reads the records its window can touch and the people they
reference, not the organisation. A `Shard` keeps every query to a range of subject buckets.

Records were validated as a whole organisation when stored; the view trusts them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from strides.domain.model import Goal, GoalStatus, Milestone, Person
from strides.rules.planning.view import (
    UNMENTORED_MANAGERS,
    Audience,
    Dues,
    Moment,
    Quiet,
    Quieted,
    ZoneDays,
)
from strides.store import records
from strides.store.db import BATCH
from strides.store.records import in_values, stored, stored_by
from strides.store.shards import WHOLE, Shard, bucket
from strides.store.snapshot import ALL
from strides.store.tables import GoalRow, MentorshipRow, MilestoneRow, OrgChangeRow, PersonRow
from strides.store.window_queries import (
    AnySelect,
    due_in,
    holds,
    per_zone,
    seen_by,
    unindexed,
    unless,
    within,
    zoned,
)

T = TypeVar("T")
ACTIVE = GoalStatus.ACTIVE.value


_UNREAD = object()


class _Lookup(Mapping[str, T]):
    """Records by id, loaded on first use; a view cannot list every record."""

    def __init__(self, kind: str, get: Callable[[str], T | None], loaded: dict[str, T | None]) -> None:
        self.kind = kind
        self.get_one = get
        # What was read so far (None: no such record), looked up first: planning asks by id
        # hundreds of thousands of times a tick.
        self.loaded = loaded

    def __getitem__(self, key: str) -> T:
        found = self.loaded.get(key, _UNREAD)
        if found is _UNREAD:
            found = self.get_one(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[return-value]

    def get(self, key: str, default: Any = None) -> Any:
        found = self.loaded.get(key, _UNREAD)
        if found is _UNREAD:
            found = self.get_one(key)
        return default if found is None else found

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        raise TypeError(f"a window view does not list every {self.kind}")

    def __len__(self) -> int:
        raise TypeError(f"a window view does not count every {self.kind}")


# A record is read as its id and its JSON text: the text is decoded only the first time an id is
# seen (a goal comes back with each of its milestones, an owner with each of their goals).
_PERSON, _GOAL, _MILESTONE = stored(PersonRow), stored(GoalRow), stored(MilestoneRow)
_MENTEES_OF = select(MentorshipRow.mentee).where(in_values(MentorshipRow.mentor))
_MILESTONE_IDS_OF = select(MilestoneRow.id).where(in_values(MilestoneRow.goal))
_OPEN_MILESTONES_OF = select(MilestoneRow.goal, MilestoneRow.due, MilestoneRow.completed_at).where(
    in_values(MilestoneRow.goal),
    MilestoneRow.due <= bindparam("due_by"),
    or_(MilestoneRow.completed_at.is_(None), MilestoneRow.completed_at > bindparam("open_after")),
)
_OWNING = select(GoalRow.owner).distinct().where(in_values(GoalRow.owner), GoalRow.status == ACTIVE)
_MANAGING = select(PersonRow.manager).distinct().where(in_values(PersonRow.manager))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class StoreView:
    """One session's view for planning one window (one shard of it): an `OrgView`."""

    def __init__(self, session: Session, shard: Shard = WHOLE) -> None:
        self.session = session
        self.shard = shard
        self._people: dict[str, Person | None] = {}
        self._goals: dict[str, Goal | None] = {}
        self._milestones: dict[str, Milestone | None] = {}
        self._goals_of: dict[str, list[Goal]] = {}
        self._milestones_of: dict[str, list[Milestone]] = {}
        self._reports_of: dict[str, list[Person]] = {}
        self._zones: list[str] | None = None
        # Of the people asked about (`_busy_known`), those who own an active goal or manage anyone.
        self._busy: set[str] = set()
        self._busy_known: set[str] = set()
        # Milestones that may inhibit, by (due by, open after), then by goal.
        self._open: dict[tuple[date, datetime], dict[str, list[Dues]]] = {}
        self._owner = threading.get_ident()
        # Taken here, in the session's thread: a Session is not to be used from two threads.
        self._engine = session.get_bind().engine
        self._local = threading.local()
        self._opened: list[Connection] = []
        self._opened_lock = threading.Lock()
        self.people: Mapping[str, Person] = _Lookup("person", self._person_by_id, self._people)
        self.goals: Mapping[str, Goal] = _Lookup("goal", self._goal_by_id, self._goals)
        self.milestones: Mapping[str, Milestone] = _Lookup(
            "milestone", self._milestone_by_id, self._milestones
        )

    # -- loading --------------------------------------------------------------------------------

    def _rows(self, query: AnySelect, params: dict[str, Any] | None = None) -> Sequence[Any]:
        params = params or {}
        # Core execution: plain rows, without the ORM's per-row bookkeeping.
        return self._connection().execute(query, params).all()

    def _connection(self) -> Connection:
        """The session's connection for the thread that made the view; another thread (rules
        planned at once: `strides.engine`) reads through a connection of its own, so the
        database answers both at once. Reads only: each statement sees what was committed when
        it ran, as the session's own statements do under READ COMMITTED."""
        if threading.get_ident() == self._owner:
            return self.session.connection()
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._engine.connect()
            with self._opened_lock:
                self._opened.append(connection)
        return connection

    @property
    def other_connections(self) -> int:
        """How many connections of other threads this view holds open (see `_connection`)."""
        with self._opened_lock:
            return len(self._opened)

    def close(self) -> None:
        """Close the connections other threads opened (see `_connection`)."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for connection in opened:
            connection.close()

    def _in(self, query: AnySelect, ids: Iterable[str], **params: Any) -> list[Any]:
        """Rows of `query` (a statement with a `values` list) for `ids`, in batches."""
        found: list[Any] = []
        batch = sorted(set(ids))
        for start in range(0, len(batch), BATCH):
            found += self._rows(query, {"values": batch[start : start + BATCH], **params})
        return found

    def _person(self, ident: str, text: str) -> Person:
        found = self._people.get(ident)
        if found is None:
            found = self._people[ident] = records.person(text)
        return found

    def _goal(self, ident: str, text: str) -> Goal:
        found = self._goals.get(ident)
        if found is None:
            found = self._goals[ident] = records.goal(text)
        return found

    def _milestone(self, ident: str, text: str) -> Milestone:
        found = self._milestones.get(ident)
        if found is None:
            found = self._milestones[ident] = records.milestone(text)
        return found

    def _with_owners(self, rows: Iterable[Any]) -> list[Goal]:
        """Goals read with their owners (rows of goal id and text, owner id and text)."""
        person, goal = self._person, self._goal
        found = []
        for goal_id, goal_text, owner_id, owner_text in rows:
            person(owner_id, owner_text)
            found.append(goal(goal_id, goal_text))
        return found

    def load_people(self, ids: Iterable[str]) -> None:
        known = self._people
        missing = {i for i in ids if i not in known}
        for ident, text in self._in(stored_by(PersonRow, PersonRow.id), missing):
            self._person(ident, text)
        for ident in missing:
            known.setdefault(ident, None)

    def _related(self, people: Iterable[Person]) -> list[Person]:
        """`people`, with their managers and mentors loaded in one go (recipients, conditions)."""
        people = list(people)
        self.load_people({r for p in people for r in (p.manager, *p.mentors) if r is not None})
        return people

    def load_goals(self, ids: Iterable[str]) -> None:
        missing = {i for i in ids if i not in self._goals}
        for ident, text in self._in(stored_by(GoalRow, GoalRow.id), missing):
            self._goal(ident, text)
        for ident in missing:
            self._goals.setdefault(ident, None)

    def load_milestones(self, ids: Iterable[str]) -> None:
        missing = {i for i in ids if i not in self._milestones}
        for ident, text in self._in(stored_by(MilestoneRow, MilestoneRow.id), missing):
            self._milestone(ident, text)
        for ident in missing:
            self._milestones.setdefault(ident, None)

    def load_milestones_of(self, goal_ids: Iterable[str]) -> None:
        missing = {g for g in goal_ids if g not in self._milestones_of}
        found: dict[str, list[Milestone]] = {ident: [] for ident in missing}
        for ident, text in self._in(stored_by(MilestoneRow, MilestoneRow.goal), missing):
            milestone = self._milestone(ident, text)
            found[milestone.goal].append(milestone)
        # Published whole (rules planned at once read them): never a list still being filled.
        self._milestones_of.update(found)

    def load_goals_of(self, person_ids: Iterable[str]) -> None:
        missing = {p for p in person_ids if p not in self._goals_of}
        found: dict[str, list[Goal]] = {ident: [] for ident in missing}
        for ident, text in self._in(stored_by(GoalRow, GoalRow.owner), missing):
            goal = self._goal(ident, text)
            found[goal.owner].append(goal)
        self._goals_of.update(found)

    def load_reports_of(self, person_ids: Iterable[str]) -> None:
        missing = {p for p in person_ids if p not in self._reports_of}
        found: dict[str, list[Person]] = {ident: [] for ident in missing}
        for ident, text in self._in(stored_by(PersonRow, PersonRow.manager), missing):
            person = self._person(ident, text)
            if person.manager is not None:
                found[person.manager].append(person)
        self._reports_of.update(found)

    def _with_goals(self, goals: list[Goal]) -> list[Goal]:
        """`goals`, with their owners loaded (their managers and mentors when the planner asks:
        `prefetch_related`)."""
        self.load_people(g.owner for g in goals)
        return goals

    def _in_shard(self, column: Any) -> Any:
        return column.between(self.shard.low, self.shard.high - 1)

    # -- lookups by id and relationship -------------------------------------------------------

    def _person_by_id(self, ident: str) -> Person | None:
        if ident not in self._people:
            self.load_people([ident])
        return self._people[ident]

    def _goal_by_id(self, ident: str) -> Goal | None:
        if ident not in self._goals:
            self.load_goals([ident])
        return self._goals[ident]

    def _milestone_by_id(self, ident: str) -> Milestone | None:
        if ident not in self._milestones:
            rows = self._rows(stored_by(MilestoneRow, MilestoneRow.id), {"values": [ident]})
            self._milestones[ident] = self._milestone(*rows[0]) if rows else None
        return self._milestones[ident]

    def goals_of(self, person_id: str) -> Sequence[Goal]:
        self.load_goals_of([person_id])
        return self._goals_of[person_id]

    def milestones_of(self, goal_id: str) -> Sequence[Milestone]:
        self.load_milestones_of([goal_id])
        return self._milestones_of[goal_id]

    def reports_of(self, person_id: str) -> Sequence[Person]:
        self.load_reports_of([person_id])
        return self._reports_of[person_id]

    # -- window questions -----------------------------------------------------------------------

    def prefetch_related(
        self, people: Iterable[Person], roles: Collection[str] = ("manager", "mentor")
    ) -> None:
        managers, mentors, unmentored = "manager" in roles, "mentor" in roles, UNMENTORED_MANAGERS in roles
        self.load_people(
            r
            for p in people
            for r in ((p.manager,) if managers or (unmentored and not p.mentors) else ())
            + (p.mentors if mentors else ())
            if r is not None
        )

    def prefetch_subjects(self, subjects: Iterable[str]) -> None:
        kinds: dict[str, set[str]] = defaultdict(set)
        for subject in subjects:
            kind, _, ident = subject.partition(":")
            kinds[kind].add(ident)
        self.load_milestones(kinds["milestone"])
        goals = kinds["goal"] | {m.goal for i in kinds["milestone"] if (m := self._milestones.get(i))}
        self.load_goals(goals)
        found = self._with_goals([g for i in goals if (g := self._goals.get(i)) is not None])
        self._related(p for g in found if (p := self._people.get(g.owner)) is not None)
        self.load_people(kinds["person"])
        self._related(p for i in kinds["person"] if (p := self._people.get(i)) is not None)

    def prefetch_open_milestones(self, goal_ids: Iterable[str], due_by: date, open_after: datetime) -> None:
        known = self._open.setdefault((due_by, open_after), {})
        missing = {g for g in goal_ids if g not in known}
        found: dict[str, list[Dues]] = {ident: [] for ident in missing}
        # Their dues only (no records): they decide whether a reminder is inhibited, nothing else.
        rows = self._in(_OPEN_MILESTONES_OF, missing, due_by=due_by, open_after=open_after)
        for goal, due, completed in rows:
            found[goal].append((due, completed))
        known.update(found)

    def open_milestones_of(self, goal_id: str, due_by: date, open_after: datetime) -> Sequence[Dues]:
        found = self._open.get((due_by, open_after), {}).get(goal_id)
        if found is None:
            self.prefetch_open_milestones([goal_id], due_by, open_after)
            found = self._open[(due_by, open_after)][goal_id]
        return found

    def _goals_of_owners(self, *columns: Any, conditions: Sequence[Any]) -> AnySelect:
        """`columns` of active goals (of known owners) joined with their owners, where `conditions`."""
        return (
            select(*columns)
            .join(PersonRow, PersonRow.id == GoalRow.owner)
            .where(GoalRow.status == ACTIVE, self._in_shard(GoalRow.bucket), *conditions)
        )

    def _goals_where(self, *conditions: Any) -> list[Goal]:
        """Active goals (of known owners), read with their owners."""
        return self._with_owners(self._rows(self._goals_of_owners(*_GOAL, *_PERSON, conditions=conditions)))

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        return self._goals_where(*within(GoalRow.deadline, first, last, by_zone))

    def quiet_goals_due(
        self, first: date, last: date, by_zone: ZoneDays | None, quiet: Quiet
    ) -> tuple[Iterable[Goal], Sequence[Quieted]]:
        # The goals `quiet` holds back come as their ids, deadlines and owners' timezones, not
        # their records (the texts are NULL): the planner only reports them as held back.
        held = holds(GoalRow.id, quiet)
        query = self._goals_of_owners(
            GoalRow.id,
            unless(held, _GOAL[1]),
            PersonRow.id,
            unless(held, _PERSON[1]),
            GoalRow.deadline,
            PersonRow.timezone,
            conditions=within(GoalRow.deadline, first, last, by_zone),
        )
        goals: list[Goal] = []
        quieted: list[Quieted] = []
        for goal_id, goal_text, owner_id, owner_text, deadline, zone in self._rows(query):
            if goal_text is None:
                quieted.append((goal_id, deadline, owner_id, zone))
            else:
                self._person(owner_id, owner_text)
                goals.append(self._goal(goal_id, goal_text))
        return goals, quieted

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        # Stored in UTC; the owner's calendar day is at most a day away.
        wide = self._goals_where(
            GoalRow.created_at >= _midnight(first - timedelta(days=1)),
            GoalRow.created_at < _midnight(last + timedelta(days=2)),
        )
        found = []
        for goal in wide:
            owner = self._people.get(goal.owner)
            if owner is not None and first <= goal.created_at.astimezone(owner.tz).date() <= last:
                found.append(goal)
        return found

    def _milestones_of_goals(self, *columns: Any, conditions: Sequence[Any]) -> AnySelect:
        """`columns` of the milestones of active goals (of known owners), joined with their goals
        and owners, where `conditions`."""
        return (
            select(*columns)
            .join(GoalRow, GoalRow.id == MilestoneRow.goal)
            .join(PersonRow, PersonRow.id == GoalRow.owner)
            .where(GoalRow.status == ACTIVE, self._in_shard(MilestoneRow.bucket), *conditions)
        )

    def _milestones_where(
        self, *conditions: Any, by_zone: ZoneDays | None = None, audience: Audience | None = None
    ) -> list[Milestone]:
        """Milestones of active goals (of known owners), read with their goals and owners."""
        query = self._milestones_of_goals(*_MILESTONE, *_GOAL, *_PERSON, conditions=conditions)
        if by_zone is not None and audience is not None:
            query = seen_by(query, audience, by_zone)
        elif by_zone is not None:
            query = query.where(per_zone(MilestoneRow.due, by_zone))
        milestone, goal, person = self._milestone, self._goal, self._person
        found = []
        for milestone_id, milestone_text, goal_id, goal_text, owner_id, owner_text in self._rows(query):
            person(owner_id, owner_text)
            goal(goal_id, goal_text)
            found.append(milestone(milestone_id, milestone_text))
        return found

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        return self._milestones_where(*due_in(first, last, open_at), by_zone=by_zone, audience=audience)

    def quiet_milestones_due(
        self, first: date, last: date, by_zone: ZoneDays | None, open_at: datetime, quiet: Quiet
    ) -> tuple[Iterable[Milestone], Sequence[Quieted]]:
        # As `quiet_goals_due`: held-back milestones come as ids, due days and owners' timezones.
        held = holds(MilestoneRow.goal, quiet)
        query = self._milestones_of_goals(
            MilestoneRow.id,
            unless(held, _MILESTONE[1]),
            GoalRow.id,
            unless(held, _GOAL[1]),
            PersonRow.id,
            unless(held, _PERSON[1]),
            MilestoneRow.due,
            PersonRow.timezone,
            conditions=[*due_in(first, last, open_at), *zoned(MilestoneRow.due, by_zone)],
        )
        found: list[Milestone] = []
        quieted: list[Quieted] = []
        for row in self._rows(query):
            milestone_id, milestone_text, goal_id, goal_text, owner_id, owner_text, due, zone = row
            if milestone_text is None:
                quieted.append((milestone_id, due, owner_id, zone))
            else:
                self._person(owner_id, owner_text)
                self._goal(goal_id, goal_text)
                found.append(self._milestone(milestone_id, milestone_text))
        return found, quieted

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        return self._milestones_where(MilestoneRow.due <= last)

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        low, high = _midnight(first), _midnight(last + timedelta(days=1))
        found: list[Moment] = []
        for column, what in ((GoalRow.created_at, "created"), (GoalRow.completed_at, "completed")):
            goals = select(*_GOAL).where(column >= low, column < high, self._in_shard(GoalRow.bucket))
            for goal in self._with_goals([self._goal(*row) for row in self._rows(goals)]):
                moment = goal.created_at if what == "created" else goal.completed_at
                assert moment is not None
                found.append((moment, what, goal, None))
        query = (
            select(*_MILESTONE, *_GOAL)
            .join(GoalRow, GoalRow.id == MilestoneRow.goal)
            .where(
                MilestoneRow.completed_at >= low,
                MilestoneRow.completed_at < high,
                self._in_shard(MilestoneRow.bucket),
            )
        )
        rows = [(self._milestone(m, mt), self._goal(g, gt)) for m, mt, g, gt in self._rows(query)]
        self._with_goals([g for _, g in rows])
        for milestone, goal in rows:
            assert milestone.completed_at is not None
            found.append((milestone.completed_at, "completed", goal, milestone))
        return found

    def active_goals(self) -> Iterable[Goal]:
        return self._goals_where()

    def zones(self) -> Collection[str]:
        if self._zones is None:
            query = select(PersonRow.timezone).distinct().order_by(PersonRow.timezone)
            self._zones = [zone for (zone,) in self._rows(query)]
        return self._zones

    def _people_where(self, *conditions: Any, by_shard_index: bool = True) -> list[Person]:
        # `bucket + 0` keeps SQLite off the (timezone, bucket) index where another one is better
        # (a digest's day and time: reading every person of a timezone took 15 ms a query).
        bucket = PersonRow.bucket if by_shard_index else unindexed(PersonRow.bucket)
        query = select(*_PERSON).where(self._in_shard(bucket), *conditions)
        return [self._person(*row) for row in self._rows(query)]

    def people_in(self, zone: str, wanted: Sequence[Person] | None = None) -> Sequence[Person]:
        if wanted is not None:
            return wanted  # the planner's own, already read
        return self._people_where(PersonRow.timezone == zone)

    def digest_people(
        self, zone: str, weekday: int, minutes: tuple[int, int] | None = None
    ) -> Iterable[Person]:
        conditions = [PersonRow.timezone == zone, PersonRow.digest_weekday == weekday]
        if minutes is not None:
            if minutes[0] > minutes[1]:
                return []
            conditions.append(PersonRow.digest_at.between(*minutes))
        people = self._people_where(*conditions, by_shard_index=False)
        # Whether a digest is empty depends first on whether they own an active goal or manage
        # anyone: asked with ids alone (their goals and reports are read only if neither).
        ids = [p.id for p in people]
        self._busy.update(owner for (owner,) in self._in(_OWNING, ids))
        self._busy.update(manager for (manager,) in self._in(_MANAGING, ids))
        self._busy_known.update(ids)
        return people

    def busy(self, person_id: str) -> bool | None:
        return (person_id in self._busy) if person_id in self._busy_known else None

    def people_hired(self) -> Iterable[Person]:
        return self._people_where(PersonRow.hire_day.is_not(None))

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        return self._people_where(PersonRow.hire_day.in_(sorted({m * 100 + d for m, d in days})))

    # -- what was read ---------------------------------------------------------------------------

    def loaded_ids(self, kind: str) -> set[str]:
        """The ids of the records of `kind` ("person", "goal", "milestone") this view has read."""
        tables: dict[str, Mapping[str, object]] = {
            "person": self._people,
            "goal": self._goals,
            "milestone": self._milestones,
        }
        return {ident for ident, found in tables[kind].items() if found is not None}

    def loaded(self) -> dict[str, int]:
        """How many people, goals and milestones this view has read (for reports and benchmarks)."""
        kinds = (("people", "person"), ("goals", "goal"), ("milestones", "milestone"))
        return {name: len(self.loaded_ids(kind)) for name, kind in kinds}

    # -- what changed ---------------------------------------------------------------------------

    def changed_subjects(self, changes: Sequence[OrgChangeRow]) -> frozenset[str] | None:
        """The subjects (of this shard) to plan again for these changes; None: plan everything.

        A person's change reaches their own subjects and those of the people whose meetings they
        attend or whose conditions read them: their reports, mentees, manager and mentors.
        """
        if any(change.kind == ALL for change in changes):
            return None
        people = {c.ident for c in changes if c.kind == "person"}
        goals = {c.ident for c in changes if c.kind == "goal"}
        goals |= {c.parent for c in changes if c.kind == "milestone" and c.parent}
        milestones = {c.ident for c in changes if c.kind == "milestone"}
        if people:
            self.load_people(people)
            self.load_reports_of(people)
            owners = set(people)
            for ident in people:
                person = self._people.get(ident)
                if person is not None:
                    owners |= {r for r in (person.manager, *person.mentors) if r is not None}
                owners |= {r.id for r in self._reports_of[ident]}
            # Their mentees, by the mentorships' index.
            owners |= {mentee for (mentee,) in self._in(_MENTEES_OF, people)}
            self.load_goals_of(owners)
            goals |= {g.id for owner in owners for g in self._goals_of[owner]}
            people = owners
        rows = self._in(_MILESTONE_IDS_OF, goals)
        milestones |= {ident for (ident,) in rows}
        subjects = {
            *(f"person:{p}" for p in people),
            *(f"goal:{g}" for g in goals),
            *(f"milestone:{m}" for m in milestones),
        }
        return frozenset(s for s in subjects if self.shard.low <= bucket(s) < self.shard.high)
