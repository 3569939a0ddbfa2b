"""Save and load the organisation snapshot the planner works from."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from strides.model import Goal, Milestone, Organisation, Person
from strides.store.tables import GoalRow, MilestoneRow, PersonRow


def save_organisation(session: Session, org: Organisation) -> None:
    """Replace the stored snapshot with `org` (in the caller's transaction)."""
    for table in (MilestoneRow, GoalRow, PersonRow):
        session.execute(delete(table))
    session.add_all(
        PersonRow(
            id=p.id,
            email=str(p.email),
            timezone=p.timezone,
            country=p.country,
            manager=p.manager,
            data=p.model_dump(mode="json"),
        )
        for p in org.people.values()
    )
    session.add_all(
        GoalRow(
            id=g.id, owner=g.owner, status=g.status.value, deadline=g.deadline, data=g.model_dump(mode="json")
        )
        for g in org.goals.values()
    )
    session.add_all(
        MilestoneRow(
            id=m.id, goal=m.goal, due=m.due, completed_at=m.completed_at, data=m.model_dump(mode="json")
        )
        for m in org.milestones.values()
    )


def load_organisation(session: Session) -> Organisation:
    people = {row.id: Person.model_validate(row.data) for row in session.scalars(select(PersonRow))}
    goals = {row.id: Goal.model_validate(row.data) for row in session.scalars(select(GoalRow))}
    milestones = {row.id: Milestone.model_validate(row.data) for row in session.scalars(select(MilestoneRow))}
    return Organisation(people=people, goals=goals, milestones=milestones)
