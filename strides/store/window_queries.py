"""The conditions the planner's window view builds its queries from: days per owner timezone,
open milestones, goals an escalation holds back, recipients' clocks, and columns kept off
SQLite's indexes where another index serves better."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, exists, false, func, null, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from strides.domain.schema import Role
from strides.rules.planning.view import Audience, Quiet, ZoneDays
from strides.store.tables import MentorshipRow, MilestoneRow, PersonRow

# A statement of any columns (SQLAlchemy 2.1 types a select by its columns).
AnySelect = Select[*tuple[Any, ...]]


def zoned(column: Any, by_zone: ZoneDays | None) -> list[Any]:
    """`column` within the days of its owner's timezone, when `by_zone` narrows (else nothing)."""
    return [] if by_zone is None else [per_zone(column, by_zone)]


def within(column: Any, first: date, last: date, by_zone: ZoneDays | None) -> list[Any]:
    """`column` in [first, last], and within its owner's timezone's days when `by_zone` says."""
    return [column.between(first, last), *zoned(column, by_zone)]


def due_in(first: date, last: date, open_at: datetime | None) -> list[Any]:
    """Milestones due in [first, last], and not completed by `open_at` when given."""
    conditions: list[Any] = [MilestoneRow.due.between(first, last)]
    if open_at is not None:
        conditions.append(or_(MilestoneRow.completed_at.is_(None), MilestoneRow.completed_at > open_at))
    return conditions


def holds(goal: Any, quiet: Quiet) -> Any:
    """Does the goal (`goal`: its id, an outer query's column) hold a milestone due by
    `quiet.by` and not completed before `quiet.open_until`?"""
    other = aliased(MilestoneRow)
    return exists().where(
        other.goal == goal,
        other.due <= quiet.by,
        or_(other.completed_at.is_(None), other.completed_at >= quiet.open_until),
    )


def unless(held: Any, text: Any) -> Any:
    """A record's text, NULL where `held`."""
    return case((held, null()), else_=text)


class unindexed(FunctionElement[Any]):
    """A column SQLite must not pick an index by (its planner has no statistics): `column || ''`
    (`column + 0` for a number) there; the column itself on PostgreSQL, whose planner weighs the
    indexes by their statistics and took the expression for a rare value (it then walked every
    person of the named timezones, 0.5 s a statement at 100,000 people)."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _column_itself(element: unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(unindexed, "sqlite")
def _column_as_expression(element: unindexed, compiler: Any, **kw: Any) -> str:
    nothing = "0" if element.type.python_type is int else "''"
    operator = "+" if nothing == "0" else "||"
    return f"({compiler.process(element.clauses, **kw)} {operator} {nothing})"


def per_zone(column: Any, by_zone: ZoneDays, timezone: Any = None) -> Any:
    """`column` within the days of its owner's timezone (`PersonRow` joined as the owner), or
    of the `timezone` given (an expression).

    Timezones sharing a range of days share one condition: a handful for the whole world. The
    timezone is compared as an expression (`timezone || ''`) so that the date's index drives
    the query: SQLite would otherwise walk everyone of those timezones by the timezone index.
    """
    if not by_zone:
        return false()
    zone = unindexed(PersonRow.timezone) if timezone is None else timezone
    grouped: dict[tuple[date, date], list[str]] = defaultdict(list)
    for name, days in by_zone.items():
        grouped[days].append(name)
    return or_(
        *(
            and_(zone.in_(sorted(zones)), column.between(first, last))
            for (first, last), zones in sorted(grouped.items())
        )
    )


def seen_by(query: AnySelect, audience: Audience, by_zone: ZoneDays) -> AnySelect:
    """`query` (milestones with their owners) narrowed to those whose due day lies in the days of
    one of its recipients' timezones: the owner's, the manager's, or a mentor's (a missing one
    counts as whoever the message falls back to: the manager, or the owner a skip is reported at).
    """
    due = MilestoneRow.due
    manager = aliased(PersonRow)
    if Role.MANAGER.value in audience.roles or audience.to_manager:
        query = query.outerjoin(manager, manager.id == PersonRow.manager)
    managed = func.coalesce(manager.timezone, PersonRow.timezone)
    seen = []
    if Role.OWNER.value in audience.roles:
        seen.append(per_zone(due, by_zone))
    if Role.MANAGER.value in audience.roles:
        seen.append(per_zone(due, by_zone, managed))
    if Role.MENTOR.value in audience.roles:
        mentor = aliased(PersonRow)
        mentored = and_(MentorshipRow.mentee == PersonRow.id, mentor.id == MentorshipRow.mentor)
        alone = per_zone(due, by_zone, managed if audience.to_manager else unindexed(PersonRow.timezone))
        seen.append(exists().where(mentored, per_zone(due, by_zone, mentor.timezone)))
        seen.append(and_(~exists().where(mentored), alone))
    return query.where(or_(*seen))
