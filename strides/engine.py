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
from strides.rules import RuleSet, Skip, Window, plan
from strides.rules.reconcile import reconcile
from strides.rules.schema import Kind
from strides.store import Store, invites, ledger, snapshot
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
        # Invites are reconciled against the meetings already sent (rules/reconcile.py):
        # new ones are requested, moved or re-staffed ones updated, unwanted ones cancelled.
        known = {m.uid: m for m in invites.upcoming(session, after=window.start)}
        result = plan(rules, org, window, already, known=known.keys())
        notices = [i for i in result.intents if i.meeting is None]
        wanted = {i.meeting.uid: i for i in result.intents if i.meeting is not None}
        sent = [*known.values(), *invites.load(session, wanted.keys() - known.keys())]
        new = ledger.record(session, notices, org, now)
        new += invites.apply(session, reconcile(wanted.values(), sent, window, now), org, now)
    return PlanOutcome(window, new, len(result.intents), result.skips)


def _upcoming(store: Store, person_id: str, now: datetime) -> list[str]:
    with store.session() as session:
        org = snapshot.load_organisation(session)
        rows = invites.meetings(session, person=person_id, after=now)
    person = org.people.get(person_id)
    if person is None:
        return []
    lines = []
    for row in rows:
        if row.status != "active" or row.start >= now + DIGEST_LOOKAHEAD:
            continue
        line = f"{row.title}: {local_time(row.start, person)}"
        if any(a["id"] == person_id and a.get("partstat") == "DECLINED" for a in row.attendees):
            line += " (you declined: pick another time)"
        lines.append(line)
    return lines


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
            with store.session() as session:
                ledger.mark_failed(
                    session, row.key, claim.token, "recipient left the organisation", permanent=True
                )
            outcome.failed.append((row.key, "recipient left the organisation"))
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
