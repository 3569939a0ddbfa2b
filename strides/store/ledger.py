"""The ledger: every message strides means to send, keyed so nothing goes out twice.

A message is inserted once (its key is unique), claimed by one worker at a time, and
marked sent only after the transport accepted it. A claim left behind by a crashed worker
is taken over after a timeout; transports are idempotent per key, so a retried send of the
same message replaces, never duplicates.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from strides.domain.model import OrgLike, Records
from strides.domain.schema import Kind
from strides.rules.intents import Intent, Meeting
from strides.rules.recipients import owner_of
from strides.store.inserts import insert_new
from strides.store.tables import MessageRow, TickRow

PENDING, SENDING, SENT, FAILED, DEAD = "pending", "sending", "sent", "failed", "dead"
# A message not yet sent that a change made unwanted (a moved deadline's old reminders).
CANCELLED = "cancelled"
# An invite message not yet sent when a newer SEQUENCE of the same meeting replaced it.
SUPERSEDED = "superseded"
STATUSES = (PENDING, SENDING, SENT, FAILED, DEAD, SUPERSEDED, CANCELLED)


def _payload(intent: Intent) -> dict[str, Any]:
    meeting = intent.meeting
    return {
        "body": intent.body,
        # Only a shift is stored: rows planned before pause policies existed read as "skip".
        **({"on_pause": intent.on_pause} if intent.on_pause != "skip" else {}),
        "meeting": None
        if meeting is None
        else {
            "uid": meeting.uid,
            "start": meeting.start.isoformat(),
            "end": meeting.end.isoformat(),
            "timezone": meeting.timezone,
            "attendees": list(meeting.attendees),
            "sequence": meeting.sequence,
            "method": meeting.method,
            "organiser": meeting.organiser,
        },
    }


def intent_of(row: MessageRow | Row[Any]) -> Intent:
    """Rebuild the planner's intent from its ledger row."""
    data = row.payload.get("meeting")
    meeting = None
    if data:
        # Back to the meeting's own zone: a fixed UTC offset would lose its VTIMEZONE and DST.
        zone = ZoneInfo(data["timezone"])
        meeting = Meeting(
            uid=data["uid"],
            start=datetime.fromisoformat(data["start"]).astimezone(zone),
            end=datetime.fromisoformat(data["end"]).astimezone(zone),
            timezone=data["timezone"],
            attendees=tuple(data["attendees"]),
            sequence=data.get("sequence", 0),
            method=data.get("method", "REQUEST"),
            organiser=data.get("organiser"),
        )
    return Intent(
        key=row.key,
        rule_id=row.rule_id,
        kind=Kind(row.kind),
        subject=row.subject,
        owner=row.payload.get("owner"),
        occurrence=row.occurrence,
        recipient=row.recipient,
        send_at=row.send_at,
        title=row.title,
        body=row.payload.get("body", ""),
        meeting=meeting,
        on_pause=row.payload.get("on_pause", "skip"),
    )


def _owner_entry(intent: Intent, org: Records) -> dict[str, Any]:
    """A fixed address is nobody's: delivery shows its times in the owner's timezone."""
    if intent.recipient in org.people:
        return {}
    owner = org.people.get(intent.owner or "") or owner_of(org, intent.subject)
    return {"owner": owner.id if owner else None}


def record(session: Session, intents: Sequence[Intent], org: OrgLike, now: datetime) -> int:
    """Insert intents as pending messages; a key already present is left alone. Returns new rows."""
    if not intents:
        return 0
    rows = [
        {
            "key": i.key,
            "rule_id": i.rule_id,
            "kind": i.kind.value,
            "subject": i.subject,
            "occurrence": i.occurrence,
            "recipient": i.recipient,
            # A rule may name a fixed address instead of a person of the organisation.
            "recipient_email": str(org.people[i.recipient].email)
            if i.recipient in org.people
            else i.recipient,
            "send_at": i.send_at,
            "title": i.title,
            "uid": i.meeting.uid if i.meeting else None,
            "sequence": i.meeting.sequence if i.meeting else 0,
            "status": PENDING,
            "attempts": 0,
            "planned_at": now,
            "payload": {**_payload(i), **_owner_entry(i, org)},
        }
        for i in intents
    ]
    return len(insert_new(session, MessageRow, "key", rows))


