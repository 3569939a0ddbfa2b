"""Reacting to one event as plain functions the flows call.

`react` brings the stored snapshot up to date with what the event reports (when it carries the
new value) and records the messages the change brings; delivery is the caller's next step.
`record_event` records what the event rules want for one event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.domain.schema import EventKind, Kind
from strides.engine.calendars import CalendarBookings, Calendars
from strides.engine.plan import PlanOutcome
from strides.integrations.events import StridesEvent
from strides.rules import Window, plan_event
from strides.rules.events import Event, event_rule_ids
from strides.rules.reactions import Change, goal_subjects, replan_goal
from strides.rules.reconcile import reconcile
from strides.store import Session, Store, invites, ledger, skips, slices, snapshot
from strides.store.bookings import StoreBookings


@dataclass
class Reaction:
    """What one event did: messages recorded, messages withdrawn, and a word on why."""

    event: str
    about: str
    recorded: int = 0
    cancelled: list[str] = field(default_factory=list)
    note: str = ""


def event_subject(event: Event) -> str:
    """The subject an event's messages are keyed under."""
    return f"milestone:{event.milestone}" if event.milestone else f"goal:{event.goal}"


def record_event(
    session: Session,
    rules: RuleSet,
    org: Organisation,
    event: Event,
    now: datetime,
    calendars: Calendars | None = None,
) -> PlanOutcome:
    """What the event rules want for one event, recorded in the caller's transaction.

    Notices go into the ledger (a key already there is left alone); invites go through the
    invite lifecycle (rules/reconcile.py) against the meetings this event's rules hold for the
    event's subject, and only those can be cancelled. So the same event twice records nothing new,
    and a tick that reads the same completion from the state plans the same keys and UIDs.
    `org` may be a slice that holds the goal, its owner and the people rules address about them.
    Meetings are placed around the attendees' own calendars too, read through `calendars`.
    """
    bookings = CalendarBookings(StoreBookings(session), org.people, calendars or Calendars())
    result = plan_event(rules, org, event, now, bookings=bookings)
    notices = [i for i in result.intents if i.meeting is None]
    wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
    subject, mine = event_subject(event), event_rule_ids(rules, event.kind)
    held = [m for m in invites.upcoming_about(session, [subject], after=now) if m.rule_id in mine]
    sent = [*held, *invites.load(session, wanted.keys() - {m.uid for m in held})]
    window = Window(now, now + timedelta(days=3660))
    new = ledger.record(session, notices, org, now)
    new += invites.apply(session, reconcile(wanted.values(), sent, window, now), org, now)
    new_skips = skips.record(session, result.skips, org, now)
    return PlanOutcome(window, new, len(result.intents), result.skips, new_skips, tuple(bookings.warnings))


def plan_event_window(store: Store, rules: RuleSet, event: Event, now: datetime) -> PlanOutcome:
    """Plan what the event rules want for one event (some messages may be for later) into the store,
    in one transaction (see `record_event`)."""
    with store.session() as session:
        return record_event(session, rules, snapshot.load_organisation(session), event, now)


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
        snapshot.update_milestone(session, milestone.model_copy(update={"completed_at": when}))
        org = slices.goal_slice(session, milestone.goal)
    completed = org.milestones[milestone_id]
    assert completed.completed_at is not None
    # The rule pack's milestone.completed rules decide (the congratulation among them). A tick that
    # later sees the same completion in the snapshot plans the same keys, so nothing goes twice.
    happened = Event(EventKind.MILESTONE_COMPLETED, completed.completed_at, completed.goal, milestone_id)
    # Notices into the ledger, invites through the invite lifecycle (`record_event`).
    out.recorded = record_event(session, rules, org, happened, now).planned
    out.note = "congratulated" if out.recorded else "already congratulated"


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
            snapshot.update_goal(session, org.goals[goal_id].model_copy(update={"deadline": deadline}))
            org = slices.goal_slice(session, goal_id)
    # Re-plan what the ledger has planned so far for this goal, under the new deadline.
    subjects = goal_subjects(org, goal_id)
    pending = ledger.pending_about(session, subjects)
    end = ledger.last_tick_end(session) or now
    start = min([row.send_at for row in pending] + [end - timedelta(days=1)])
    window = Window(start - timedelta(minutes=1), end)
    # Meetings go through the invite lifecycle (rules/reconcile.py): the goal's review is updated
    # with SEQUENCE + 1 under its own UID, never invited to a second time.
    # Meetings of event rules are the event side's to change (`record_event`).
    events = event_rule_ids(rules)
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
    ledger.cancel_pending(session, out.cancelled, f"deadline moved at {now.isoformat()}")
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
            slices.goal_slice(session, ident)
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
