"""From an occasion to intended messages: whether it applies, who gets it, when, and what it says.

Invites become one meeting for all attendees (placed in their calendars afterwards: `placing`);
notices and digests arrive at the local time of whoever receives them.
Conditions see `now` as the planner's (the window's end, or an event's moment), and one CEL context
is built per record (person, goal, milestone) and reused by every rule's condition.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container, Sequence
from datetime import UTC, datetime
from typing import Any

from strides.domain.conditions import (
    build_context,
    compile_condition,
    evaluate,
    goal_view,
    milestone_view,
    person_view,
)
from strides.domain.model import GoalStatus, Person
from strides.domain.schema import Kind, Role
from strides.domain.templates import names, render_text
from strides.rules.digest import compose_digest
from strides.rules.intents import Meeting, Skip, inhibited_by, opted_out, planned
from strides.rules.keys import meeting_uid, message_key
from strides.rules.planning.occasions import Occasion, PendingMeeting
from strides.rules.planning.planner import Planner
from strides.rules.recipients import organiser_of, resolve

_OWNER = Role.OWNER.value


def plan_occasion(planner: Planner, occasion: Occasion) -> None:
    """The messages of one occasion found in the window."""
    if occasion.rule.action.kind is Kind.INVITE:
        plan_invite(planner, occasion)
    else:
        plan_notice(planner, occasion)


# -- whether ---------------------------------------------------------------------------------------


def _condition_context(planner: Planner, occasion: Occasion) -> Any:
    key = (
        occasion.owner.id,
        occasion.goal.id if occasion.goal else "",
        occasion.milestone.id if occasion.milestone else "",
    )
    context = planner.contexts.get(key)
    if context is None:
        view, owner = planner.view, occasion.owner
        today = planner.now.astimezone(owner.tz).date()
        manager = view.people.get(owner.manager) if owner.manager else None
        mentors = [view.people[m] for m in owner.mentors if m in view.people]
        context = build_context(
            {
                "goal": goal_view(occasion.goal, owner.tz, today),
                "milestone": milestone_view(occasion.milestone, owner.tz, today),
                "person": person_view(owner, len(view.reports_of(owner.id))),
                "manager": person_view(manager),
                "mentor": person_view(mentors[0] if mentors else None),
                "now": planner.now,
            }
        )
        planner.contexts[key] = context
    return context


def applies(planner: Planner, occasion: Occasion, moment: datetime) -> bool:
    """The rule is in effect on the owner's day of `moment` and its condition holds (a condition
    that cannot be evaluated is recorded as a skip)."""
    rule = occasion.rule
    if planner.facts(rule).always:
        return True
    if not rule.effective.covers(moment.astimezone(occasion.owner.tz).date()):
        return False
    if rule.when is None:
        return True
    ok, problem = evaluate(compile_condition(rule.when), _condition_context(planner, occasion))
    if problem is not None:
        planner.skips.append(Skip(rule.id, occasion.subject, moment, problem))
    return ok


# -- who and what ----------------------------------------------------------------------------------


def recipients(
    planner: Planner, occasion: Occasion, moment: datetime
) -> tuple[list[Person], list[str]] | None:
    """The people and addresses a message goes to; None (recorded as a skip) when one is missing."""
    rule = occasion.rule
    resolved = resolve(planner.view, occasion.owner, occasion.to or rule.action.to, rule.action.missing)
    if resolved.missing:
        planner.skips.append(Skip(rule.id, occasion.subject, moment, resolved.missing))
        return None
    for note in resolved.fallbacks:
        planner.fallbacks.append(Skip(rule.id, occasion.subject, moment, note))
    people = [p for p in resolved.people if not _declined(planner, occasion, p, moment)]
    if len(people) < len(resolved.people) and not people and not resolved.addresses:
        return None
    return people, list(resolved.addresses)


def _declined(planner: Planner, occasion: Occasion, person: Person, moment: datetime) -> bool:
    """`person` turned this optional rule off on their preference page (recorded as a skip)."""
    rule = occasion.rule
    if not rule.optional or rule.id not in person.declined:
        return False
    planner.skips.append(Skip(rule.id, occasion.subject, moment, opted_out(person.id)))
    return True


def _template_context(
    planner: Planner, occasion: Occasion, moment: datetime, wanted: Container[str]
) -> dict[str, object]:
    """A template's names, those `wanted` (the texts read them): the owner's manager and mentor
    only then, since looking them up may read them from the store."""
    owner = occasion.owner
    goal, milestone = occasion.goal, occasion.milestone
    context: dict[str, object] = {"person": owner, "owner": owner, "goal": goal, "milestone": milestone}
    if "days_left" in wanted or "days_late" in wanted or "date" in wanted:
        today = moment.astimezone(owner.tz).date()
        due = milestone.due if milestone else goal.deadline if goal else None
        context["days_left"] = (due - today).days if due else None
        context["days_late"] = (today - due).days if due else None
        context["date"] = today.isoformat()
    people = planner.view.people
    if "manager" in wanted:
        context["manager"] = people.get(owner.manager or "")
    if "mentor" in wanted:
        context["mentor"] = next((people[m] for m in owner.mentors if m in people), None)
    return context


@functools.lru_cache(maxsize=1024)
def _reads(title: str, body: str) -> frozenset[str]:
    """The names a title and body read."""
    return names(title) | names(body)


class Texts:
    """A message's title and body, rendered on first use and once (an invite's attendees share
    them); the template context is built only if a template has placeholders."""

    __slots__ = ("built", "moment", "occasion", "planner")

    def __init__(self, planner: Planner, occasion: Occasion, moment: datetime) -> None:
        self.planner, self.occasion, self.moment = planner, occasion, moment
        self.built: tuple[str, str] | None = None

    def __call__(self) -> tuple[str, str]:
        if self.built is None:
            occasion = self.occasion
            title = occasion.title or occasion.rule.action.title or "Your weekly strides digest"
            body = occasion.body if occasion.body is not None else occasion.rule.action.body
            if "{" in title or "{" in body:
                context = _template_context(self.planner, occasion, self.moment, _reads(title, body))
                title, body = render_text(title, context), render_text(body, context)
            self.built = (title, body)
        return self.built


def add(
    planner: Planner,
    occasion: Occasion,
    recipient: str,
    occurrence: datetime,
    send_at: datetime,
    texts: Callable[[], tuple[str, str]],
    meeting: Meeting | None,
) -> None:
    """One intended message, unless the ledger already holds its key."""
    rule = occasion.rule
    key = message_key(rule.id, occasion.subject, occurrence, recipient)
    # Invites are not filtered here: rules/reconcile.py compares them with what was sent.
    if meeting is None and key in planner.already:
        return
    title, body = texts()
    planner.intents.append(
        planned(
            key,
            rule.id,
            rule.action.kind,
            occasion.subject,
            occurrence,
            recipient,
            send_at,
            title,
            body,
            meeting,
            planner.facts(rule).pause,
        )
    )


# -- invites ---------------------------------------------------------------------------------------


def plan_invite(planner: Planner, occasion: Occasion) -> None:
    """One meeting for every attendee, sent `lead` before the rule's time (or at once when late);
    placed in the attendees' calendars with every other meeting of the plan (`placing`)."""
    rule, owner, view, window = occasion.rule, occasion.owner, planner.view, planner.window
    start = planner.moment(occasion, owner)
    send_at = start - rule.action.lead
    uid = meeting_uid(rule.id, occasion.subject, occasion.slot)
    # Placement may move a meeting already sent by up to `slot.within`: judge it by the latest it
    # may be first, by its own start once placed. A new one whose time has passed is not planned.
    latest = start
    if uid in planner.known:
        latest += rule.calendar.slot.within + rule.action.duration
    if not planner.invite_due(occasion.subject, uid, latest, send_at):
        return
    if not applies(planner, occasion, start):
        return
    resolved = resolve(view, owner, occasion.to or rule.action.to, rule.action.missing)
    if resolved.missing:
        # Reported once: in the window where the invite would have been sent.
        if window.contains(send_at):
            planner.skips.append(Skip(rule.id, occasion.subject, start, resolved.missing))
        return
    for note in resolved.fallbacks:
        planner.fallbacks.append(Skip(rule.id, occasion.subject, start, note))
    people, addresses = tuple(resolved.people), tuple(resolved.addresses)
    if rule.optional and any(rule.id in p.declined for p in people):
        # A meeting is between its attendees: one who turned the rule off means no meeting.
        if window.contains(send_at):
            for person in people:
                _declined(planner, occasion, person, start)
        return
    if (inhibitor := planner.held_back.inhibitor(occasion, start)) is not None:
        planner.skips.append(Skip(rule.id, occasion.subject, start, inhibited_by(inhibitor)))
        return
    attendees = tuple(p.id for p in people) + addresses
    organiser, instead = organiser_of(view, owner, rule.action.organiser)
    if instead is not None and window.contains(send_at):
        planner.fallbacks.append(Skip(rule.id, occasion.subject, start, instead))
    if organiser is not None and organiser not in attendees:
        attendees += (organiser,)  # the organiser's own calendar holds the meeting too
        if organiser in view.people:
            people += (view.people[organiser],)
    planner.pending.append(PendingMeeting(occasion, start, send_at, uid, people, attendees, organiser))


