"""Records as stored (JSON of `model_dump(mode="json")`) back into models: the store's one way to
decode them, and the statements that read them as text.

Every record was validated, with the whole organisation, when the snapshot was saved; the
planner's window view reads thousands of them per tick, and validating each again in full
(email syntax above all) would cost more than the planning. So records are validated from their
JSON text by pydantic (in Rust) with the `STORED` context, under which the model skips the checks
against registries and the email syntax: a person takes about 7 µs instead of 34 µs, a goal
5.5 µs, a milestone 3 µs (2.4 µs each when a list of them is validated at once, `decode_all`).
`tests/test_planning_scale.py` holds them equal to validation on the sample organisation.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Boolean, Select, Text, any_, bindparam, cast, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from strides.domain.model import STORED, Goal, Milestone, Person
from strides.store.db import StoreError

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


def decode(model: type[M], text: str | bytes) -> M:
    """A stored record of `model` from its JSON text.

    A key the model no longer has (a field removed since the record was stored) is left out; a
    record the model cannot read at all is a StoreError.
    """
    try:
        return model.model_validate_json(text, context=STORED)
    except ValidationError as exc:
        return _again(model, text, exc)


def person(text: str | bytes) -> Person:
    """A stored person, from its JSON text."""
    return decode(Person, text)


def goal(text: str | bytes) -> Goal:
    """A stored goal, from its JSON text."""
    return decode(Goal, text)


def milestone(text: str | bytes) -> Milestone:
    """A stored milestone, from its JSON text."""
    return decode(Milestone, text)


@functools.cache
def _list_of(model: type[M]) -> TypeAdapter[list[M]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def decode_all(model: type[M], texts: Sequence[str]) -> list[M]:
    """Stored records of `model` from their JSON texts, as `decode` reads each: validated as one
    list, one call into pydantic's core instead of one a record."""
    if not texts:
        return []
    try:
        return _list_of(model).validate_json("[" + ",".join(texts) + "]", context=STORED)
    except ValidationError:
        return [decode(model, text) for text in texts]


def _again(model: type[M], text: str | bytes, error: ValidationError) -> M:
    """`decode` for a record that did not validate as it is: without the keys the model does not
    know, if that is all that was wrong."""
    problems = error.errors(include_url=False, include_context=False, include_input=False)
    if any(p["type"] != "extra_forbidden" for p in problems):
        raise StoreError(f"a stored {model.__name__.lower()} cannot be read: {error}") from error
    data = orjson.loads(text)
    for problem in problems:
        *path, key = problem["loc"]
        parent = data
        for step in path:
            parent = parent[step]
        parent.pop(key, None)
    try:
        return model.model_validate_json(orjson.dumps(data), context=STORED)
    except ValidationError as again:
        raise StoreError(f"a stored {model.__name__.lower()} cannot be read: {again}") from again
