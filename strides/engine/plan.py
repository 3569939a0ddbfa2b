"""Planning a window into the ledger: what a tick decides, recorded once.

`plan_window` plans the window since the last tick for one shard of the organisation (or in
several forked processes at once, `strides.speed`) and records new notices, meetings and skips in
one transaction; `decide` is the same without writing. `next_window` and `record_tick` are the
tick's bookkeeping. Flows call these; tests call them directly.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from strides import speed
from strides.domain.parse import RuleSet
from strides.domain.schema import Kind
from strides.engine.calendars import CalendarBookings, Calendars
from strides.engine.deliver import DeliveryOutcome
from strides.rules import Skip, Window, plan
from strides.rules.events import event_rule_ids
from strides.rules.intents import Intent, Plan
from strides.rules.planning import RuleRunner, one_by_one
from strides.rules.reconcile import Decision, reconcile
from strides.store import Session, Store, invites, ledger, skips, snapshot
from strides.store.bookings import StoreBookings
from strides.store.shards import BUCKETS, WHOLE, Shard
from strides.store.tables import TickRow
from strides.store.window import StoreView


@dataclass(frozen=True)
class PlanOutcome:
    window: Window
    planned: int
    considered: int
    skips: tuple[Skip, ...] = ()
    # Skips recorded for the first time (strides.store.skips; `strides skips` lists them).
    new_skips: int = 0
    # People's calendars that could not be read ("person ada: calendar ics https://…: HTTP 404"):
    # their busy times were not known to this plan, which went on without them.
    calendar_warnings: tuple[str, ...] = ()


def lookahead(rules: RuleSet) -> timedelta:
    """How far past a window the ledger may already hold messages for it (invite lead times)."""
    leads = [r.action.lead for r in rules.enabled if r.action.kind is Kind.INVITE]
    return max(leads, default=timedelta(0)) + timedelta(days=2)


def calendar_span(rules: RuleSet, window: Window) -> tuple[datetime, datetime]:
    """What a tick reads of people's calendars: as far as the meetings it may place can move."""
    reach = max(
        (r.calendar.slot.within + r.action.duration for r in rules.enabled if r.action.kind is Kind.INVITE),
        default=timedelta(0),
    )
    return window.start - reach - timedelta(days=1), window.end + lookahead(rules) + reach


