"""The organisation as one planning window sees it: indexed SQL queries instead of the whole snapshot.

`StoreView` is the store's `OrgView` (strides/rules/planning/view.py): it answers the planner's
window questions (goals by deadline and creation day, milestones by due day, people by timezone,
digest weekday and hire anniversary, creations and completions by day) with queries on indexed
date columns, honouring every narrowing hint, and its lookups by id and relationship from what
those queries loaded, reading the rest in batches (`window_reads.RecordReader`). So a tick reads
the records its window can touch and the people they reference, not the organisation. A `Shard`
keeps every query to a range of subject buckets.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from strides.domain.model import Goal, GoalStatus, Milestone, Person
from strides.rules.planning.view import (
    Audience,
    Moment,
    Quiet,
    Quieted,
    ZoneDays,
)
from strides.store.records import in_values
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
from strides.store.window_reads import GOAL, MILESTONE, PERSON, RecordReader

ACTIVE = GoalStatus.ACTIVE.value
_MENTEES_OF = select(MentorshipRow.mentee).where(in_values(MentorshipRow.mentor))
_MILESTONE_IDS_OF = select(MilestoneRow.id).where(in_values(MilestoneRow.goal))
_OWNING = select(GoalRow.owner).distinct().where(in_values(GoalRow.owner), GoalRow.status == ACTIVE)
_MANAGING = select(PersonRow.manager).distinct().where(in_values(PersonRow.manager))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


class StoreView(RecordReader):
    """One session's view for planning one window (one shard of it): an `OrgView`."""

    def __init__(self, session: Session, shard: Shard = WHOLE) -> None:
        super().__init__(session, shard)
        self._zones: list[str] | None = None
        # Of the people asked about (`_busy_known`), those who own an active goal or manage anyone.
        self._busy: set[str] = set()
        self._busy_known: set[str] = set()

    # -- window questions -----------------------------------------------------------------------

    def _goals_of_owners(self, *columns: Any, conditions: Sequence[Any]) -> AnySelect:
        """`columns` of active goals (of known owners) joined with their owners, where `conditions`."""
        return (
            select(*columns)
            .join(PersonRow, PersonRow.id == GoalRow.owner)
            .where(GoalRow.status == ACTIVE, self._in_shard(GoalRow.bucket), *conditions)
        )

    def _goals_where(self, *conditions: Any) -> list[Goal]:
        """Active goals (of known owners), read with their owners."""
        return self._with_owners(self._rows(self._goals_of_owners(*GOAL, *PERSON, conditions=conditions)))

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
            unless(held, GOAL[1]),
            PersonRow.id,
            unless(held, PERSON[1]),
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
        query = self._milestones_of_goals(*MILESTONE, *GOAL, *PERSON, conditions=conditions)
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
            unless(held, MILESTONE[1]),
            GoalRow.id,
            unless(held, GOAL[1]),
            PersonRow.id,
            unless(held, PERSON[1]),
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
            goals = select(*GOAL).where(column >= low, column < high, self._in_shard(GoalRow.bucket))
            for goal in self._with_goals([self._goal(*row) for row in self._rows(goals)]):
                moment = goal.created_at if what == "created" else goal.completed_at
                assert moment is not None
                found.append((moment, what, goal, None))
        query = (
            select(*MILESTONE, *GOAL)
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
        query = select(*PERSON).where(self._in_shard(bucket), *conditions)
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
