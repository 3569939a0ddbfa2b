"""Provider events per message, and the addresses strides must not mail any more."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from strides.domain.responses import EmailEvent
from strides.store.tables import EmailEventRow, SuppressionRow


@dataclass(frozen=True)
class Recorded:
    recorded: int
    duplicates: int
    suppressed: tuple[str, ...]


def record_events(session: Session, events: Sequence[EmailEvent], now: datetime) -> Recorded:
    """Store each event once (SendGrid retries deliveries) and suppress what must be suppressed."""
    ids = [e.event_id for e in events]
    seen = set(session.scalars(select(EmailEventRow.event_id).where(EmailEventRow.event_id.in_(ids))))
    recorded, suppressed = 0, []
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        session.add(
            EmailEventRow(
                event_id=event.event_id,
                message_key=event.message_key,
                event=event.event,
                provider_event=event.provider_event,
                email=event.email,
                reason=event.reason,
                provider_message_id=event.provider_message_id,
                occurred_at=event.occurred_at,
                received_at=now,
                raw=event.raw,
            )
        )
        recorded += 1
        reason = event.suppresses
        if reason and suppress(session, event.email, reason, event.reason, event.message_key, now):
            suppressed.append(event.email)
    return Recorded(recorded, len(events) - recorded, tuple(suppressed))


def suppress(
    session: Session, email: str, reason: str, detail: str | None, key: str | None, now: datetime
) -> bool:
    """Add `email` to the suppression list; False when it is already there."""
    address = email.strip().lower()
    if session.get(SuppressionRow, address) is not None:
        return False
    session.add(SuppressionRow(email=address, reason=reason, detail=detail, message_key=key, created_at=now))
    session.flush()
    return True


def unsuppress(session: Session, email: str) -> bool:
    result = session.execute(delete(SuppressionRow).where(SuppressionRow.email == email.strip().lower()))
    return bool(getattr(result, "rowcount", 0))


def suppressed(session: Session, emails: Iterable[str]) -> dict[str, SuppressionRow]:
    """The suppression rows among `emails` (compared case-insensitively), by lower-cased address."""
    wanted = sorted({e.strip().lower() for e in emails})
    found: dict[str, SuppressionRow] = {}
    for start in range(0, len(wanted), 900):
        query = select(SuppressionRow).where(SuppressionRow.email.in_(wanted[start : start + 900]))
        found.update((row.email, row) for row in session.scalars(query))
    return found


def suppressions(session: Session, reason: str | None = None) -> list[SuppressionRow]:
    query = select(SuppressionRow).order_by(SuppressionRow.created_at, SuppressionRow.email)
    if reason:
        query = query.where(SuppressionRow.reason == reason)
    return list(session.scalars(query))


def events_of(session: Session, message_key: str) -> list[EmailEventRow]:
    query = (
        select(EmailEventRow)
        .where(EmailEventRow.message_key == message_key)
        .order_by(EmailEventRow.occurred_at, EmailEventRow.id)
    )
    return list(session.scalars(query))


def delivery_status(session: Session, message_key: str) -> str | None:
    """The message's latest provider event (delivered, bounced...), or None before any arrived."""
    events = events_of(session, message_key)
    return events[-1].event if events else None
