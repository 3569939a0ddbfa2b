"""Records as stored (JSON of `model_dump(mode="json")`) back into models, trusting them.

Every record was validated, with the whole organisation, when the snapshot was saved; the
planner's window view reads thousands of them per tick, and full validation (email syntax
above all) would cost more than the planning. These build the same models without it;
`tests/test_planning_scale.py` holds them equal to validation on the sample organisation.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from strides.model import (
    DigestPreferences,
    Goal,
    GoalStatus,
    Horizon,
    Metric,
    Milestone,
    Person,
    WorkingHours,
)


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def person(data: dict[str, Any]) -> Person:
    hours = data["working_hours"]
    digest = data["digest"]
    return Person.model_construct(
        id=data["id"],
        name=data["name"],
        email=data["email"],
        timezone=data["timezone"],
        country=data["country"],
        subdivision=data["subdivision"],
        locale=data["locale"],
        manager=data["manager"],
        mentors=tuple(data["mentors"]),
        working_hours=WorkingHours.model_construct(
            start=time.fromisoformat(hours["start"]),
            end=time.fromisoformat(hours["end"]),
            days=tuple(hours["days"]),
        ),
        digest=DigestPreferences.model_construct(
            enabled=digest["enabled"],
            weekday=digest["weekday"],
            at=time.fromisoformat(digest["at"]),
            send_empty=digest["send_empty"],
        ),
        hired_on=_day(data["hired_on"]),
    )


def goal(data: dict[str, Any]) -> Goal:
    metric = data["metric"]
    created = _moment(data["created_at"])
    assert created is not None
    return Goal.model_construct(
        id=data["id"],
        owner=data["owner"],
        title=data["title"],
        what=data["what"],
        why=data["why"],
        metric=None if metric is None else Metric.model_construct(**metric),
        deadline=_day(data["deadline"]),
        horizon=Horizon(data["horizon"]),
        status=GoalStatus(data["status"]),
        tags=tuple(data["tags"]),
        created_at=created,
        completed_at=_moment(data["completed_at"]),
    )


def milestone(data: dict[str, Any]) -> Milestone:
    due = _day(data["due"])
    assert due is not None
    return Milestone.model_construct(
        id=data["id"],
        goal=data["goal"],
        title=data["title"],
        due=due,
        completed_at=_moment(data["completed_at"]),
    )
