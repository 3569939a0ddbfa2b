"""The work of a tick as plain functions: plan a window into the ledger, deliver what is due.

Flows call these; tests call them directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strides.integrations import DeliveryError
from strides.integrations.compose import Sender, compose, label
from strides.integrations.render import local_time
from strides.integrations.transport import Transport
from strides.rules import Event, RuleSet, Skip, Window, plan, plan_event
from strides.rules.schema import Kind
from strides.store import Store, ledger, snapshot
from strides.store.tables import MessageRow, TickRow

DIGEST_LOOKAHEAD = timedelta(days=14)


@dataclass(frozen=True)
class PlanOutcome:
    window: Window
    planned: int
    considered: int
    skips: tuple[Skip, ...] = ()


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

    def merge(self, other: DeliveryOutcome) -> None:
        self.sent.extend(other.sent)
        self.failed.extend(other.failed)
        self.claimed += other.claimed


def lookahead(rules: RuleSet) -> timedelta:
    """How far past a window the ledger may already hold messages for it (invite lead times)."""
    leads = [r.action.lead for r in rules.enabled if r.action.kind is Kind.INVITE]
    return max(leads, default=timedelta(0)) + timedelta(days=2)


def plan_window(store: Store, rules: RuleSet, window: Window, now: datetime) -> PlanOutcome:
    """Plan `window` and record what is new in the ledger, in one transaction."""
    with store.session() as session:
        org = snapshot.load_organisation(session)
        already = ledger.keys_between(
            session, window.start - timedelta(days=1), window.end + lookahead(rules)
        )
        result = plan(rules, org, window, already)
        new = ledger.record(session, result.intents, org, now)
    return PlanOutcome(window, new, len(result.intents), result.skips)


def plan_event_window(store: Store, rules: RuleSet, event: Event, now: datetime) -> PlanOutcome:
    """Plan what the event rules want for one event (some messages may be for later) into the ledger.

    The event transport calls this; ticks also read creations, completions and overdue
    milestones from the state, with the same keys, so an event seen both ways is sent once.
    """
    with store.session() as session:
        org = snapshot.load_organisation(session)
        result = plan_event(rules, org, event, now)
        # A key already in the ledger is left alone: the same event twice plans nothing new.
        new = ledger.record(session, result.intents, org, now)
    return PlanOutcome(Window(now, now + timedelta(seconds=1)), new, len(result.intents), result.skips)


def _upcoming(store: Store, person_id: str, now: datetime) -> list[str]:
    with store.session() as session:
        org = snapshot.load_organisation(session)
        rows = ledger.upcoming_meetings(session, person_id, now, now + DIGEST_LOOKAHEAD)
    person = org.people.get(person_id)
    if person is None:
        return []
    return [f"{row.title}: {local_time(row.occurrence, person)}" for row in rows]


def deliver_due(
    store: Store, transport: Transport, sender: Sender, now: datetime, limit: int
) -> DeliveryOutcome:
    """Claim up to `limit` due messages, send each, and record each outcome as it happens."""
    outcome = DeliveryOutcome()
    with store.session() as session:
        claim = ledger.claim(session, now, limit)
    outcome.claimed = len(claim.rows)
    if not claim.rows:
        return outcome
    with store.session() as session:
        org = snapshot.load_organisation(session)
    for row in claim.rows:
        intent = ledger.intent_of(row)
        if intent.recipient not in org.people:
            why = (
                "fixed addresses are planned but not delivered yet (compose needs a person)"
                if "@" in intent.recipient
                else "recipient left the organisation"
            )
            with store.session() as session:
                ledger.mark_failed(session, row.key, claim.token, why, permanent=True)
            outcome.failed.append((row.key, why))
            continue
        try:
            upcoming = _upcoming(store, intent.recipient, now) if intent.kind is Kind.DIGEST else None
            message = compose(intent, org, sender, now, upcoming)
            ref = transport.send(intent.key, message, label(intent))
        except DeliveryError as exc:
            with store.session() as session:
                ledger.mark_failed(session, row.key, claim.token, exc.answer, permanent=exc.permanent)
            outcome.failed.append((row.key, exc.answer))
            continue
        except (ValueError, KeyError) as exc:
            # A message that cannot be built will not build on retry either.
            with store.session() as session:
                ledger.mark_failed(session, row.key, claim.token, f"cannot build: {exc}", permanent=True)
            outcome.failed.append((row.key, f"cannot build: {exc}"))
            continue
        with store.session() as session:
            ledger.mark_sent(session, row.key, claim.token, now, transport.name, ref)
        outcome.sent.append(Sent(row.key, row.rule_id, row.kind, row.recipient, row.occurrence, ref))
    return outcome


def next_window(
    store: Store, now: datetime, first_window: timedelta, since: datetime | None = None
) -> Window | None:
    """From the end of the last successful tick (or `since`) to `now`; None when nothing is new."""
    with store.session() as session:
        start = since or ledger.last_tick_end(session) or now - first_window
    return Window(start, now) if start < now else None


def record_tick(
    store: Store, now: datetime, window: Window | None, planned: int, delivery: DeliveryOutcome
) -> None:
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
            )
        )


@dataclass(frozen=True)
class SummaryLine:
    rule_id: str
    kind: str
    messages: int
    recipients: int
    statuses: dict[str, int]


def summarise(store: Store) -> list[SummaryLine]:
    """Per rule and kind: how many messages, to how many people, in which states."""
    with store.session() as session:
        rows = ledger.messages(session)
    groups: dict[tuple[str, str], list[MessageRow]] = {}
    for row in rows:
        groups.setdefault((row.rule_id, row.kind), []).append(row)
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
