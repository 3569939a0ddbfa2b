"""The Prefect events the listener has reacted to: what its catch-up skips, and where it resumes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from strides.store.inserts import insert_new
from strides.store.tables import HandledEventRow


def handled_among(session: Session, event_ids: Iterable[str]) -> set[str]:
    """Which of these event ids were handled already."""
    ids = list(event_ids)
    if not ids:
        return set()
    query = select(HandledEventRow.event_id).where(HandledEventRow.event_id.in_(ids))
    return set(session.scalars(query))


def mark_handled(
    session: Session, event_id: str, event: str, resource: str, occurred: datetime, now: datetime
) -> bool:
    """Record one handled event; False if it was recorded already."""
    row = {
        "event_id": event_id,
        "event": event,
        "resource": resource,
        "occurred": occurred,
        "handled_at": now,
    }
    return bool(insert_new(session, HandledEventRow, "event_id", [row]))


def newer_handled(session: Session, event: str, resource: str, occurred: datetime) -> bool:
    """Whether an event of this name about this resource that happened later was handled."""
    query = select(HandledEventRow.event_id).where(
        HandledEventRow.event == event,
        HandledEventRow.resource == resource,
        HandledEventRow.occurred > occurred,
    )
    return session.scalar(query.limit(1)) is not None


def latest_occurred(session: Session) -> datetime | None:
    """When the newest handled event happened (the listener resumes a margin before it)."""
    latest: datetime | None = session.scalar(select(func.max(HandledEventRow.occurred)))
    return latest


def forget_before(session: Session, moment: datetime) -> int:
    """Drop records of events older than `moment` (Prefect keeps events for 7 days by default)."""
    result = session.execute(delete(HandledEventRow).where(HandledEventRow.occurred < moment))
    return int(getattr(result, "rowcount", 0) or 0)
