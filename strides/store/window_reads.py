"""What a window view has read, and reading more: records by id and relationship, in batches.

A record is read as its id and its JSON text, and the text is decoded only the first time an id
is seen (a goal comes back with each of its milestones, an owner with each of their goals).
Records were validated as a whole organisation when stored; the reader trusts them.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import bindparam, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from strides.domain.model import Goal, Milestone, Person
from strides.rules.planning.view import UNMENTORED_MANAGERS, Dues
from strides.store import records
from strides.store.db import BATCH
from strides.store.records import in_values, stored, stored_by
from strides.store.shards import WHOLE, Shard
from strides.store.tables import GoalRow, MilestoneRow, PersonRow
from strides.store.window_queries import AnySelect

T = TypeVar("T")
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


# A record's (id, JSON text) columns.
PERSON, GOAL, MILESTONE = stored(PersonRow), stored(GoalRow), stored(MilestoneRow)
_OPEN_MILESTONES_OF = select(MilestoneRow.goal, MilestoneRow.due, MilestoneRow.completed_at).where(
    in_values(MilestoneRow.goal),
    MilestoneRow.due <= bindparam("due_by"),
    or_(MilestoneRow.completed_at.is_(None), MilestoneRow.completed_at > bindparam("open_after")),
)


class RecordReader:
    """What one session's window view has read, and reading more by id and relationship, in
    batches, each id decoded once; threads planning at once read through connections of their own."""

    def __init__(self, session: Session, shard: Shard = WHOLE) -> None:
        self.session = session
        self.shard = shard
        self._people: dict[str, Person | None] = {}
        self._goals: dict[str, Goal | None] = {}
        self._milestones: dict[str, Milestone | None] = {}
        self._goals_of: dict[str, list[Goal]] = {}
        self._milestones_of: dict[str, list[Milestone]] = {}
        self._reports_of: dict[str, list[Person]] = {}
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
