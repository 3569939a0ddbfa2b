"""People's own email choices: per-category opt-outs and a pause (holidays, leave)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from strides.rules.delivery import Hold, hold_for
from strides.store.tables import EmailPreferenceRow


def _row(session: Session, person_id: str, now: datetime) -> EmailPreferenceRow:
    row = session.get(EmailPreferenceRow, person_id)
    if row is None:
        row = EmailPreferenceRow(person_id=person_id, opted_out={}, updated_at=now)
        session.add(row)
    return row


def opt_out(session: Session, person_id: str, category: str, now: datetime, how: str) -> bool:
    """Record that `person_id` wants no more `category` mail; False when already so."""
    row = _row(session, person_id, now)
    if category in row.opted_out:
        return False
    row.opted_out = {**row.opted_out, category: f"{now.isoformat()} via {how}"}
    row.updated_at = now
    session.flush()
    return True


def opt_in(session: Session, person_id: str, category: str, now: datetime) -> bool:
    row = session.get(EmailPreferenceRow, person_id)
    if row is None or category not in row.opted_out:
        return False
    row.opted_out = {k: v for k, v in row.opted_out.items() if k != category}
    row.updated_at = now
    return True


def pause(session: Session, person_id: str, start: datetime, end: datetime | None, now: datetime) -> None:
    """No mail from `start` until `end` (None: until resumed). Messages due inside are skipped, or
    sent after the pause when their rule says `pause: shift`."""
    if end is not None and end <= start:
        raise ValueError("a pause must end after it starts")
    row = _row(session, person_id, now)
    row.paused_from, row.paused_until, row.updated_at = start, end, now


def resume(session: Session, person_id: str, now: datetime) -> None:
    row = _row(session, person_id, now)
    row.paused_from, row.paused_until, row.updated_at = None, None, now


def get(session: Session, person_id: str) -> EmailPreferenceRow | None:
    return session.get(EmailPreferenceRow, person_id)


def held_back(
    session: Session, wanted: Iterable[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], Hold]:
    """For (person, category) pairs: why each one must not be mailed at `now`, if it must not
    (strides.rules.delivery.hold_for decides from the person's choices)."""
    pairs = set(wanted)
    people = sorted({p for p, _ in pairs})
    rows: dict[str, EmailPreferenceRow] = {}
    for start in range(0, len(people), 900):
        query = select(EmailPreferenceRow).where(
            EmailPreferenceRow.person_id.in_(people[start : start + 900])
        )
        rows.update((r.person_id, r) for r in session.scalars(query))
    holds: dict[tuple[str, str], Hold] = {}
    for person_id, category in pairs:
        row = rows.get(person_id)
        if row is None:
            continue
        hold = hold_for(category, row.opted_out, row.paused_from, row.paused_until, now)
        if hold is not None:
            holds[(person_id, category)] = hold
    return holds