def emit_invite(planner: Planner, pending: PendingMeeting, start: datetime, moved: tuple[str, ...]) -> None:
    """The placed meeting's invite to each of its attendees."""
    occasion = pending.occasion
    rule = occasion.rule
    meeting = Meeting(
        uid=pending.uid,
        start=start,
        end=start + rule.action.duration,
        timezone=occasion.owner.timezone,
        attendees=pending.attendees,
        organiser=pending.organiser,
        intended=pending.intended,
        moved=moved,
    )
    texts = Texts(planner, occasion, start)
    # Moved earlier, it goes out `lead` before its new start (or at once): never with less notice.
    send_at = max(min(pending.send_at, start - rule.action.lead), planner.window.start)
    for attendee in pending.attendees:
        add(planner, occasion, attendee, start, send_at, texts, meeting)


# -- notices and digests ---------------------------------------------------------------------------


def plan_notice(planner: Planner, occasion: Occasion) -> None:
    """A notice (or digest) to each recipient whose local moment falls in the window."""
    rule, owner = occasion.rule, occasion.owner
    facts = planner.facts(rule)
    fired = planner.moment(occasion, owner)
    # Compared in UTC (the window's zone): comparing moments of two zones asks both for their
    # offsets, every time.
    fired_utc = fired.astimezone(UTC)
    start, end = planner.window.start, planner.window.end
    to = occasion.to or rule.action.to
    owner_alone = len(to) == 1 and to[0] == _OWNER
    if owner_alone and facts.plain:
        # To the owner alone, on their clock, whenever it fires: what the general way below
        # comes to, without its bookkeeping (most notices of a day).
        if (
            start <= fired_utc < end
            and not planner.is_held_back(occasion, owner.id, fired, fired_utc)
            # Checked here only for optional rules: this is the path of most notices of a day.
            and not (rule.optional and _declined(planner, occasion, owner, fired))
        ):
            add(planner, occasion, owner.id, fired, fired, Texts(planner, occasion, fired), None)
        return
    owner_only = occasion.to is None and facts.owner_clock
    if not planner.in_reach(rule, fired_utc, owner_only=owner_only):
        return
    if owner_alone:
        # The common case, without resolving.
        people: Sequence[Person] = (owner,)
        addresses: Sequence[str] = ()
        fallbacks: Sequence[str] = ()
    else:
        resolved = resolve(planner.view, owner, to, rule.action.missing)
        if resolved.missing:
            if planner.window.contains(fired) and applies(planner, occasion, fired):
                planner.skips.append(Skip(rule.id, occasion.subject, fired, resolved.missing))
            return
        people, addresses, fallbacks = resolved.people, resolved.addresses, resolved.fallbacks
    # Notices arrive at the local time of whoever receives them.
    held_to_hours = facts.held_to_hours
    targets: list[tuple[str, datetime, datetime, Person | None]] = []
    for someone in people:
        if someone is owner and not held_to_hours:
            moment, utc = fired, fired_utc
        else:
            moment = planner.moment(occasion, someone)
            if held_to_hours:
                moment = planner.deliverable(rule, moment, someone)
            utc = moment.astimezone(UTC)
        if start <= utc < end:
            targets.append((someone.id, moment, utc, someone))
    if start <= fired_utc < end:
        targets += [(a, fired, fired_utc, None) for a in addresses]
    if not targets or not applies(planner, occasion, fired):
        return
    for note in fallbacks:
        planner.fallbacks.append(Skip(rule.id, occasion.subject, fired, note))
    for recipient, moment, utc, person in targets:
        if planner.is_held_back(occasion, recipient, moment, utc):
            continue
        if person is not None and _declined(planner, occasion, person, moment):
            continue
        digest = rule.action.kind is Kind.DIGEST and person is not None and not person.digest.send_empty
        if digest and person is not None and _empty_digest(planner, person, moment):
            planner.skips.append(Skip(rule.id, occasion.subject, moment, f"{person.id}: empty digest"))
            continue
        add(planner, occasion, recipient, moment, moment, Texts(planner, occasion, moment), None)


def _empty_digest(planner: Planner, person: Person, moment: datetime) -> bool:
    """`compose_digest(...).is_empty`, answered from goals and reports when they decide it."""
    view = planner.view
    busy = view.busy(person.id)
    if busy is None:
        goals = view.goals_of(person.id)
        busy = any(g.status is GoalStatus.ACTIVE for g in goals) or bool(view.reports_of(person.id))
    return not busy and compose_digest(person, view, moment).is_empty


def plan_event_notice(planner: Planner, occasion: Occasion) -> None:
    """An event's notice: not bound to the window (a delayed message is planned now for later)."""
    rule = occasion.rule
    fired = planner.moment(occasion, occasion.owner)
    if not applies(planner, occasion, fired):
        return
    found = recipients(planner, occasion, fired)
    if found is None:
        return
    people, addresses = found
    targets = [(p.id, planner.deliverable(rule, planner.moment(occasion, p), p)) for p in people]
    targets += [(a, fired) for a in addresses]
    for recipient, moment in targets:
        if planner.is_held_back(occasion, recipient, moment):
            continue
        send_at = max(moment, planner.window.start)
        add(planner, occasion, recipient, moment, send_at, Texts(planner, occasion, moment), None)
