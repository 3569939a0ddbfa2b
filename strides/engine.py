"""The work of a tick as plain functions: plan a window into the ledger, deliver what is due.

Flows call these; tests call them directly.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from strides.integrations import DeliveryError
from strides.integrations.compose import Sender, outgoing
from strides.integrations.render import local_time
from strides.integrations.transport import Outgoing, Transport, send_all
from strides.model import Organisation
from strides.processes import at_once, can_fork
from strides.rules import Event, RuleSet, Skip, Window, plan, plan_event
from strides.rules.digest import DUE_SOON, WINS_SINCE, ReportFacts
from strides.rules.intents import Intent, Plan
from strides.rules.pauses import after_pause
from strides.rules.planner import RuleRunner, one_by_one
from strides.rules.reconcile import Decision, reconcile
from strides.rules.schema import EventKind, EventTrigger, Kind, PausePolicy
from strides.store import Store, invites, ledger, preferences, skips, slices, snapshot, suppressions
from strides.store.db import many_reads
from strides.store.shards import BUCKETS, WHOLE, Shard
from strides.store.tables import MessageRow, TickRow
from strides.store.window import StoreView

DIGEST_LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class PlanOutcome:
    window: Window
    planned: int
    considered: int
    skips: tuple[Skip, ...] = ()
    # Skips recorded for the first time (strides.store.skips; `strides skips` lists them).
    new_skips: int = 0


@dataclass(frozen=True)
class Sent:
    key: str
    rule_id: str
    kind: str
    recipient: str
    occurrence: datetime
    ref: str


@dataclass
class DeliveryOutcome:
    sent: list[Sent] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    claimed: int = 0
    # Due inside the recipient's pause under a `pause: shift` rule: (key, when it is due again).
    shifted: list[tuple[str, datetime]] = field(default_factory=list)

    def merge(self, other: DeliveryOutcome) -> None:
        self.sent.extend(other.sent)
        self.failed.extend(other.failed)
        self.claimed += other.claimed
        self.shifted.extend(other.shifted)


def lookahead(rules: RuleSet) -> timedelta:
    """How far past a window the ledger may already hold messages for it (invite lead times)."""
    leads = [r.action.lead for r in rules.enabled if r.action.kind is Kind.INVITE]
    return max(leads, default=timedelta(0)) + timedelta(days=2)


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


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a window is planned, on again after.

    Planning builds tens of thousands of short-lived, acyclic objects (records, occasions,
    intents); with the collector on, each threshold crossed walks the whole young heap again, so
    a large tick spent a third of its time collecting garbage that reference counting frees
    anyway. Anything cyclic is collected once the collector is back on (inside a tick, once the
    tick is done: see below). (Delivery, which drains
    chunk after chunk for as long as messages are due, uses `fewer_collections` instead: there
    the collector still runs, rarely. For one planning call the pause measured faster: 0.37 s
    against 0.50 s for a 10,000-person steady day, same machine, quiet.)
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if _holders:
                # What planning left alive (the plan: a million objects at 100,000 people) goes
                # with the plan, by reference counting; the first collection after would walk
                # it all (a 100,000-person tick took 4.2-4.5 s with it, 3.8-4.0 s without).
                # Frozen, it is never walked; `fewer_collections`, around the tick, hands it back.
                gc.freeze()
            gc.enable()


def two_at_once(parts: Sequence[Callable[[], None]]) -> None:
    """Plan two rules (parts of rules) at a time: this thread and one more each take the next
    part in turn, so while one waits for the database server's answer (without holding
    Python's lock), the other plans. This thread reads through the session's own connection,
    so only the other needs one more. A part that fails stops both from taking more."""
    remaining = iter(parts)
    taking = threading.Lock()
    failed = threading.Event()

    def take_in_turn() -> None:
        while not failed.is_set():
            with taking:
                part = next(remaining, None)
            if part is None:
                return
            try:
                part()
            except BaseException:
                failed.set()
                raise

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="strides-plan") as pool:
        other = pool.submit(take_in_turn)
        take_in_turn()  # should this raise, the pool still waits for the other thread's part
        other.result()  # raises what planning its part raised


def _rule_runner(session: Session) -> RuleRunner:
    """How `decide` plans the rules: two at once on PostgreSQL, whose server does the
    statements' work while Python waits (0.8 of a 0.9 s floor at 100,000 people); one after the
    other on SQLite, which runs in this process: there two at once measured slower (a prepared
    100,000-person steady day, five rounds each: best 3.04 s against 2.51, median 3.40 against
    2.79), the threads taking turns at Python's lock for every row they convert."""
    return two_at_once if session.get_bind().dialect.name == "postgresql" else one_by_one


