"""Reacting to one event, and syncing the organisation, as plain functions the flows call.

`react` brings the stored snapshot up to date with what the event reports (when it carries the
new value) and records the messages the change brings; delivery is the caller's next step.
`sync` reloads the organisation from its source and returns what changed, for emitting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from strides import engine
from strides.errors import SourceError
from strides.events import StridesEvent
from strides.integrations.org_files import Rejection, load_organisation
from strides.model import Organisation
from strides.rules import RuleSet, Window
from strides.rules.events import Event
from strides.rules.reactions import Change, Happening, diff, goal_subjects, replan_goal
from strides.rules.reconcile import reconcile
from strides.rules.schema import EventKind, Kind
from strides.store import Store, invites, ledger, slices, snapshot
from strides.store.tables import GoalRow, MessageRow, MilestoneRow, PersonRow

CANCELLED = "cancelled"


@dataclass
class Reaction:
    """What one event did: messages recorded, messages withdrawn, and a word on why."""

    event: str
    about: str
    recorded: int = 0
    cancelled: list[str] = field(default_factory=list)
    note: str = ""


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
    return slices.load_slice(session, sorted(named))


def _set_milestone_done(session: Session, org: Organisation, milestone_id: str, when: datetime) -> None:
    milestone = org.milestones[milestone_id].model_copy(update={"completed_at": when})
    session.execute(
        update(MilestoneRow)
        .where(MilestoneRow.id == milestone_id)
        .values(completed_at=when, data=milestone.model_dump(mode="json"))
    )
    snapshot.record_changes(session, [("milestone", milestone_id, milestone.goal)])


def _set_deadline(session: Session, org: Organisation, goal_id: str, deadline: date | None) -> None:
    goal = org.goals[goal_id].model_copy(update={"deadline": deadline})
    session.execute(
        update(GoalRow)
        .where(GoalRow.id == goal_id)
        .values(deadline=deadline, data=goal.model_dump(mode="json"))
    )
    snapshot.record_changes(session, [("goal", goal_id, goal.owner)])


def _milestone_completed(
    session: Session, org: Organisation, rules: RuleSet, event: StridesEvent, now: datetime, out: Reaction
) -> None:
    milestone_id = str(event.payload.get("milestone") or "")
    milestone = org.milestones.get(milestone_id)
    if milestone is None or f"goal:{milestone.goal}" != event.about:
        out.note = f"unknown milestone {milestone_id!r} of {event.about}"
        return
    reported = event.payload.get("completed_at")
    if milestone.completed_at is None:
        when = datetime.fromisoformat(str(reported)) if reported else now
        if when.tzinfo is None:
            out.note = f"completed_at {reported!r} has no timezone"
            return
        _set_milestone_done(session, org, milestone_id, when)
        org = goal_slice(session, milestone.goal)
    completed = org.milestones[milestone_id]
    assert completed.completed_at is not None
    # The rule pack's milestone.completed rules decide (the congratulation among them). A tick that
    # later sees the same completion in the snapshot plans the same keys, so nothing goes twice.
    happened = Event(EventKind.MILESTONE_COMPLETED, completed.completed_at, completed.goal, milestone_id)
    # Notices into the ledger, invites through the invite lifecycle (engine.record_event).
    out.recorded = engine.record_event(session, rules, org, happened, now).planned
    out.note = "congratulated" if out.recorded else "already congratulated"


def _pending_about(session: Session, subjects: frozenset[str]) -> list[MessageRow]:
    query = select(MessageRow).where(
        MessageRow.subject.in_(subjects), MessageRow.status.in_((ledger.PENDING, ledger.FAILED))
    )
    return list(session.scalars(query))


def _deadline_moved(
    session: Session, org: Organisation, rules: RuleSet, event: StridesEvent, now: datetime, out: Reaction
) -> None:
    goal_id = event.about.split(":", 1)[1]
    if goal_id not in org.goals:
        out.note = f"unknown goal {goal_id!r}"
        return
    if "deadline" in event.payload:
        reported = event.payload["deadline"]
        deadline = date.fromisoformat(str(reported)) if reported else None
        if org.goals[goal_id].deadline != deadline:
            _set_deadline(session, org, goal_id, deadline)
            org = goal_slice(session, goal_id)
    # Re-plan what the ledger has planned so far for this goal, under the new deadline.
    pending = _pending_about(session, goal_subjects(org, goal_id))
    end = ledger.last_tick_end(session) or now
    start = min([row.send_at for row in pending] + [end - timedelta(days=1)])
    window = Window(start - timedelta(minutes=1), end)
    # Meetings go through the invite lifecycle (rules/reconcile.py): the goal's review is updated
    # with SEQUENCE + 1 under its own UID, never invited to a second time.
    subjects = goal_subjects(org, goal_id)
    # Meetings of event rules are the event side's to change (engine.record_event).
    events = engine.event_rule_ids(rules)
    known = [
        m
        for m in invites.upcoming(session, after=window.start)
        if m.subject in subjects and m.rule_id not in events
    ]
    wanted = replan_goal(rules, org, goal_id, window, known={m.uid: m.subject for m in known})
    notices = [i for i in wanted.intents if i.meeting is None]
    meetings = {i.meeting.uid: i for i in wanted.intents if i.meeting is not None}
    keep = {i.key for i in notices}
    out.cancelled = [row.key for row in pending if row.key not in keep and row.kind != Kind.INVITE.value]
    if out.cancelled:
        session.execute(
            update(MessageRow)
            .where(MessageRow.key.in_(out.cancelled), MessageRow.status.in_((ledger.PENDING, ledger.FAILED)))
            .values(status=CANCELLED, last_error=f"deadline moved at {now.isoformat()}")
        )
    out.recorded = ledger.record(session, notices, org, now)
    sent = [*known, *invites.load(session, meetings.keys() - {m.uid for m in known})]
    out.recorded += invites.apply(session, reconcile(meetings.values(), sent, window, now), org, now)
    out.note = f"re-planned {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M}"


def react(store: Store, rules: RuleSet, event: StridesEvent, now: datetime) -> Reaction:
    """Apply one event to the store, in one transaction, reading only the goal's slice."""
    out = Reaction(event.name, event.about)
    kind, _, ident = event.about.partition(":")
    with store.session() as session:
        # Both reactions concern a goal; anything else finds nothing to act on.
        org = (
            goal_slice(session, ident)
            if kind == "goal"
            else Organisation.model_construct(people={}, goals={}, milestones={})
        )
        if event.name == Change.MILESTONE_COMPLETED:
            _milestone_completed(session, org, rules, event, now, out)
        elif event.name == Change.DEADLINE_MOVED:
            _deadline_moved(session, org, rules, event, now, out)
        else:
            out.note = "nothing to do"
    return out


@dataclass(frozen=True)
class SyncOutcome:
    changes: list[Happening]
    rejected: list[Rejection]
    people: int


def sync(store: Store, source: Path) -> SyncOutcome:
    """Reload the organisation from `source`, store it, and return what changed."""
    loaded = load_organisation(source)
    if not loaded.organisation.people and loaded.rejected:
        raise SourceError(f"{source}: nothing could be loaded ({len(loaded.rejected)} records rejected)")
    with store.session() as session:
        before = snapshot.load_organisation(session)
        changes = diff(before, loaded.organisation)
        if changes:
            snapshot.save_organisation(session, loaded.organisation)
    return SyncOutcome(changes, list(loaded.rejected), len(loaded.organisation.people))
