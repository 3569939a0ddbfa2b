"""The planner: (rules, organisation, window, ledger) in, intended messages out. Pure.

`plan` finds every occasion of every enabled rule in a window (each trigger kind in its module of
`kinds/`, registered in `kinds.KINDS`), turns occasions into messages (`messages`) and returns
them in a stable order; `plan_event` does the same for one event. What the planner reads comes
through an `OrgView` (`view`): an organisation in memory, the store's window view, or a view
that scans every record.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from strides.domain.model import Organisation
from strides.domain.parse import RuleSet
from strides.domain.schema import Kind, Rule
from strides.rules.events import Event, event_kinds
from strides.rules.intents import Plan, Skip, Window
from strides.rules.placement import Bookings, NoBookings
from strides.rules.planning import messages
from strides.rules.planning.kinds import kind_of
from strides.rules.planning.kinds.event import derived_events, plan_events
from strides.rules.planning.placing import place_meetings
from strides.rules.planning.planner import Planner
from strides.rules.planning.view import OrgView, memory_view

__all__ = ["OrgView", "RuleRunner", "one_by_one", "plan", "plan_event"]

# Runs the parts of a plan (each rule, or each part of a rule): one after the other by default.
# A caller may run them at once (strides.speed plans two at a time where the store waits on a
# database server without holding Python's lock); the plan is the same in any order (see `plan`).
RuleRunner = Callable[[Sequence[Callable[[], None]]], None]


def one_by_one(parts: Sequence[Callable[[], None]]) -> None:
    for part in parts:
        part()


def _view(org: Organisation | OrgView) -> OrgView:
    return memory_view(org) if isinstance(org, Organisation) else org


# A rule's planning is bounded at run time too: no rule the checker accepts fires for one subject
# more than daily (escalation ladders: a few steps a day), so more than this many occasions of
# one rule for one subject per day of the window is a rule gone wrong, not a busy day.
OCCASIONS_PER_SUBJECT_DAY = 48


class RuleOverBudget(Exception):
    """A rule found more occasions for one subject than its budget allows."""


def _budget(window: Window) -> int:
    days = max(1.0, (window.end - window.start).total_seconds() / 86400)
    return int(OCCASIONS_PER_SUBJECT_DAY * days)


def _plan_rule(planner: Planner, rule: Rule, part: int | None = None) -> None:
    """Plan one rule (or one part of it); a rule over its budget, or one whose arithmetic fails,
    is given up with the reason (`_finish` drops what it planned) and the other rules go on."""
    budget, seen = _budget(planner.window), collections.Counter[str]()
    try:
        for occasion in kind_of(rule).occasions(planner, rule, part):
            seen[occasion.subject] += 1
            if seen[occasion.subject] > budget:
                raise RuleOverBudget(
                    f"more than {budget} occasions for {occasion.subject} in this window "
                    f"(at most {OCCASIONS_PER_SUBJECT_DAY} a day)"
                )
            messages.plan_occasion(planner, occasion)
    except (RuleOverBudget, ArithmeticError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, RuleOverBudget) else f"{type(exc).__name__}: {exc}"
        planner.abandoned.setdefault(rule.id, reason)


def _parts(planner: Planner, rule: Rule) -> list[Callable[[], None]]:
    """Planning `rule` in parts that may run at once (an escalation's rungs each read their own)."""
    count = kind_of(rule).parts(rule)
    if count == 1:
        return [functools.partial(_plan_rule, planner, rule)]
    return [functools.partial(_plan_rule, planner, rule, part) for part in range(count)]


def _reopens(rules: RuleSet) -> frozenset[str]:
    """The subject kinds whose reopened subjects the invite rules plan in full (people always)."""
    found = {"person"}
    for rule in rules.enabled:
        if rule.action.kind is Kind.INVITE and (kind := kind_of(rule).reopens(rule)) is not None:
            found.add(kind)
    return frozenset(found)


def _finish(planner: Planner) -> Plan:
    place_meetings(planner)
    # Sorted by instants as numbers: comparing aware datetimes asks their timezones each time.
    # Two intents of one key (one rule, subject, occurrence and recipient: two rungs of a ladder
    # that a business-day shift brought to one day, say) keep the one last in this order, not
    # the one planned last, which depends on how the rules were run (`plan`'s `run_rules`).
    intents = sorted(
        planner.intents, key=lambda i: (i.send_at.timestamp(), i.rule_id, i.recipient, i.key, i.title, i.body)
    )
    unique = list({i.key: i for i in intents}.values())
    skips = planner.skips
    if planner.abandoned:
        # A rule given up sends nothing in this window: none of what it planned before it stopped.
        unique = [i for i in unique if i.rule_id not in planner.abandoned]
        skips = [s for s in skips if s.rule_id not in planner.abandoned]
        skips += [
            Skip(rule_id, f"rule:{rule_id}", planner.window.start, f"rule given up in this window: {reason}")
            for rule_id, reason in planner.abandoned.items()
        ]

    def order(skip: Skip) -> tuple[float, str, str, str]:
        return (skip.occurrence.timestamp(), skip.rule_id, skip.subject, skip.reason)

    return Plan(tuple(unique), tuple(sorted(skips, key=order)), tuple(sorted(planner.fallbacks, key=order)))


def plan(
    rules: RuleSet,
    org: Organisation | OrgView,
    window: Window,
    already: Container[str] = frozenset(),
    known: Mapping[str, str] | None = None,
    *,
    settled: datetime | None = None,
    changed: Iterable[str] = (),
    run_rules: RuleRunner = one_by_one,
    bookings: Bookings | None = None,
) -> Plan:
    """Every message the enabled rules want sent in `window` that `already` does not hold.

    Invites are the exception: every wanted meeting that is due, or whose UID is in `known`
    (already invited to: UID to subject) and still ahead, is returned; rules/reconcile.py decides
    what to send. Known subjects are planned wherever their anchor has moved, so a moved meeting
    is updated rather than cancelled.

    `org` is an organisation in memory or any view of one (the store's window view, or the view
    that scans every record: tools/scan_view.py).

    The steady state: with `settled`, invites whose send time is before it are taken as planned
    by earlier ticks (the ledger holds them) and only those of the subjects in `changed` (records
    changed since, "goal:ID", "milestone:ID", "person:ID") and of `known` meetings are planned
    again. Without it every invite still ahead is planned (a first tick, or new rules).

    `run_rules` plans the rules, one after the other by default. Whatever order or concurrency
    it uses, the plan is the same: each part is planned by one caller, the planner's shared
    answers are worked out before (`Planner.settle`) and the rest are caches of equal values,
    and the plan is put in one order whatever order its parts found it in.

    Every invite's meeting is placed in its attendees' calendars (rules/planning/placing.py)
    against `bookings` (what they are already booked for: meetings sent, busy times, pauses).

    Events the state itself records in the window (goal created or completed, milestone
    completed or overdue) drive the event rules too; the rest come through `plan_event`.
    """
    known = known or {}
    view = _view(org)
    planner = Planner(
        rules,
        view,
        window,
        already,
        now=window.end,
        known=known.keys(),
        known_subjects=frozenset(known.values()),
        settled=settled,
        changed=frozenset(changed),
        reopens=_reopens(rules),
        bookings=bookings or NoBookings(),
    )
    if run_rules is one_by_one:
        for rule in rules.enabled:
            _plan_rule(planner, rule)
    else:
        planner.settle()
        # The heaviest first, so that no long rule is left to run alone at the end.
        heaviest_first = sorted(rules.enabled, key=lambda r: kind_of(r).weight(r), reverse=True)
        run_rules([part for rule in heaviest_first for part in _parts(planner, rule)])
    kinds = event_kinds(rules)
    if kinds:
        plan_events(planner, list(derived_events(view, window.start, window.end, kinds)))
    return _finish(planner)


def plan_event(
    rules: RuleSet,
    org: Organisation | OrgView,
    event: Event,
    now: datetime,
    already: Container[str] = frozenset(),
    bookings: Bookings | None = None,
) -> Plan:
    """The messages the event rules want for one event, planned at `now` (some may be for later)."""
    window = Window(now, now + timedelta(days=3660))
    planner = Planner(rules, _view(org), window, already, now=now, bookings=bookings or NoBookings())
    plan_events(planner, [event])
    return _finish(planner)
