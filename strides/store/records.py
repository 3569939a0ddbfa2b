"""Records as stored (JSON of `model_dump(mode="json")`) back into models, trusting them.

Every record was validated, with the whole organisation, when the snapshot was saved; the
planner's window view reads thousands of them per tick, and full validation (email syntax
above all) would cost more than the planning. These build the same models without it;
`tests/test_planning_scale.py` holds them equal to validation on the sample organisation.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, TypeVar

from pydantic import BaseModel

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

M = TypeVar("M", bound=BaseModel)


_set = object.__setattr__


def _build(cls: type[M], **values: Any) -> M:
    """`cls.model_construct(**values)` for values that name every field, without its per-field loop."""
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


# Working hours and digest preferences repeat across people (a handful of shapes in an
# organisation), and the models are frozen: each shape is built once and shared.
_HOURS: dict[tuple[str, str, tuple[int, ...]], WorkingHours] = {}
_DIGESTS: dict[tuple[bool, int, str, bool], DigestPreferences] = {}


def _hours(data: dict[str, Any]) -> WorkingHours:
    key = (data["start"], data["end"], tuple(data["days"]))
    found = _HOURS.get(key)
    if found is None:
        found = _HOURS[key] = _build(
            WorkingHours, start=time.fromisoformat(key[0]), end=time.fromisoformat(key[1]), days=key[2]
        )
    return found


def _digest(data: dict[str, Any]) -> DigestPreferences:
    key = (data["enabled"], data["weekday"], data["at"], data["send_empty"])
    found = _DIGESTS.get(key)
    if found is None:
        at = time.fromisoformat(key[2])
        found = _DIGESTS[key] = _build(
            DigestPreferences, enabled=key[0], weekday=key[1], at=at, send_empty=key[3]
        )
    return found


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def person(data: dict[str, Any]) -> Person:
    hired = data["hired_on"]
    return _build(
        Person,
        id=data["id"],
        name=data["name"],
        email=data["email"],
        timezone=data["timezone"],
        country=data["country"],
        subdivision=data["subdivision"],
        locale=data["locale"],
        manager=data["manager"],
        mentors=tuple(data["mentors"]),
        working_hours=_hours(data["working_hours"]),
        digest=_digest(data["digest"]),
        hired_on=None if hired is None else date.fromisoformat(hired),
    )


def goal(data: dict[str, Any]) -> Goal:
    metric = data["metric"]
    created = _moment(data["created_at"])
    assert created is not None
    return _build(
        Goal,
        id=data["id"],
        owner=data["owner"],
        title=data["title"],
        what=data["what"],
        why=data["why"],
        metric=None if metric is None else _build(Metric, **metric),
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
    return _build(
        Milestone,
        id=data["id"],
        goal=data["goal"],
        title=data["title"],
        due=due,
        completed_at=_moment(data["completed_at"]),
    )
