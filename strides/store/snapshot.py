"""Save and load the organisation snapshot the planner works from.

Saving compares the new snapshot with the stored one and writes only what differs; each added,
changed or removed record is logged in `org_changes`, so the next tick plans again only the
subjects whose inputs changed (strides.engine.plan_window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete, func, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from strides.domain.choices import OwnChoices
from strides.domain.model import Goal, Milestone, Organisation, Person
from strides.store import records
from strides.store.db import BATCH
from strides.store.shards import bucket
from strides.store.tables import (
    EmailPreferenceRow,
    GoalRow,
    MentorshipRow,
    MilestoneRow,
    OrgChangeRow,
    PersonRow,
)

ALL = "all"
M = TypeVar("M", bound=BaseModel)


def person_row(person: Person) -> dict[str, Any]:
    hired = person.hired_on
    return {
        "id": person.id,
        "email": str(person.email),
        "timezone": person.timezone,
        "country": person.country,
        "manager": person.manager,
        "data": person.model_dump(mode="json"),
        "bucket": bucket(f"person:{person.id}"),
        "digest_weekday": person.digest.weekday,
        "digest_at": person.digest.at.hour * 60 + person.digest.at.minute,
        "hire_day": hired.month * 100 + hired.day if hired else None,
        "mentors": "".join(f";{m}" for m in person.mentors) + ";",
    }


def goal_row(goal: Goal) -> dict[str, Any]:
    return {
        "id": goal.id,
        "owner": goal.owner,
        "status": goal.status.value,
        "deadline": goal.deadline,
        "data": goal.model_dump(mode="json"),
        "bucket": bucket(f"goal:{goal.id}"),
        "created_at": goal.created_at,
        "completed_at": goal.completed_at,
    }


def milestone_row(milestone: Milestone) -> dict[str, Any]:
    return {
        "id": milestone.id,
        "goal": milestone.goal,
        "due": milestone.due,
        "completed_at": milestone.completed_at,
        "data": milestone.model_dump(mode="json"),
        "bucket": bucket(f"milestone:{milestone.id}"),
    }


def own_choices(session: Session) -> dict[str, OwnChoices]:
    """What people set on their preference page, by person (few people set anything)."""
    query = select(EmailPreferenceRow.person_id, EmailPreferenceRow.choices).where(
        EmailPreferenceRow.choices.is_not(None)
    )
    return {person: OwnChoices.model_validate(data) for person, data in session.execute(query) if data}


def update_person(session: Session, person: Person) -> None:
    """Store one person's new version (columns and record), logged for the next tick."""
    row = person_row(person)
    session.execute(update(PersonRow).where(PersonRow.id == person.id).values(row))
    record_changes(session, [("person", person.id, None)])


def update_goal(session: Session, goal: Goal) -> None:
    """Store one goal's new version (its columns and record), logged for the next tick."""
    row = goal_row(goal)
    session.execute(update(GoalRow).where(GoalRow.id == goal.id).values(row))
    record_changes(session, [("goal", goal.id, goal.owner)])


def update_milestone(session: Session, milestone: Milestone) -> None:
    """Store one milestone's new version (its columns and record), logged for the next tick."""
    row = milestone_row(milestone)
    session.execute(update(MilestoneRow).where(MilestoneRow.id == milestone.id).values(row))
    record_changes(session, [("milestone", milestone.id, milestone.goal)])


def record_changes(session: Session, changes: Iterable[tuple[str, str, str | None]]) -> None:
    """Log (kind, id, parent) changes for the next tick."""
    rows = [{"kind": kind, "ident": ident, "parent": parent} for kind, ident, parent in changes]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(OrgChangeRow), rows[start : start + BATCH])


def last_change(session: Session) -> int:
    return session.scalar(select(func.max(OrgChangeRow.id))) or 0


def prune_changes(session: Session, through: int) -> None:
    """Forget logged changes up to `through`: ticks have planned with them and read past them.

    The newest row is always kept: SQLite numbers a new row max(id) + 1, so an emptied log would
    hand out ids the ticks' watermarks have already passed.
    """
    newest = last_change(session)
    session.execute(delete(OrgChangeRow).where(OrgChangeRow.id <= min(through, newest - 1)))


def changes_after(session: Session, seen: int, upto: int) -> list[OrgChangeRow]:
    query = select(OrgChangeRow).where(OrgChangeRow.id > seen, OrgChangeRow.id <= upto)
    return list(session.scalars(query.order_by(OrgChangeRow.id)))


