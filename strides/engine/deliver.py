"""Delivering what is due: claim a chunk of the ledger, build each message, send, record.

A chunk loads only the slice of the organisation it needs (`strides.store.slices`), so it costs
the same in a large organisation as in a small one. What cannot be built, and what the delivery
policy holds back (`strides.rules.delivery`), is recorded before anything is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from strides import speed
from strides.domain.model import Organisation
from strides.domain.schema import Kind
from strides.integrations import DeliveryError
from strides.integrations.compose import Sender, outgoing
from strides.integrations.render import local_time
from strides.integrations.transport import Outgoing, Transport, send_all
from strides.rules import delivery
from strides.rules.digest import DUE_SOON, WINS_SINCE, ReportFacts, compose_digest
from strides.rules.intents import Intent
from strides.rules.retries import Retry
from strides.store import Session, Store, invites, ledger, preferences, slices, suppressions

DIGEST_LOOKAHEAD = timedelta(days=14)


DEFAULT_RETRY = Retry()


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
    # Not sent because of the recipient's preferences or address: opted out, paused, suppressed,
    # left the organisation (each marked dead with its reason, as a failure is).
    held_back: list[tuple[str, str]] = field(default_factory=list)
    claimed: int = 0
    # Due inside the recipient's pause under a `pause: shift` rule: (key, when it is due again).
    shifted: list[tuple[str, datetime]] = field(default_factory=list)
    # Failed for now (also in `failed`): (key, when it is tried again).
    retrying: list[tuple[str, datetime]] = field(default_factory=list)
    # The connection broke before the server answered the whole message (also in `failed`).
    ambiguous: list[str] = field(default_factory=list)

    def merge(self, other: DeliveryOutcome) -> None:
        self.sent.extend(other.sent)
        self.failed.extend(other.failed)
        self.held_back.extend(other.held_back)
        self.claimed += other.claimed
        self.shifted.extend(other.shifted)
        self.retrying.extend(other.retrying)
        self.ambiguous.extend(other.ambiguous)


def upcoming_meetings(
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
    retry: Retry = DEFAULT_RETRY,
) -> DeliveryOutcome:
    """Claim up to `limit` due messages, build them all, send them as one chunk, record each outcome.

    A message that cannot be built (bad address, line break in a header, too large) is dead before
    anything is sent; nothing goes out half-built. A claim older than `stale_after` belongs to a
    worker presumed dead and is taken over. Only the slice of the organisation the chunk needs is
    loaded (strides.store.slices), so a chunk costs the same in a large organisation as in a small one.
    A message that failed for now is due again later, as `retry` says (strides.rules.retries).
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
        upcoming_of = upcoming_meetings(session, org, digests, now) if digests else {}
        blocked = suppressions.suppressed(session, (row.recipient_email for row in claim.rows))
        held = preferences.held_back(session, ((row.recipient, row.kind) for row in claim.rows), now)
    with_data = bool(getattr(transport, "wants_template_data", False))
    structured = bool(getattr(transport, "wants_structured", False))
    ready: list[tuple[ledger.ClaimedRow, Outgoing]] = []
    refused: list[tuple[str, str]] = []
    held_back: list[tuple[str, str]] = []
    shifted: list[tuple[str, datetime, str]] = []
    for row, intent in zip(claim.rows, intents, strict=True):
        # None for a fixed address (not a person of the organisation): it is its own email.
        member = org.people.get(intent.recipient)
        stop = blocked.get((str(member.email) if member else intent.recipient).lower())
        decided = delivery.verdict(
            intent,
            timezone=member.timezone if member is not None else None,
            hold=held.get((row.recipient, row.kind)),
            suppression=delivery.Suppression(stop.reason, stop.created_at, stop.detail) if stop else None,
            now=now,
        )
        if isinstance(decided, delivery.Refuse):
            held_back.append((row.key, decided.reason))
            continue
        if isinstance(decided, delivery.Shift):
            shifted.append((row.key, decided.at, decided.note))
            continue
        try:
            upcoming, digest = None, None
            if intent.kind is Kind.DIGEST and member is not None:
                # A digest's contents are decided here; the edge only renders them.
                upcoming = upcoming_of.get(intent.recipient)
                digest = compose_digest(member, org, intent.occurrence, reports_of.get(intent.recipient, []))
            item = outgoing(
                intent,
                org,
                sender,
                now,
                upcoming,
                with_data=with_data,
                structured=structured,
                digest=digest,
            )
            size = item.size_over(max_bytes)
            if size is not None:
                raise ValueError(f"message is {size} bytes, over the {max_bytes}-byte limit")
        except (ValueError, KeyError) as exc:
            # A message that cannot be built will not build on retry either.
            refused.append((row.key, f"cannot build: {exc}"))
            continue
        ready.append((row, item))
    # What cannot be built is recorded before anything is sent; so is what waits for a pause to end.
    with store.session() as session:
        for key, reason in refused:
            ledger.mark_failed(session, key, claim.token, reason)
            outcome.failed.append((key, reason))
        for key, reason in held_back:
            ledger.mark_failed(session, key, claim.token, reason)
            outcome.held_back.append((key, reason))
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
                    verdict = retry.after_failure(
                        attempt=row.attempts,
                        key=row.key,
                        now=now,
                        answer=result.answer,
                        permanent=result.permanent,
                        ambiguous=result.ambiguous,
                        previous_error=row.last_error,
                    )
                    if result.ambiguous:
                        outcome.ambiguous.append(row.key)
                    if verdict.again is not None:
                        outcome.retrying.append((row.key, verdict.again))
                    ledger.mark_failed(session, row.key, claim.token, verdict.note, retry_at=verdict.again)
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
    retry: Retry = DEFAULT_RETRY,
) -> DeliveryOutcome:
    """Deliver chunk after chunk until nothing due is left (or `max_chunks` were done)."""
    total = DeliveryOutcome()
    with speed.fewer_collections():
        for _ in range(max_chunks):
            chunk = deliver_due(store, transport, sender, now, chunk_size, stale_after, max_bytes, retry)
            total.merge(chunk)
            if chunk.claimed < chunk_size:
                break
    return total


def count_due(store: Store, now: datetime, stale_after: timedelta = timedelta(minutes=10)) -> int:
    with store.session() as session:
        return ledger.count_due(session, now, stale_after)


def chunks_per_task(due: int, chunk_size: int, tasks: int) -> int:
    """Chunks each delivery task should drain so that `due` messages take about `tasks` tasks."""
    return max(1, -(-due // (chunk_size * tasks)))
