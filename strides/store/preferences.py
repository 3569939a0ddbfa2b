"""People's own email choices: per-category opt-outs, a pause (holidays, leave), and what they set
on their preference page (digest day, time and language, optional rules), each change audited."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from strides.domain.choices import OwnChoices
from strides.rules.delivery import Hold, hold_for
from strides.store import slices, snapshot
from strides.store.db import StoreError
from strides.store.tables import EmailPreferenceRow, PreferenceChangeRow


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
        choice = (row.choices or {}).get("pause", "rule")
        hold = hold_for(category, row.opted_out, row.paused_from, row.paused_until, now, choice)
        if hold is not None:
            holds[(person_id, category)] = hold
    return holds


def choices(session: Session, person_id: str) -> OwnChoices:
    """What `person_id` set on their preference page (nothing set: the organisation's values)."""
    row = session.get(EmailPreferenceRow, person_id)
    return OwnChoices.model_validate(row.choices) if row is not None and row.choices else OwnChoices()


def record(
    session: Session, person_id: str, setting: str, old: object, new: object, by: str, now: datetime
) -> None:
    """One line of the audit: who changed `setting` of `person_id`, from what to what, when."""
    session.add(
        PreferenceChangeRow(
            person_id=person_id,
            setting=setting,
            old=None if old is None else str(old),
            new=None if new is None else str(new),
            changed_by=by,
            changed_at=now,
        )
    )


def choose(session: Session, person_id: str, chosen: OwnChoices, by: str, now: datetime) -> list[str]:
    """Store what `person_id` chose, audit each setting that changed and lay the choices over their
    record, logged as a change so that the next tick plans them again; the settings changed."""
    person = slices.load_person(session, person_id)
    if person is None:
        raise StoreError(f"no person {person_id!r} in the organisation")
    row = _row(session, person_id, now)
    before = OwnChoices.model_validate(row.choices) if row.choices else OwnChoices()
    old, new = before.model_dump(mode="json"), chosen.model_dump(mode="json")
    changed = [name for name in new if old[name] != new[name]]
    for name in changed:
        record(session, person_id, name, _shown(old[name]), _shown(new[name]), by, now)
    if changed:
        row.choices, row.updated_at = new, now
        snapshot.update_person(session, chosen.apply(person))
        session.flush()
    return changed


def _shown(value: object) -> object:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return value


def set_pause(
    session: Session, person_id: str, start: datetime | None, end: datetime | None, by: str, now: datetime
) -> bool:
    """Pause from `start` to `end` (`start` None: no pause), audited; whether it changed."""
    row = session.get(EmailPreferenceRow, person_id)
    old = (row.paused_from, row.paused_until) if row is not None else (None, None)
    if (start, end if start else None) == old:
        return False
    if start is None:
        resume(session, person_id, now)
    else:
        pause(session, person_id, start, end, now)
    shown = [_span(a, b) for a, b in (old, (start, end))]
    record(session, person_id, "pause", shown[0], shown[1], by, now)
    return True


def subscribe(session: Session, person_id: str, category: str, wanted: bool, by: str, now: datetime) -> bool:
    """Opt `person_id` in to or out of `category` mail as `wanted`, audited; whether it changed."""
    changed = (
        opt_in(session, person_id, category, now)
        if wanted
        else opt_out(session, person_id, category, now, by)
    )
    if changed:
        old, new = ("opted out", "receives") if wanted else ("receives", "opted out")
        record(session, person_id, f"receive:{category}", old, new, by, now)
    return changed


def _span(start: datetime | None, end: datetime | None) -> str | None:
    """A pause as the audit shows it: `start..end` in UTC (`start..` until resumed)."""
    if start is None:
        return None
    return f"{start.astimezone(UTC).isoformat()}..{end.astimezone(UTC).isoformat() if end else ''}"


def changes(session: Session, person_id: str) -> list[PreferenceChangeRow]:
    """The audit of `person_id`'s settings, oldest first."""
    query = select(PreferenceChangeRow).where(PreferenceChangeRow.person_id == person_id)
    return list(session.scalars(query.order_by(PreferenceChangeRow.id)))
