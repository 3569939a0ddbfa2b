"""Skips: what the rules wanted but did not send, and why, kept so admins can see it later.

The planner reports a skip when a relationship is missing (no mentor), a moment is later than
the rule's `max_lateness`, an escalation inhibits the message, two people's working hours do
not overlap, a digest would be empty, or a condition fails at run time. Each is stored once
under a key of (rule, subject, occurrence, reason), so planning the same moment again, or a
tick and an event seeing the same moment, records it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from strides.domain.model import Records
from strides.rules.intents import Skip
from strides.rules.keys import skip_key
from strides.rules.recipients import owner_of
from strides.store.inserts import insert_new
from strides.store.tables import SkipRow


def record(session: Session, found: Sequence[Skip], org: Records, now: datetime) -> int:
    """Store each skip once; returns how many were new."""
    rows: dict[str, dict[str, Any]] = {}
    for skip in found:
        key = skip_key(skip.rule_id, skip.subject, skip.occurrence, skip.reason)
        owner = owner_of(org, skip.subject)
        rows[key] = {
            "key": key,
            "rule_id": skip.rule_id,
            "subject": skip.subject,
            "person": owner.id if owner else None,
            "occurrence": skip.occurrence,
            "cause": skip.cause,
            "reason": skip.reason,
            "recorded_at": now,
        }
    return len(insert_new(session, SkipRow, "key", list(rows.values())))


def skips(
    session: Session,
    *,
    rule: str | None = None,
    person: str | None = None,
    since: datetime | None = None,
    cause: str | None = None,
    limit: int | None = None,
) -> list[SkipRow]:
    """Recorded skips, newest occurrence last; filtered by rule, person, cause, and occurrence since."""
    query = select(SkipRow).order_by(SkipRow.occurrence, SkipRow.id)
    if rule:
        query = query.where(SkipRow.rule_id == rule)
    if person:
        query = query.where(SkipRow.person == person)
    if since:
        query = query.where(SkipRow.occurrence >= since)
    if cause:
        query = query.where(SkipRow.cause == cause)
    if limit:
        # The newest `limit`, still in order of occurrence.
        newest = query.order_by(None).order_by(SkipRow.occurrence.desc(), SkipRow.id.desc()).limit(limit)
        return sorted(session.scalars(newest), key=lambda r: (r.occurrence, r.id))
    return list(session.scalars(query))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(SkipRow)) or 0


def count_by_cause(session: Session) -> dict[str, int]:
    """How many skips of each cause (missing, late, inhibited...) were recorded."""
    rows = session.execute(select(SkipRow.cause, func.count()).group_by(SkipRow.cause))
    return {cause: count for cause, count in rows}