def decide(
    session: Session,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard = WHOLE,
    *,
    one_rule_at_a_time: bool = False,
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
    """
    runner = one_by_one if one_rule_at_a_time else _rule_runner(session)
    with cyclic_gc_paused(), many_reads(session):
        return _decide(session, rules, window, now, basis, shard, runner)


def _decide(
    session: Session,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard,
    runner: RuleRunner,
) -> WindowPlan:
    view = StoreView(session, shard)
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
            index=view,
            settled=settled,
            changed=changed or (),
            run_rules=runner,
        )
    finally:
        view.close()
    notices = [i for i in result.intents if i.meeting is None]
    wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
    # Reconciled against the meetings already sent: new ones requested, moved or re-staffed
    # ones updated, unwanted ones cancelled.
    sent = [*known.values(), *invites.load(session, wanted.keys() - known.keys())]
    decisions = reconcile(wanted.values(), sent, window, now)
    return WindowPlan(view, result, notices, decisions, changed)


def plan_window(
    store: Store,
    rules: RuleSet,
    window: Window,
    now: datetime,
    *,
    basis: PlanBasis | None = None,
    shard: Shard = WHOLE,
    processes: int = 1,
) -> PlanOutcome:
    """Plan `window` (one shard of it) and record what is new in the ledger, in one transaction.

    With `processes` above one, the shard is split into that many, planned and recorded at once,
    each in a transaction of its own: the last in this process, the others each in a process
    forked for it (strides.processes). The planning is Python's work, and a process plans on one
    core at most. Shards plan disjoint messages, and planning again records nothing twice, so
    should one of them fail (raised once the others have finished), a retry plans the window
    again.
    """
    basis = basis or plan_basis(store, rules)
    parts = shard.split(processes) if processes > 1 and can_fork() else [shard]
    if len(parts) == 1:
        return _record_plan(store, rules, window, now, basis, shard)
    jobs = [functools.partial(_plan_part, store.url, rules, window, now, basis, part) for part in parts]
    return _merged(window, at_once(jobs))


def _record_plan(
    store: Store,
    rules: RuleSet,
    window: Window,
    now: datetime,
    basis: PlanBasis,
    shard: Shard,
    *,
    one_rule_at_a_time: bool = False,
) -> PlanOutcome:
    with fewer_collections(), store.session() as session:
        decided = decide(session, rules, window, now, basis, shard, one_rule_at_a_time=one_rule_at_a_time)
        new = ledger.record(session, decided.notices, decided.view, now)
        new += invites.apply(session, decided.decisions, decided.view, now)
        new_skips = skips.record(session, decided.result.skips, decided.view, now)
        outcome = PlanOutcome(window, new, len(decided.result.intents), decided.result.skips, new_skips)
        del decided  # the plan goes before the collector gets its objects back
    return outcome


def _plan_part(
    url: str, rules: RuleSet, window: Window, now: datetime, basis: PlanBasis, part: Shard
) -> PlanOutcome:
    """One part, here or in a forked process (its own connections: strides.store.db lets the
    parent's go there), beside the others."""
    return _record_plan(Store(url), rules, window, now, basis, part, one_rule_at_a_time=True)


def _merged(window: Window, outcomes: Sequence[PlanOutcome]) -> PlanOutcome:
    return PlanOutcome(
        window,
        sum(o.planned for o in outcomes),
        sum(o.considered for o in outcomes),
        tuple(s for o in outcomes for s in o.skips),
        sum(o.new_skips for o in outcomes),
    )


def plan_shards(store: Store, people_per_shard: int) -> list[Shard]:
    """Shards of about `people_per_shard` people each (at least one)."""
    with store.session() as session:
        people = snapshot.count_people(session)
    count = max(1, min(BUCKETS, -(-people // max(1, people_per_shard))))
    return [Shard(index, count) for index in range(count)]


def plan_event_window(store: Store, rules: RuleSet, event: Event, now: datetime) -> PlanOutcome:
    """Plan what the event rules want for one event (some messages may be for later) into the store,
    in one transaction (see `record_event`)."""
    with store.session() as session:
        return record_event(session, rules, snapshot.load_organisation(session), event, now)


def _upcoming_of(
    session: Session, org: Organisation, people: set[str], now: datetime
) -> dict[str, list[str]]:
    """Each digest recipient's strides meetings in the next two weeks, in one query for the chunk.

    A meeting the person declined says so, so the digest can ask them to pick another time.
    """
    found: dict[str, list[str]] = {pid: [] for pid in people}
    # Bounded in the query: every delivery chunk with a digest runs this.
    for row in invites.meetings(session, after=now, before=now + DIGEST_LOOKAHEAD):
        if row.status != "active":
            continue
        for attendee in row.attendees:
            person = org.people.get(attendee["id"]) if attendee["id"] in found else None
            if person is None:
                continue
            line = f"{row.title}: {local_time(row.start, person)}"
            if attendee.get("partstat") == "DECLINED":
                line += " (you declined: pick another time)"
            found[person.id].append(line)
    return found


def _digest_bounds(digests: Sequence[Intent]) -> tuple[datetime, datetime, date]:
    """The first and last occurrence of these digests, and the latest local day they can fall on."""
    first = min(i.occurrence for i in digests)
    last = max(i.occurrence for i in digests)
    # A recipient's local "today" is at most a day past the UTC date (UTC+14): bound generously.
    return first, last, last.astimezone(UTC).date() + timedelta(days=2)


def digest_span(digests: Sequence[Intent]) -> tuple[datetime, date] | None:
    """(wins since, due until) covering what these digests can show; None without digests."""
    if not digests:
        return None
    first, _, last_day = _digest_bounds(digests)
    return first - WINS_SINCE, last_day + DUE_SOON


def digest_reports(session: Session, digests: Sequence[Intent]) -> dict[str, list[ReportFacts]]:
    """The direct reports of the digests' recipients, as the facts the digests roll up."""
    if not digests:
        return {}
    first, last, last_day = _digest_bounds(digests)
    return slices.report_facts(session, {i.recipient for i in digests}, first - WINS_SINCE, last_day, last)


def deliver_due(
    store: Store,
    transport: Transport,
    sender: Sender,
    now: datetime,
    limit: int,
    stale_after: timedelta = timedelta(minutes=10),
    max_bytes: int = 10_000_000,
) -> DeliveryOutcome:
    """Claim up to `limit` due messages, build them all, send them as one chunk, record each outcome.

    A message that cannot be built (bad address, line break in a header, too large) is dead before
    anything is sent; nothing goes out half-built. A claim older than `stale_after` belongs to a
    worker presumed dead and is taken over. Only the slice of the organisation the chunk needs is
    loaded (strides.store.slices), so a chunk costs the same in a large organisation as in a small one.
    """
    outcome = DeliveryOutcome()
    with store.session() as session:
        claim = ledger.claim(session, now, limit, stale_after)
    outcome.claimed = len(claim.rows)
    if not claim.rows:
        return outcome
    intents = [ledger.intent_of(row) for row in claim.rows]
    needed = {i.recipient for i in intents} | {a for i in intents if i.meeting for a in i.meeting.attendees}
    # A fixed address shows times in its owner's timezone (integrations.compose.addressee).
    needed |= {i.owner for i in intents if i.owner}
    digest_intents = [i for i in intents if i.kind is Kind.DIGEST]
    digests = {i.recipient for i in digest_intents}
    with store.session() as session:
        # Direct reports only as the facts their managers' digests roll up (no message needs more).
        org = slices.load_slice(session, sorted(needed), reports=False, digests=digest_span(digest_intents))
        reports_of = digest_reports(session, digest_intents)
        upcoming_of = _upcoming_of(session, org, digests, now) if digests else {}
        blocked = suppressions.suppressed(session, (row.recipient_email for row in claim.rows))
        held = preferences.held_back(session, ((row.recipient, row.kind) for row in claim.rows), now)
    with_data = bool(getattr(transport, "wants_template_data", False))
    structured = bool(getattr(transport, "wants_structured", False))
    ready: list[tuple[Row[Any], Outgoing]] = []
    refused: list[tuple[str, str]] = []
    shifted: list[tuple[str, datetime, str]] = []
    for row, intent in zip(claim.rows, intents, strict=True):
        # None for a fixed address (not a person of the organisation): it is its own email.
        member = org.people.get(intent.recipient)
        if member is None and "@" not in intent.recipient:
            refused.append((row.key, "recipient left the organisation"))
            continue
        hold = held.get((row.recipient, row.kind))
        if (
            hold is not None
            and hold.paused
            and member is not None
            and intent.on_pause == PausePolicy.SHIFT.value
        ):
            when = after_pause(intent.send_at, hold.until, now, member.tz)
            shifted.append((row.key, when, f"shifted: {hold.reason}; due again {local_time(when, member)}"))
            continue
        if hold is not None:
            refused.append((row.key, hold.reason))
            continue
        stop = blocked.get((str(member.email) if member else intent.recipient).lower())
        if stop is not None:
            why = f"suppressed: {stop.reason} on {stop.created_at:%Y-%m-%d}" + (
                f" ({stop.detail})" if stop.detail else ""
            )
            refused.append((row.key, why))
            continue
        try:
            upcoming, reports = None, None
            if intent.kind is Kind.DIGEST:
                upcoming = upcoming_of.get(intent.recipient)
                reports = reports_of.get(intent.recipient, [])
            item = outgoing(
                intent,
                org,
                sender,
                now,
                upcoming,
                with_data=with_data,
                structured=structured,
                reports=reports,
            )
            size = item.size()
            if size > max_bytes:
                raise ValueError(f"message is {size} bytes, over the {max_bytes}-byte limit")
        except (ValueError, KeyError) as exc:
            # A message that cannot be built will not build on retry either.
            refused.append((row.key, f"cannot build: {exc}"))
            continue
        ready.append((row, item))
    # What cannot be built is recorded before anything is sent; so is what waits for a pause to end.
    with store.session() as session:
        for key, reason in refused:
            ledger.mark_failed(session, key, claim.token, reason, permanent=True)
            outcome.failed.append((key, reason))
        for key, when, note in shifted:
            if ledger.reschedule(session, key, claim.token, when, note):
                outcome.shifted.append((key, when))

    def record(indices: Sequence[int], result: str | DeliveryError) -> None:
        # Each request's outcome in its own short transaction, as soon as the transport knows it:
        # one message for a rendered request, a whole batch for a provider's template request.
        rows = [ready[index][0] for index in indices]
        if isinstance(result, DeliveryError):
            with store.session() as session:
                for row in rows:
                    ledger.mark_failed(
                        session, row.key, claim.token, result.answer, permanent=result.permanent
                    )
                    outcome.failed.append((row.key, result.answer))
            return
        refs = [(row.key, result) for row in rows]
        recorded = ledger.record_sent(connection, claim.token, now, transport.name, refs)
        for row in rows:
            if row.key in recorded:
                outcome.sent.append(
                    Sent(row.key, row.rule_id, row.kind, row.recipient, row.occurrence, result)
                )
            # else: taken over meanwhile; the rescuer sends it again under the same key (an
            # idempotent transport turns that into one delivery) and it is the rescuer's to report.

    if ready:
        with store.connection() as connection:
            send_all(transport, [item for _, item in ready], record)
    return outcome


def drain(
    store: Store,
    transport: Transport,
    sender: Sender,
    now: datetime,
    chunk_size: int,
    stale_after: timedelta = timedelta(minutes=10),
    max_chunks: int = 1000,
    max_bytes: int = 10_000_000,
) -> DeliveryOutcome:
    """Deliver chunk after chunk until nothing due is left (or `max_chunks` were done)."""
    total = DeliveryOutcome()
    with fewer_collections():
        for _ in range(max_chunks):
            chunk = deliver_due(store, transport, sender, now, chunk_size, stale_after, max_bytes)
            total.merge(chunk)
            if chunk.claimed < chunk_size:
                break
    return total


_collecting = threading.Lock()
_holders = 0
_saved: tuple[int, int, int] | None = None
_frozen_before = False


def _new_lock_in_child() -> None:
    # A forked child has only the thread that forked: another thread's hold on the lock would
    # never be let go there (strides.processes).
    global _collecting
    _collecting = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork either
    os.register_at_fork(after_in_child=_new_lock_in_child)


@contextmanager
def fewer_collections(threshold: int = 100_000) -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector out of the way of delivery.

    A delivery chunk makes hundreds of thousands of short-lived objects (rows, records, digests)
    and no reference cycles worth collecting; with the default thresholds the collector ran every
    700 allocations and walked every long-lived object (the interpreter's modules, Prefect's,
    pydantic's schemas) again and again: 40% of a dynamic-template digest's CPU time. Inside the
    block what exists already is frozen (never walked again) and a young collection runs every
    `threshold` allocations; afterwards both are as before. Process-wide, so nested and concurrent
    blocks share one setting and the last to leave restores it.
    """
    global _holders, _saved, _frozen_before
    with _collecting:
        _holders += 1
        if _holders == 1:
            _saved = gc.get_threshold()
            # Someone else froze objects before: leave them frozen afterwards.
            _frozen_before = gc.get_freeze_count() > 0
            gc.freeze()
            gc.set_threshold(threshold, *_saved[1:])
    try:
        yield
    finally:
        with _collecting:
            _holders -= 1
            if _holders == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                if not _frozen_before:
                    gc.unfreeze()
                _saved = None


def count_due(store: Store, now: datetime) -> int:
    with store.session() as session:
        return ledger.count_due(session, now)


def chunks_per_task(due: int, chunk_size: int, tasks: int) -> int:
    """Chunks each delivery task should drain so that `due` messages take about `tasks` tasks."""
    return max(1, -(-due // (chunk_size * tasks)))


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


@dataclass(frozen=True)
class SummaryLine:
    rule_id: str
    kind: str
    messages: int
    recipients: int
    statuses: dict[str, int]


def kind_label(row: MessageRow) -> str:
    """'invite', 'invite update' or 'invite cancel' for invites; the kind otherwise."""
    meeting = row.payload.get("meeting") or {}
    if row.kind != Kind.INVITE.value:
        return row.kind
    if meeting.get("method") == "CANCEL":
        return "invite cancel"
    return "invite update" if row.sequence > 0 else "invite"


def summarise(store: Store) -> list[SummaryLine]:
    """Per rule and kind: how many messages, to how many people, in which states."""
    with store.session() as session:
        rows = ledger.messages(session)
    groups: dict[tuple[str, str], list[MessageRow]] = {}
    for row in rows:
        groups.setdefault((row.rule_id, kind_label(row)), []).append(row)
    return [
        SummaryLine(
            rule_id,
            kind,
            len(members),
            len({m.recipient for m in members}),
            dict(Counter(m.status for m in members)),
        )
        for (rule_id, kind), members in sorted(groups.items())
    ]


# -- events: one engine function for an event's messages ------------------------------------------


def event_rule_ids(rules: RuleSet, kind: EventKind | None = None) -> frozenset[str]:
    """The enabled event rules (of one event kind, if given)."""
    return frozenset(
        r.id
        for r in rules.enabled
        if isinstance(r.trigger, EventTrigger) and (kind is None or r.trigger.event is kind)
    )


def event_subject(event: Event) -> str:
    """The subject an event's messages are keyed under."""
    return f"milestone:{event.milestone}" if event.milestone else f"goal:{event.goal}"


def record_event(
    session: Session, rules: RuleSet, org: Organisation, event: Event, now: datetime
) -> PlanOutcome:
    """What the event rules want for one event, recorded in the caller's transaction.

    Notices go into the ledger (a key already there is left alone); invites go through the
    invite lifecycle (rules/reconcile.py) against the meetings this event's rules hold for the
    event's subject, and only those can be cancelled. So the same event twice records nothing new,
    and a tick that reads the same completion from the state plans the same keys and UIDs.
    `org` may be a slice that holds the goal, its owner and the people rules address about them.
    """
    result = plan_event(rules, org, event, now)
    notices = [i for i in result.intents if i.meeting is None]
    wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
    subject, mine = event_subject(event), event_rule_ids(rules, event.kind)
    held = [m for m in invites.upcoming_about(session, [subject], after=now) if m.rule_id in mine]
    sent = [*held, *invites.load(session, wanted.keys() - {m.uid for m in held})]
    window = Window(now, now + timedelta(days=3660))
    new = ledger.record(session, notices, org, now)
    new += invites.apply(session, reconcile(wanted.values(), sent, window, now), org, now)
    new_skips = skips.record(session, result.skips, org, now)
    return PlanOutcome(window, new, len(result.intents), result.skips, new_skips)
