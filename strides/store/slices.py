"""Part of the snapshot: what delivering a chunk of messages needs, not the whole organisation.

Loading 100,000 people to send 500 messages would make every delivery chunk cost as much as a
whole tick's planning. A slice holds the recipients (and meeting attendees), their direct
reports (digests summarise them), and the goals and milestones of all of these. References
beyond the slice (a recipient's own manager, say) stay unresolved: the slice is built without
the organisation's whole-graph validation, which the full snapshot already passed when stored;
its records are decoded as stored ones (strides.store.records).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from strides.domain.model import Goal, GoalStatus, Milestone, Organisation, Person
from strides.rules.digest import Named, ReportFacts
from strides.store import records
from strides.store.db import BATCH
from strides.store.records import stored_by
from strides.store.tables import GoalRow, MilestoneRow, PersonRow

M = TypeVar("M", bound=BaseModel)


def _records(
    session: Session, query: Select[Any], values: Iterable[str], **params: Any
) -> Iterator[tuple[str, str]]:
    """(id, the stored JSON text) of the rows `query` (one of `stored_by`) finds for `values`, in
    batches: no ORM objects, no Python-side JSON decoding (pydantic reads the text in Rust)."""
    batch = sorted(set(values))
    for start in range(0, len(batch), BATCH):
        bound = {"values": batch[start : start + BATCH], **params}
        yield from ((key, text) for key, text in session.execute(query, bound))


@functools.cache
def _milestones_in_span() -> Select[Any]:
    m = MilestoneRow
    shown = or_(
        and_(m.completed_at.is_(None), m.due <= bindparam("until")),
        m.completed_at >= bindparam("since"),
    )
    return stored_by(MilestoneRow, MilestoneRow.goal).where(shown)


def _models(model: type[M], rows: Iterable[tuple[str, str]]) -> dict[str, M]:
    """The rows' records by id, decoded as one list (`records.decode_all`)."""
    keys, texts = [], []
    for key, text in rows:
        keys.append(key)
        texts.append(text)
    return dict(zip(keys, records.decode_all(model, texts), strict=True))


def load_person(session: Session, person_id: str) -> Person | None:
    """One person's record alone (a calendar feed needs their name, not the organisation)."""
    found = _models(Person, _records(session, stored_by(PersonRow, PersonRow.id), [person_id]))
    return found.get(person_id)


def load_slice(
    session: Session,
    person_ids: Sequence[str],
    *,
    reports: bool = True,
    digests: tuple[datetime, date] | None = None,
) -> Organisation:
    """The people named, their direct reports (unless `reports` is False), and the goals and
    milestones of all of them.

    `digests` (wins since, due until): only the milestones a digest of that span can show, the
    open ones due by then and those completed since (a chunk's milestones serve its digests only).
    """
    people: dict[str, Person] = dict(
        _models(Person, _records(session, stored_by(PersonRow, PersonRow.id), person_ids))
    )
    if reports:
        found = _records(session, stored_by(PersonRow, PersonRow.manager), list(people))
        people.update(_models(Person, ((k, t) for k, t in found if k not in people)))
    goals = _models(Goal, _records(session, stored_by(GoalRow, GoalRow.owner), list(people)))
    if digests is None:
        found = _records(session, stored_by(MilestoneRow, MilestoneRow.goal), list(goals))
    else:
        since, until = digests
        found = _records(session, _milestones_in_span(), list(goals), since=since, until=until)
    milestones = _models(Milestone, found)
    return Organisation.model_construct(people=people, goals=goals, milestones=milestones)


def report_facts(
    session: Session, managers: Iterable[str], since: datetime, until: date, upto: datetime
) -> dict[str, list[ReportFacts]]:
    """The direct reports of `managers`, as the facts their digests roll up, by manager.

    Read from the columns in one query per table (per 900 managers), not by loading and validating
    every report's person, goals and milestones: a chunk of 1,000 managers' digests would otherwise
    read about 17 whole records per digest. Only what can count is read: open milestones of active
    goals due before `until` (the latest local "today" of the chunk's digests, plus a day), and
    milestones completed between `since` and `upto` (the chunk's earliest week start and latest
    digest moment); `strides.rules.digest.report_line` decides for each digest.
    """
    found: dict[str, list[ReportFacts]] = {}
    batch = sorted(set(managers))
    for start in range(0, len(batch), BATCH):
        part = batch[start : start + BATCH]
        mine = PersonRow.manager.in_(part)
        people = session.execute(
            select(PersonRow.id, PersonRow.manager, PersonRow.data["name"].as_string()).where(mine)
        ).all()
        if not people:
            continue
        of_reports = select(PersonRow.id).where(mine).scalar_subquery()
        active = GoalRow.status == GoalStatus.ACTIVE.value
        counts = dict(
            session.execute(
                select(GoalRow.owner, func.count())
                .where(GoalRow.owner.in_(of_reports), active)
                .group_by(GoalRow.owner)
            ).all()
        )
        # One query for both: the goals first (by owner), then their milestones (by goal).
        due: dict[str, list[date]] = {}
        done: dict[str, list[datetime]] = {}
        rows = session.execute(
            select(GoalRow.owner, MilestoneRow.due, MilestoneRow.completed_at)
            .join(GoalRow, MilestoneRow.goal == GoalRow.id)
            .where(
                GoalRow.owner.in_(of_reports),
                or_(
                    and_(MilestoneRow.completed_at.is_(None), active, MilestoneRow.due < until),
                    and_(MilestoneRow.completed_at >= since, MilestoneRow.completed_at <= upto),
                ),
            )
        )
        for owner, when, completed in rows:
            if completed is None:
                due.setdefault(owner, []).append(when)
            else:
                done.setdefault(owner, []).append(completed)
        for pid, manager, name in people:
            facts = ReportFacts(
                Named(pid, name), counts.get(pid, 0), tuple(due.get(pid, ())), tuple(done.get(pid, ()))
            )
            found.setdefault(manager, []).append(facts)
    return found


def goal_slice(session: Session, goal_id: str) -> Organisation:
    """What reacting to an event about one goal needs, not the whole organisation: the owner and
    everyone a rule may address about them (manager, skip-level, mentors), with their direct
    reports (the owner's count shows in rule conditions) and the goals and milestones of all of
    these. Empty when the goal is unknown. One event in an organisation of 100,000 people reads a
    few dozen rows instead of the whole snapshot."""
    goal = session.get(GoalRow, goal_id)
    owner = session.get(PersonRow, goal.owner) if goal else None
    if owner is None:
        return Organisation.model_construct(people={}, goals={}, milestones={})
    named = {owner.id, *map(str, owner.data.get("mentors") or ())}
    manager = session.get(PersonRow, owner.manager) if owner.manager else None
    if manager is not None:
        named.add(manager.id)
        if manager.manager:
            named.add(manager.manager)
    return load_slice(session, sorted(named))