def rules_digest(rules: RuleSet) -> str:
    """A fingerprint of the enabled rules: when it changes, a tick plans everything again."""
    text = json.dumps([r.model_dump(mode="json") for r in rules.enabled], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PlanBasis:
    """What a tick plans against, read once and shared by its plan shards.

    `upto` is the last organisation change the tick sees. `seen` is the one the previous tick saw
    and `settled` the end of its window: subjects changed in between are planned again in full,
    the others only for what falls due now. `seen` None (no earlier tick, or other rules) plans
    everything, as a first tick does.
    """

    upto: int
    rules: str
    seen: int | None = None
    settled: datetime | None = None


def plan_basis(store: Store, rules: RuleSet) -> PlanBasis:
    digest = rules_digest(rules)
    with store.session() as session:
        upto = snapshot.last_change(session)
        last = ledger.last_tick(session)
    if last is None or last.changes_seen is None or last.rules_digest != digest:
        return PlanBasis(upto, digest)
    return PlanBasis(upto, digest, last.changes_seen, last.window_end)


@dataclass
class WindowPlan:
    """What planning one window (one shard of it) decided, before anything is recorded."""

    view: StoreView
    result: Plan
    notices: list[Intent]
    decisions: list[Decision]
    # Subjects planned again because their records changed; None when everything was planned.
    changed: frozenset[str] | None
    # People's calendars that could not be read (`CalendarBookings.warnings`).
    calendar_warnings: tuple[str, ...] = ()


def decide(
    session: Session,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard = WHOLE,
    *,
    one_rule_at_a_time: bool = False,
    calendars: Calendars | None = None,
) -> WindowPlan:
    """Plan `window` for one shard from the store's window queries; nothing is written.

    In the steady state only what falls due in the window is planned, plus every meeting of
    the subjects whose records changed since the previous tick (moved, re-staffed or no longer
    wanted meetings are then updated or cancelled); otherwise every meeting still ahead is
    planned again and compared with what was sent.

    `one_rule_at_a_time` where other processes plan beside this one (`plan_window`'s
    `processes`): they use the time this one waits for the database, which is what planning
    two rules at once in threads is for. Two processes on a prepared 100,000-person PostgreSQL
    steady day, four rounds each: best 1.74 s and median 1.76 one rule at a time in each,
    against 1.80 and 1.92 two at once in each (one process, two at once: 2.13 and 2.34).

    Meetings are placed around what their attendees are booked for in the store and around the
    busy times of their own calendars, read through `calendars` (a tick's, shared by its
    shards; without it, this call's own, with the default timeout).
    """
    runner = one_by_one if one_rule_at_a_time else speed.rule_runner(session)
    with speed.planning(session):
        return _decide(session, rules, window, now, basis, shard, runner, calendars or Calendars())


def _decide(
    session: Session,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard,
    runner: RuleRunner,
    calendars: Calendars,
) -> WindowPlan:
    view = StoreView(session, shard)
    bookings = CalendarBookings(StoreBookings(session), view.people, calendars, calendar_span(rules, window))
    changed = None
    if basis.seen is not None:
        changed = view.changed_subjects(snapshot.changes_after(session, basis.seen, basis.upto))
    # Notices already in the ledger are not planned again; invites go through rules/reconcile.py.
    already = ledger.keys_between(
        session, window.start - timedelta(days=1), window.end + lookahead(rules), notices=True
    )
    if changed is None:
        known = {m.uid: m for m in invites.upcoming(session, after=window.start, shard=shard)}
        settled = None
    else:
        known = {m.uid: m for m in invites.upcoming_about(session, changed, after=window.start)}
        assert basis.settled is not None
        settled = min(window.start, basis.settled)
    # A meeting of an event rule comes from its event (see `record_event`), which a later tick
    # does not see again: only the event side may cancel it.
    events = event_rule_ids(rules)
    known = {uid: m for uid, m in known.items() if m.rule_id not in events}
    try:
        result = plan(
            rules,
            view,
            window,
            already,
            known={uid: m.subject for uid, m in known.items()},
            settled=settled,
            changed=changed or (),
            run_rules=runner,
            bookings=bookings,
        )
    finally:
        view.close()
    notices = [i for i in result.intents if i.meeting is None]
    wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
    # Reconciled against the meetings already sent: new ones requested, moved or re-staffed
    # ones updated, unwanted ones cancelled.
    sent = [*known.values(), *invites.load(session, wanted.keys() - known.keys())]
    decisions = reconcile(wanted.values(), sent, window, now)
    return WindowPlan(view, result, notices, decisions, changed, tuple(bookings.warnings))


def plan_window(
    store: Store,
    rules: RuleSet,
    window: Window,
    now: datetime,
    *,
    basis: PlanBasis | None = None,
    shard: Shard = WHOLE,
    processes: int = 1,
    calendars: Calendars | None = None,
) -> PlanOutcome:
    """Plan `window` (one shard of it) and record what is new in the ledger, in one transaction.

    With `processes` above one, the shard is split into that many, planned and recorded at once,
    each in a transaction of its own: the last in this process, the others each in a process
    forked for it (strides.speed). The planning is Python's work, and a process plans on one
    core at most. Shards plan disjoint messages, and planning again records nothing twice, so
    should one of them fail (raised once the others have finished), a retry plans the window
    again.

    `calendars`: the tick's reads of people's calendars (`Calendars(calendar_timeout)`), shared
    by the shards it plans; a calendar that cannot be read is a warning in the outcome, never a
    failure.
    """
    basis = basis or plan_basis(store, rules)
    calendars = calendars or Calendars()
    parts = shard.split(processes) if processes > 1 and speed.can_fork() else [shard]
    if len(parts) == 1:
        return _record_plan(store, rules, window, now, basis, shard, calendars=calendars)
    jobs = [
        functools.partial(_plan_part, store.url, rules, window, now, basis, part, calendars) for part in parts
    ]
    return _merged(window, speed.at_once(jobs))


def _record_plan(
    store: Store,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard,
    *,
    one_rule_at_a_time: bool = False,
    calendars: Calendars | None = None,
) -> PlanOutcome:
    with speed.fewer_collections(), store.session() as session:
        decided = decide(
            session,
            rules,
            window,
            now,
            basis,
            shard,
            one_rule_at_a_time=one_rule_at_a_time,
            calendars=calendars,
        )
        new = ledger.record(session, decided.notices, decided.view, now)
        new += invites.apply(session, decided.decisions, decided.view, now)
        new_skips = skips.record(session, decided.result.skips, decided.view, now)
        outcome = PlanOutcome(
            window,
            new,
            len(decided.result.intents),
            decided.result.skips,
            new_skips,
            decided.calendar_warnings,
        )
        del decided  # the plan goes before the collector gets its objects back
    return outcome


def _plan_part(
    url: str,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    part: Shard,
    calendars: Calendars,
) -> PlanOutcome:
    """One part, here or in a forked process (its own connections: strides.store.db lets the
    parent's go there), beside the others."""
    return _record_plan(
        Store(url),
        rules,
        window,
        now,
        basis,
        part,
        one_rule_at_a_time=True,
        calendars=calendars,
    )


def _merged(window: Window, outcomes: Sequence[PlanOutcome]) -> PlanOutcome:
    return PlanOutcome(
        window,
        sum(o.planned for o in outcomes),
        sum(o.considered for o in outcomes),
        tuple(s for o in outcomes for s in o.skips),
        sum(o.new_skips for o in outcomes),
        tuple(dict.fromkeys(w for o in outcomes for w in o.calendar_warnings)),
    )


# A steady tick's work is what fell due in its window and what changed since the last tick, not
# the organisation: one pass plans it, where shards would each pay a fixed cost (the rules'
# queries over their buckets). A steady 15-minute tick at 100,000 people: 1.23 s in one pass,
# 6.03 s in 20 shards (bench/tick_scale.py, the same run's store). Longer windows (a first day,
# a catch-up) and ticks after many changes are still sharded, which bounds their memory.
SINGLE_PASS_WINDOW = timedelta(hours=1)


def plan_shards(
    store: Store, people_per_shard: int, window: Window | None = None, basis: PlanBasis | None = None
) -> list[Shard]:
    """Shards of about `people_per_shard` people each (at least one); a single one for a steady
    tick of a short window with few changes (`SINGLE_PASS_WINDOW`)."""
    if (
        window is not None
        and basis is not None
        and basis.seen is not None
        and window.end - window.start <= SINGLE_PASS_WINDOW
        and basis.upto - basis.seen <= people_per_shard
    ):
        return [WHOLE]
    with store.session() as session:
        people = snapshot.count_people(session)
    count = max(1, min(BUCKETS, -(-people // max(1, people_per_shard))))
    return [Shard(index, count) for index in range(count)]


def next_window(
    store: Store, now: datetime, first_window: timedelta, since: datetime | None = None
) -> Window | None:
    """From the end of the last successful tick (or `since`) to `now`; None when nothing is new."""
    with store.session() as session:
        start = since or ledger.last_tick_end(session) or now - first_window
    return Window(start, now) if start < now else None


def record_tick(
    store: Store,
    now: datetime,
    window: Window | None,
    planned: int,
    delivery: DeliveryOutcome,
    basis: PlanBasis | None = None,
) -> None:
    """Record a finished tick; with the `basis` it planned with, the next tick plans from there."""
    with store.session() as session:
        session.add(
            TickRow(
                now=now,
                window_start=window.start if window else now,
                window_end=window.end if window else now,
                status="done",
                planned=planned,
                sent=len(delivery.sent),
                failed=len(delivery.failed),
                # A tick without a window planned nothing: it passes the earlier watermark on.
                changes_seen=(basis.upto if window else basis.seen) if basis else None,
                rules_digest=basis.rules if basis else None,
            )
        )
        if basis is not None and basis.seen is not None:
            # The previous tick's watermark, not this one's: a tick running alongside (a second
            # worker) may still be reading the changes after it.
            snapshot.prune_changes(session, basis.seen)
