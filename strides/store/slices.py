"""Part of the snapshot: what delivering a chunk of messages needs, not the whole organisation.

Loading 100,000 people to send 500 messages would make every delivery chunk cost as much as a
whole tick's planning. A slice holds the recipients (and meeting attendees), their direct
reports (digests summarise them), and the goals and milestones of all of these. References
beyond the slice (a recipient's own manager, say) stay unresolved: the slice is built without
the organisation's whole-graph validation, which the full snapshot already passed when stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from strides.model import Goal, Milestone, Organisation, Person
from strides.store.tables import GoalRow, MilestoneRow, PersonRow

BATCH = 900  # under SQLite's bound-parameter limit
Row = TypeVar("Row", PersonRow, GoalRow, MilestoneRow)


def _rows(session: Session, table: type[Row], column: Any, values: Iterable[str]) -> list[Row]:
    found: list[Row] = []
    batch = sorted(set(values))
    for start in range(0, len(batch), BATCH):
        found += session.scalars(select(table).where(column.in_(batch[start : start + BATCH])))
    return found


def load_slice(session: Session, person_ids: Sequence[str]) -> Organisation:
    """The people named, their direct reports, and the goals and milestones of all of them."""
    people = {
        r.id: Person.model_validate(r.data) for r in _rows(session, PersonRow, PersonRow.id, person_ids)
    }
    for row in _rows(session, PersonRow, PersonRow.manager, list(people)):
        people.setdefault(row.id, Person.model_validate(row.data))
    goals = {r.id: Goal.model_validate(r.data) for r in _rows(session, GoalRow, GoalRow.owner, list(people))}
    milestones = {
        r.id: Milestone.model_validate(r.data)
        for r in _rows(session, MilestoneRow, MilestoneRow.goal, list(goals))
    }
    return Organisation.model_construct(people=people, goals=goals, milestones=milestones)
