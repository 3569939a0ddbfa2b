"""The reference planning view: every window question answered by scanning every record, every hint
ignored.

An `OrgView` (strides/rules/planning/view.py) as naive as one can be: goals by deadline, milestones
by due day, people by anniversary... each a scan of the whole organisation; every narrowing hint
(`by_zone`, `open_at`, `audience`, `quiet`, `wanted`, `minutes`, `days`) ignored, so every
cadence walks every person of every timezone on every day. The planner filters each record
exactly, so planning over this view plans the same messages as over the narrowed views; the tests
hold them equal, and the planning benchmark's naive peer is the planner over this view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.rules.planning.view import Audience, Dues, Moment, OrgRecords, Quiet, Quieted, ZoneDays


class ScanView(OrgRecords):
    """Records by id and relationship from the organisation's own lookups; every window question
    below is a scan."""

    def __init__(self, org: Organisation) -> None:
        super().__init__(org)
        self._by_zone: dict[str, list[Person]] = defaultdict(list)
        for person in org.people.values():
            self._by_zone[person.timezone].append(person)

    # -- people ------------------------------------------------------------------------------------

    def zones(self) -> Collection[str]:
        return list(self._by_zone)

    def people_in(self, zone: str, wanted: Sequence[Person] | None = None) -> Sequence[Person]:
        return self._by_zone.get(zone, [])

    def digest_people(
        self, zone: str, weekday: int, minutes: tuple[int, int] | None = None
    ) -> Iterable[Person]:
        return [p for p in self.people_in(zone) if p.digest.weekday == weekday]

    def people_hired(self) -> Iterable[Person]:
        return [p for p in self.org.people.values() if p.hired_on is not None]

    def hired_on_days(self, days: Iterable[tuple[int, int]]) -> Iterable[Person]:
        return self.people_hired()

    def busy(self, person_id: str) -> bool | None:
        return None

    # -- goals and milestones by day ---------------------------------------------------------------

    def _active(self) -> Iterator[Goal]:
        for goal in self.org.goals.values():
            if goal.status is GoalStatus.ACTIVE and goal.owner in self.org.people:
                yield goal

    def goals_due(self, first: date, last: date, by_zone: ZoneDays | None = None) -> Iterable[Goal]:
        return [g for g in self._active() if g.deadline is not None and first <= g.deadline <= last]

    def quiet_goals_due(
        self, first: date, last: date, by_zone: ZoneDays | None, quiet: Quiet
    ) -> tuple[Iterable[Goal], Sequence[Quieted]]:
        return self.goals_due(first, last), ()

    def goals_created(self, first: date, last: date) -> Iterable[Goal]:
        people = self.org.people
        return [
            g for g in self._active() if first <= g.created_at.astimezone(people[g.owner].tz).date() <= last
        ]

    def active_goals(self) -> Iterable[Goal]:
        return list(self._active())

    def milestones_due(
        self,
        first: date,
        last: date,
        by_zone: ZoneDays | None = None,
        open_at: datetime | None = None,
        audience: Audience | None = None,
    ) -> Iterable[Milestone]:
        active = {g.id for g in self._active()}
        return [m for m in self.org.milestones.values() if m.goal in active and first <= m.due <= last]

    def quiet_milestones_due(
        self, first: date, last: date, by_zone: ZoneDays | None, open_at: datetime, quiet: Quiet
    ) -> tuple[Iterable[Milestone], Sequence[Quieted]]:
        return self.milestones_due(first, last), ()

    def milestones_due_before(self, last: date) -> Iterable[Milestone]:
        active = {g.id for g in self._active()}
        return [m for m in self.org.milestones.values() if m.goal in active and m.due <= last]

    def open_milestones_of(self, goal_id: str, due_by: date, open_after: datetime) -> Sequence[Dues] | None:
        return None

    def moments(self, first: date, last: date) -> Iterable[Moment]:
        found: list[Moment] = []
        goals = self.org.goals
        for goal in goals.values():
            for what, moment in (("created", goal.created_at), ("completed", goal.completed_at)):
                if moment is not None and first <= moment.astimezone(UTC).date() <= last:
                    found.append((moment, what, goal, None))
        for milestone in self.org.milestones.values():
            done = milestone.completed_at
            if done is not None and milestone.goal in goals and first <= done.astimezone(UTC).date() <= last:
                found.append((done, "completed", goals[milestone.goal], milestone))
        return found

    # -- hints: all ignored --------------------------------------------------------------------------

    def prefetch_related(
        self, people: Iterable[Person], roles: Collection[str] = ("manager", "mentor")
    ) -> None:
        return None

    def prefetch_subjects(self, subjects: Iterable[str]) -> None:
        return None

    def prefetch_open_milestones(self, goal_ids: Iterable[str], due_by: date, open_after: datetime) -> None:
        return None