def _sync(
    session: Session,
    table: Any,
    kind: str,
    rows: Sequence[dict[str, Any]],
    parent: str | None,
    changes: list[tuple[str, str, str | None]],
) -> bool:
    """Make the table hold `rows`, logging each change; whether it changed in bulk (see
    `_in_bulk`)."""
    stored = {ident: data for ident, data in session.execute(select(table.id, table.data))}
    new = [r for r in rows if r["id"] not in stored]
    changed = [r for r in rows if r["id"] in stored and stored[r["id"]] != r["data"]]
    wanted = {r["id"] for r in rows}
    gone = [ident for ident in stored if ident not in wanted]
    for start in range(0, len(new), BATCH):
        session.execute(insert(table), new[start : start + BATCH])
    for start in range(0, len(changed), BATCH):
        session.execute(update(table), changed[start : start + BATCH])
    for start in range(0, len(gone), BATCH):
        session.execute(delete(table).where(table.id.in_(gone[start : start + BATCH])))
    if not stored:
        # A first load: one mark instead of a change per record (the next tick plans everything).
        if rows:
            changes.append((ALL, "", None))
        return _in_bulk(len(new), 0)
    for row in (*new, *changed):
        changes.append((kind, row["id"], row[parent] if parent else None))
    for ident in gone:
        changes.append((kind, ident, stored[ident].get(parent) if parent else None))
    return _in_bulk(len(new) + len(changed) + len(gone), len(stored))


def _in_bulk(changed: int, before: int) -> bool:
    """PostgreSQL's own autoanalyze rule: more rows changed than 50 and a tenth of the table."""
    return changed > 50 + before // 10


def _sync_mentorships(session: Session, org: Organisation) -> bool:
    """Who mentors whom, as a table (each person's JSON says it too): a changed mentor's mentees
    are then found by index (`StoreView.changed_subjects`), not by reading every person."""
    stored = {
        (mentee, mentor)
        for mentee, mentor in session.execute(select(MentorshipRow.mentee, MentorshipRow.mentor))
    }
    wanted = {(p.id, m) for p in org.people.values() for m in p.mentors}
    new = [{"mentee": mentee, "mentor": mentor} for mentee, mentor in sorted(wanted - stored)]
    gone = sorted(stored - wanted)
    for start in range(0, len(new), BATCH):
        session.execute(insert(MentorshipRow), new[start : start + BATCH])
    pair = tuple_(MentorshipRow.mentee, MentorshipRow.mentor)
    for start in range(0, len(gone), BATCH // 2):
        session.execute(delete(MentorshipRow).where(pair.in_(gone[start : start + BATCH // 2])))
    return _in_bulk(len(new) + len(gone), len(stored))


def save_organisation(session: Session, org: Organisation) -> int:
    """Make the stored snapshot `org` (in the caller's transaction); returns the changes logged."""
    changes: list[tuple[str, str, str | None]] = []
    moves: dict[Any, bool] = {}
    # The organisation's people as they chose to be mailed (their preference page wins).
    chosen = own_choices(session)
    people = [person_row(chosen[p.id].apply(p) if p.id in chosen else p) for p in org.people.values()]
    moves[PersonRow] = _sync(session, PersonRow, "person", people, None, changes)
    moves[MentorshipRow] = _sync_mentorships(session, org)
    goals = [goal_row(g) for g in org.goals.values()]
    moves[GoalRow] = _sync(session, GoalRow, "goal", goals, "owner", changes)
    milestones = [milestone_row(m) for m in org.milestones.values()]
    moves[MilestoneRow] = _sync(session, MilestoneRow, "milestone", milestones, "goal", changes)
    if any(kind == ALL for kind, _, _ in changes):
        changes = [(ALL, "", None)]
    record_changes(session, changes)
    _refresh_statistics(session, [t for t, moved in moves.items() if moved])
    return len(changes)


def _refresh_statistics(session: Session, tables: Sequence[Any]) -> None:
    """ANALYZE the tables a save changed in bulk, on PostgreSQL.

    Its query planner picks the window queries' indexes by the tables' statistics: without them
    (after a first load, or on a server with autovacuum off) a milestone lookup by goal ran
    as a scan of every milestone due so far, and a 100,000-person day planned in 5.0 s instead of
    2.8 s. Autovacuum would get there later; the next tick may come first. (SQLite's planner is
    left to its own rules: its statements were tuned without statistics.)
    """
    if tables and session.connection().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {', '.join(t.__tablename__ for t in tables)}"))


def has_person(session: Session, person_id: str) -> bool:
    return session.get(PersonRow, person_id) is not None


def count_people(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PersonRow)) or 0


def load_organisation(session: Session) -> Organisation:
    """The whole snapshot, its references checked again (each record is decoded as stored)."""

    def every(model: type[M], table: Any) -> dict[str, M]:
        rows = session.execute(select(*records.stored(table))).all()
        found = records.decode_all(model, [text for _, text in rows])
        return {ident: record for (ident, _), record in zip(rows, found, strict=True)}

    people, goals = every(Person, PersonRow), every(Goal, GoalRow)
    return Organisation(people=people, goals=goals, milestones=every(Milestone, MilestoneRow))
