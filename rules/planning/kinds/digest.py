"""The digest trigger: each person's weekly digest, on their own weekday and at their own time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta

from strides.domain.schema import Rule
from strides.rules.calendar import local_moment
from strides.rules.planning import timing
from strides.rules.planning.kinds.base import TriggerKind
from strides.rules.planning.occasions import Occasion
from strides.rules.planning.planner import NOBODY, Planner


class DigestKind(TriggerKind):
    def reach(self, rule: Rule) -> tuple[timedelta, timedelta]:
        # Each person's own time of their local day: a day each way covers every clock.
        return timedelta(days=1), timedelta(days=1)

    def occasions(self, planner: Planner, rule: Rule, part: int | None = None) -> Iterator[Occasion]:
        for zone in planner.view.zones():
            tz = timing.zone(zone)
            day, last = planner.local_days(tz, self.reach(rule))
            while day <= last:
                # Any time of that day (each person's own `at`), on their own clock: the view is
                # asked for the times of day whose moment can fall in the window (none: nobody).
                start = local_moment(day, time(0), tz)
                end = local_moment(day + timedelta(days=1), time(0), tz)
                if planner.scope(rule, start, end) == NOBODY:
                    minutes = (0, -1)
                else:
                    minutes = timing.wall_minutes(day, tz, *planner.moment_bounds(rule))
                for person in planner.view.digest_people(zone, day.isoweekday(), minutes):
                    if person.digest.enabled:
                        yield Occasion(rule, f"person:{person.id}", person, day)
                day += timedelta(days=1)


KIND = DigestKind()
