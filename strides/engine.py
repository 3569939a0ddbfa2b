"""The work of a tick as plain functions: plan a window into the ledger, deliver what is due.

Flows call these; tests call them directly.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strides.integrations import DeliveryError
from strides.integrations.compose import Sender, outgoing
from strides.integrations.render import local_time
from strides.integrations.transport import Outgoing, Transport, send_all
from strides.rules import RuleSet, Skip, Window, plan
from strides.rules.schema import Kind
from strides.store import Store, ledger, preferences, snapshot, suppressions
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


def _upcoming(store: Store, person_id: str, now: datetime) -> list[str]:
    with store.session() as session:
        org = snapshot.load_organisation(session)
        rows = ledger.upcoming_meetings(session, person_id, now, now + DIGEST_LOOKAHEAD)
    person = org.people.get(person_id)
    if person is None:
        return []
    return [f"{row.title}: {local_time(row.occurrence, person)}" for row in rows]


def deliver_due(
    store: Store, transport: Transport, sender: Sender, now: datetime, limit: int, max_bytes: int = 10_000_000
) -> DeliveryOutcome:
    """Claim up to `limit` due messages, build them all, send them as one chunk, record each outcome.

    A message that cannot be built (bad address, line break in a header, too large) is dead before
    anything is sent; nothing goes out half-built.
    """
    outcome = DeliveryOutcome()
    with store.session() as session:
        claim = ledger.claim(session, now, limit)
    outcome.claimed = len(claim.rows)
    if not claim.rows:
        return outcome
    with store.session() as session:
        org = snapshot.load_organisation(session)
        blocked = suppressions.suppressed(session, (row.recipient_email for row in claim.rows))
        held = preferences.held_back(session, ((row.recipient, row.kind) for row in claim.rows), now)
    with_data = bool(getattr(transport, "wants_template_data", False))
    structured = bool(getattr(transport, "wants_structured", False))
    ready: list[tuple[MessageRow, Outgoing]] = []
    refused: list[tuple[str, str]] = []
    for row in claim.rows:
        intent = ledger.intent_of(row)
        if intent.recipient not in org.people:
            refused.append((row.key, "recipient left the organisation"))
            continue
        if (row.recipient, row.kind) in held:
            refused.append((row.key, held[(row.recipient, row.kind)]))
            continue
        stop = blocked.get(str(org.people[intent.recipient].email).lower())
        if stop is not None:
            why = f"suppressed: {stop.reason} on {stop.created_at:%Y-%m-%d}" + (
                f" ({stop.detail})" if stop.detail else ""
            )
            refused.append((row.key, why))
            continue
        try:
            upcoming = _upcoming(store, intent.recipient, now) if intent.kind is Kind.DIGEST else None
            item = outgoing(intent, org, sender, now, upcoming, with_data=with_data, structured=structured)
            size = item.size()
            if size > max_bytes:
                raise ValueError(f"message is {size} bytes, over the {max_bytes}-byte limit")
        except (ValueError, KeyError) as exc:
            # A message that cannot be built will not build on retry either.
            refused.append((row.key, f"cannot build: {exc}"))
            continue
        ready.append((row, item))
    results = send_all(transport, [item for _, item in ready]) if ready else []
    with store.session() as session:
        for key, reason in refused:
            ledger.mark_failed(session, key, claim.token, reason, permanent=True)
            outcome.failed.append((key, reason))
        for (row, _item), result in zip(ready, results, strict=True):
            if isinstance(result, DeliveryError):
                ledger.mark_failed(session, row.key, claim.token, result.answer, permanent=result.permanent)
                outcome.failed.append((row.key, result.answer))
                continue
            ledger.mark_sent(session, row.key, claim.token, now, transport.name, result)
            outcome.sent.append(Sent(row.key, row.rule_id, row.kind, row.recipient, row.occurrence, result))
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
