"""Records as stored (JSON of `model_dump(mode="json")`) back into models, trusting them.

Every record was validated, with the whole organisation, when the snapshot was saved; the
planner's window view reads thousands of them per tick, and full validation (email syntax
above all) would cost more than the planning. These build the same models without it;
`tests/test_planning_scale.py` holds them equal to validation on the sample organisation.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Boolean, Select, Text, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from strides.domain.model import (
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


def stored(table: Any) -> tuple[Any, Any]:
    """A snapshot table's (id, JSON text) columns: records are read as text and decoded (or
    validated) in Python, never through the ORM."""
    return table.id, cast(table.data, Text)


class in_values(FunctionElement[bool]):
    """`column IN (:values)`, the list bound at execution: a statement is built once, not per
    batch (building it coerced each of a batch's values again).

    On PostgreSQL it is `column = ANY(:values)`, the list bound as one array: expanded, a batch of
    900 ids was 900 parameters that SQLAlchemy rendered into the statement's text and psycopg
    parsed again on every execution (such a lookup took 2.86 ms at the driver, 2.02 ms as an
    array; the planner's CPU on a 100,000-person steady day, median, went from 1.187 to 1.145 s).
    """

    inherit_cache = True
    name = "in_values"
    type = Boolean()
    # A condition in itself (SQLite would otherwise compare it with 1).
    _is_implicitly_boolean = True

    def __init__(self, column: Any) -> None:
        super().__init__(column, bindparam("values", expanding=True))


@compiles(in_values)
def _in_expanded(element: in_values, compiler: Any, **kw: Any) -> str:
    column, values = element.clauses
    return str(compiler.process(column.in_(values), **kw))


@compiles(in_values, "postgresql")
def _in_array(element: in_values, compiler: Any, **kw: Any) -> str:
    column, _ = element.clauses
    return str(compiler.process(column == any_(bindparam("values", type_=ARRAY(column.type))), **kw))


@functools.cache
def stored_by(table: Any, column: Any) -> Select[Any]:
    """(id, JSON text) of the table's records whose `column` is in `:values`."""
    return select(*stored(table)).where(in_values(column))


# A model's four slots, set through their descriptors (half the cost of `object.__setattr__`).
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def _build(cls: type[M], **values: Any) -> M:
    """`cls.model_construct(**values)` for values that name every field, without its per-field loop."""
    model = _new(cls)
    _set_dict(model, values)
    _set_fields(model, set(values))
    _set_extra(model, None)
    _set_private(model, None)
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


def _adopt(cls: type[M], data: dict[str, Any], fields: set[str]) -> M:
    """The decoded record itself as the model's fields, its typed values converted in place (no
    copy): stored records carry exactly the model's fields, anything else is left out.

    Every field is set, so all records of a model share one set of set fields (the models are
    frozen: pydantic copies that set before changing it, in `model_copy`).
    """
    if data.keys() != fields:
        data = {name: data[name] for name in cls.model_fields}
    model = _new(cls)
    _set_dict(model, data)
    _set_fields(model, fields)
    _set_extra(model, None)
    _set_private(model, None)
    return model


_PERSON = set(Person.model_fields)
_GOAL = set(Goal.model_fields)
_MILESTONE = set(Milestone.model_fields)
_HORIZONS = {h.value: h for h in Horizon}
_STATUSES = {s.value: s for s in GoalStatus}


def person(data: dict[str, Any]) -> Person:
    """A stored person (the decoded JSON, which becomes the model's fields)."""
    data["mentors"] = tuple(data["mentors"])
    data["working_hours"] = _hours(data["working_hours"])
    data["digest"] = _digest(data["digest"])
    data["hired_on"] = _day(data["hired_on"])
    return _adopt(Person, data, _PERSON)


def goal(data: dict[str, Any]) -> Goal:
    """A stored goal (the decoded JSON, which becomes the model's fields)."""
    metric = data["metric"]
    if metric is not None:
        data["metric"] = _build(Metric, **metric)
    data["deadline"] = _day(data["deadline"])
    data["horizon"] = _HORIZONS[data["horizon"]]
    data["status"] = _STATUSES[data["status"]]
    data["tags"] = tuple(data["tags"])
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["completed_at"] = _moment(data["completed_at"])
    return _adopt(Goal, data, _GOAL)


def milestone(data: dict[str, Any]) -> Milestone:
    """A stored milestone (the decoded JSON, which becomes the model's fields)."""
    data["due"] = date.fromisoformat(data["due"])
    data["completed_at"] = _moment(data["completed_at"])
    return _adopt(Milestone, data, _MILESTONE)