def keys_between(session: Session, start: datetime, end: datetime, *, notices: bool = False) -> set[str]:
    """Keys of messages whose occurrence falls in [start, end): what a window may already hold.

    With `notices`, invites are left out (the planner compares meetings through the invite ledger).
    """
    query = select(MessageRow.key).where(MessageRow.occurrence >= start, MessageRow.occurrence < end)
    if notices:
        # By kind (not "not an invite"): the (kind, occurrence, key) index then answers it alone.
        query = query.where(MessageRow.kind.in_([k.value for k in Kind if k is not Kind.INVITE]))
    # Core, not the ORM's scalars: tens of thousands of keys a tick, plain strings.
    return set(session.connection().execute(query).scalars().all())


# A claimed message's row: the columns of MessageRow, read-only.
ClaimedRow = Row[Any]


@dataclass(frozen=True)
class Claim:
    token: str
    rows: list[ClaimedRow]


def claim(
    session: Session, now: datetime, limit: int, stale_after: timedelta = timedelta(minutes=10)
) -> Claim:
    """Atomically take up to `limit` due messages for this worker."""
    token = uuid.uuid4().hex
    due = or_(
        and_(MessageRow.status.in_((PENDING, FAILED)), MessageRow.send_at <= now),
        and_(MessageRow.status == SENDING, MessageRow.claimed_at < now - stale_after),
    )
    query = select(MessageRow.id).where(due).order_by(MessageRow.send_at, MessageRow.id).limit(limit)
    table = MessageRow.__table__
    assert isinstance(table, Table)
    # The claimed rows come back from the UPDATE itself (RETURNING: SQLite 3.35+, PostgreSQL):
    # reading them again by claim token scanned the whole table (no index on it), 20-30 ms a
    # claim with 100,000 messages. Plain rows (attribute access by column name), not ORM objects:
    # nothing here is changed through the session, and 1,000 tracked objects cost more than the query.
    claimed = (
        update(table)
        .values(status=SENDING, claimed_by=token, claimed_at=now, attempts=table.c.attempts + 1)
        .returning(*table.c)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Lock the chosen rows until this transaction ends; other workers skip them. Two
        # statements, not `UPDATE ... WHERE id IN (SELECT ... LIMIT n SKIP LOCKED)`: PostgreSQL may
        # run such a subquery once per row and so claim far more than `limit` rows.
        ids = list(session.scalars(query.with_for_update(skip_locked=True)))
        if not ids:
            return Claim(token, [])
        result = session.execute(claimed.where(table.c.id.in_(ids), due))
    else:
        # SQLite: one statement. It takes the database's write lock before it reads, so the rows
        # it picks are the rows it claims: concurrent claimers (threads, processes) queue for the
        # lock instead of picking the same rows and coming away with short chunks.
        result = session.execute(claimed.where(table.c.id.in_(_due_sqlite(now, limit, stale_after))))
    # RETURNING gives no order: the chunk goes out in the order the messages were planned.
    rows: list[Row[Any]] = sorted(cast(Iterable[Row[Any]], result), key=lambda row: row.id)
    return Claim(token, rows)


def _due_sqlite(now: datetime, limit: int, stale_after: timedelta) -> ScalarSelect[Any]:
    """The ids `claim` picks, as SQLite reads them fast: the first `limit` of each kind of due
    message in (send_at, id) order, each from the (status, send_at) index, then the first `limit`
    of those. The same rows as one `ORDER BY send_at, id LIMIT n` over all due messages, which made
    SQLite read and sort every due row for every claim (28 ms a claim with 100,000 due, 5 ms so)."""
    t = MessageRow
    branches = (
        select(t.id, t.send_at).where(t.status == PENDING, t.send_at <= now),
        select(t.id, t.send_at).where(t.status == FAILED, t.send_at <= now),
        select(t.id, t.send_at).where(t.status == SENDING, t.claimed_at < now - stale_after),
    )
    firsts = [b.order_by(t.send_at, t.id).limit(limit).subquery() for b in branches]
    due = union_all(*(select(f.c.id, f.c.send_at) for f in firsts)).subquery()
    return select(due.c.id).order_by(due.c.send_at, due.c.id).limit(limit).scalar_subquery()


def mark_sent(session: Session, key: str, token: str, now: datetime, transport: str, ref: str) -> bool:
    """Record the transport's acceptance; False when another worker has taken the claim over."""
    params = {"b_key": key, "b_ref": ref, "b_token": token, "b_now": now, "b_transport": transport}
    return bool(getattr(session.execute(_sent_statement(), params), "rowcount", 0))


@functools.cache
def _sent_statement() -> Update:
    table = MessageRow.__table__
    assert isinstance(table, Table)
    return (
        update(table)
        .where(table.c.key == bindparam("b_key"), table.c.claimed_by == bindparam("b_token"))
        .values(
            status=SENT,
            sent_at=bindparam("b_now"),
            transport=bindparam("b_transport"),
            transport_ref=bindparam("b_ref"),
            last_error=None,
        )
    )


def record_sent(
    connection: Connection, token: str, now: datetime, transport: str, refs: Sequence[tuple[str, str]]
) -> set[str]:
    """`mark_sent` for one request's messages, (key, ref) pairs, without the ORM (the hot path of
    delivery), committed at once. Returns the keys recorded as sent; the others were taken over by
    another worker meanwhile."""
    if not refs:
        return set()
    common = {"b_token": token, "b_now": now, "b_transport": transport}
    if len(refs) == 1:
        key, ref = refs[0]
        done = connection.execute(_sent_statement(), {"b_key": key, "b_ref": ref, **common})
        connection.commit()
        return {key} if done.rowcount else set()
    # Messages that share a reference (a template request's batch) are recorded by one UPDATE per
    # 900 keys, which says which of them we still held (RETURNING).
    table = MessageRow.__table__
    assert isinstance(table, Table)
    by_ref: dict[str, list[str]] = {}
    for key, ref in refs:
        by_ref.setdefault(ref, []).append(key)
    sent: set[str] = set()
    for ref, keys in by_ref.items():
        for start in range(0, len(keys), 900):
            statement = (
                update(table)
                .where(table.c.key.in_(keys[start : start + 900]), table.c.claimed_by == token)
                .values(status=SENT, sent_at=now, transport=transport, transport_ref=ref, last_error=None)
                .returning(table.c.key)
            )
            sent.update(connection.scalars(statement))
    connection.commit()
    return sent


def reschedule(session: Session, key: str, token: str, send_at: datetime, note: str) -> bool:
    """Give a claimed message back, due again at `send_at` (same row, same key: it is still sent
    once). The claim does not count as an attempt. False when another worker took it over."""
    result = session.execute(
        update(MessageRow)
        .where(MessageRow.key == key, MessageRow.claimed_by == token)
        .values(
            status=PENDING,
            send_at=send_at,
            claimed_by=None,
            claimed_at=None,
            attempts=MessageRow.attempts - 1,
            last_error=note[:2000],
        )
    )
    return bool(getattr(result, "rowcount", 0))


def mark_failed(
    session: Session, key: str, token: str, error: str, *, retry_at: datetime | None = None
) -> None:
    """Record a failed try: due again at `retry_at` (failed), or never (dead) when it is None."""
    values: dict[str, Any] = {"status": DEAD, "last_error": error[:2000]}
    if retry_at is not None:
        values.update(status=FAILED, send_at=retry_at, claimed_by=None, claimed_at=None)
    session.execute(
        update(MessageRow).where(MessageRow.key == key, MessageRow.claimed_by == token).values(**values)
    )


def _matching(rule: str | None, recipient: str | None) -> list[ColumnElement[bool]]:
    """Conditions on messages: of this rule, to this recipient (person id or email)."""
    conditions: list[ColumnElement[bool]] = []
    if rule:
        conditions.append(MessageRow.rule_id == rule)
    if recipient:
        conditions.append(or_(MessageRow.recipient == recipient, MessageRow.recipient_email == recipient))
    return conditions


def revive(
    session: Session,
    now: datetime,
    *,
    key: str | None = None,
    rule: str | None = None,
    recipient: str | None = None,
) -> int:
    """Dead messages due again now, with their tries counted afresh (after an outage); how many."""
    query = update(MessageRow).where(MessageRow.status == DEAD, *_matching(rule, recipient))
    if key:
        query = query.where(MessageRow.key == key)
    result = session.execute(
        query.values(status=PENDING, send_at=now, attempts=0, claimed_by=None, claimed_at=None)
    )
    return int(getattr(result, "rowcount", 0))


def pending_about(session: Session, subjects: Iterable[str]) -> list[MessageRow]:
    """Messages about these subjects not sent yet (pending, or failed and due again)."""
    wanted = sorted(set(subjects))
    found: list[MessageRow] = []
    for start in range(0, len(wanted), 900):
        query = select(MessageRow).where(
            MessageRow.subject.in_(wanted[start : start + 900]), MessageRow.status.in_((PENDING, FAILED))
        )
        found.extend(session.scalars(query))
    return found


def cancel_pending(session: Session, keys: Sequence[str], why: str) -> None:
    """Withdraw these messages unless they went out meanwhile; `why` is kept as their last word."""
    for start in range(0, len(keys), 900):
        session.execute(
            update(MessageRow)
            .where(MessageRow.key.in_(keys[start : start + 900]), MessageRow.status.in_((PENDING, FAILED)))
            .values(status=CANCELLED, last_error=why)
        )


def last_tick(session: Session) -> TickRow | None:
    """The done tick whose window ends last."""
    query = (
        select(TickRow).where(TickRow.status == "done").order_by(TickRow.window_end.desc(), TickRow.id.desc())
    )
    return session.scalars(query.limit(1)).first()


def latest_tick(session: Session) -> TickRow | None:
    """The tick recorded last (whatever its window)."""
    return session.scalars(select(TickRow).order_by(TickRow.id.desc()).limit(1)).first()


def count_by_status(session: Session) -> dict[str, int]:
    """How many messages are in each state (pending, sent, dead...)."""
    rows = session.execute(select(MessageRow.status, func.count()).group_by(MessageRow.status))
    return {status: count for status, count in rows}


def last_tick_end(session: Session) -> datetime | None:
    return session.scalar(select(func.max(TickRow.window_end)).where(TickRow.status == "done"))


def messages(
    session: Session,
    *,
    status: str | None = None,
    rule: str | None = None,
    recipient: str | None = None,
    limit: int | None = None,
) -> list[MessageRow]:
    query = select(MessageRow).where(*_matching(rule, recipient)).order_by(MessageRow.send_at, MessageRow.id)
    if status:
        query = query.where(MessageRow.status == status)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def has_message(session: Session, key: str) -> bool:
    return session.scalar(select(MessageRow.id).where(MessageRow.key == key).limit(1)) is not None


def count_due(session: Session, now: datetime, stale_after: timedelta = timedelta(minutes=10)) -> int:
    """How many messages a delivery at `now` would claim, the claims of a crashed worker included."""
    due = or_(
        and_(MessageRow.status.in_((PENDING, FAILED)), MessageRow.send_at <= now),
        and_(MessageRow.status == SENDING, MessageRow.claimed_at < now - stale_after),
    )
    return session.scalar(select(func.count()).where(due)) or 0
