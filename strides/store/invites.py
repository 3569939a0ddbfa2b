"""The invite ledger: each meeting as last sent, so the next tick can update or cancel it.

One row per UID holds the SEQUENCE, time, attendees (with their PARTSTAT) and text of the
last message sent about the meeting. Each message itself is an ordinary ledger row
(strides/store/ledger.py) keyed by (UID, SEQUENCE, method, recipient).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from strides.domain.model import OrgLike
from strides.domain.responses import Reply
from strides.rules.intents import Intent
from strides.rules.reconcile import ACTIVE, Decision, Reason, SentMeeting
from strides.store import ledger
from strides.store.inserts import insert_new
from strides.store.shards import WHOLE, Shard, bucket
from strides.store.tables import InviteAttendeeRow, InviteRow, MessageRow

# First invitations built and inserted per batch (bounded memory for a large first tick).
NEW_BATCH = 500

NEEDS_ACTION, ACCEPTED = "NEEDS-ACTION", "ACCEPTED"


def sent_meeting(row: InviteRow) -> SentMeeting:
    return SentMeeting(
        uid=row.uid,
        rule_id=row.rule_id,
        subject=row.subject,
        sequence=row.sequence,
        status=row.status,
        start=row.start,
        end=row.end,
        timezone=row.timezone,
        attendees=tuple(a["id"] for a in row.attendees),
        title=row.title,
        body=row.body,
        organiser=row.organiser,
    )


def upcoming(session: Session, after: datetime, shard: Shard = WHOLE) -> list[SentMeeting]:
    """Active meetings that start after `after`: the ones a tick must keep in line with the rules."""
    query = select(InviteRow).where(InviteRow.status == ACTIVE, InviteRow.start > after)
    if not shard.whole:
        query = query.where(InviteRow.bucket.between(shard.low, shard.high - 1))
    return [sent_meeting(row) for row in session.scalars(query)]


def upcoming_about(session: Session, subjects: Iterable[str], after: datetime) -> list[SentMeeting]:
    """Active meetings about these subjects that start after `after`."""
    wanted = sorted(set(subjects))
    found: list[SentMeeting] = []
    for start in range(0, len(wanted), 900):
        query = select(InviteRow).where(
            InviteRow.subject.in_(wanted[start : start + 900]),
            InviteRow.status == ACTIVE,
            InviteRow.start > after,
        )
        found.extend(sent_meeting(row) for row in session.scalars(query))
    return found


def load(session: Session, uids: Iterable[str]) -> list[SentMeeting]:
    wanted = sorted(set(uids))
    found: list[SentMeeting] = []
    for start in range(0, len(wanted), 900):
        query = select(InviteRow).where(InviteRow.uid.in_(wanted[start : start + 900]))
        found.extend(sent_meeting(row) for row in session.scalars(query))
    return found


def _attendees(
    decision: Decision, org: OrgLike, previous: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """Attendees with their PARTSTAT: kept across a change unless the meeting moved."""
    keep = previous is not None and Reason.TIME not in decision.reasons
    before = {a["id"]: a for a in previous or []}
    result = []
    for person_id in decision.state.attendees:
        person = org.people.get(person_id)
        old = before.get(person_id, {})
        # A fixed address (a rule's `to: [team@example.com]`) is its own email.
        email = str(person.email) if person else person_id if "@" in person_id else old.get("email", "")
        if person_id == decision.state.organiser:
            # The organiser is not asked to answer their own meeting.
            result.append({"id": person_id, "email": email, "partstat": ACCEPTED})
        elif keep and old:
            result.append({**old, "email": email})
        else:
            # A new attendee, or a meeting at a new time: the earlier answer no longer holds.
            result.append({"id": person_id, "email": email, "partstat": NEEDS_ACTION})
    return result


def _index_attendees(session: Session, attendees_of: dict[str, list[dict[str, Any]]]) -> None:
    """Keep `invite_attendees` in step with the meetings' attendees (uid to attendee list)."""
    if not attendees_of:
        return
    uids = list(attendees_of)
    for start in range(0, len(uids), 900):
        session.execute(delete(InviteAttendeeRow).where(InviteAttendeeRow.uid.in_(uids[start : start + 900])))
    rows = [
        {"person": person, "uid": uid}
        for uid, attendees in attendees_of.items()
        for person in sorted({a["id"] for a in attendees})
    ]
    if rows:
        session.execute(insert(InviteAttendeeRow), rows)


def _values(decision: Decision, now: datetime) -> dict[str, Any]:
    state = decision.state
    return {
        "rule_id": state.rule_id,
        "subject": state.subject,
        "bucket": bucket(state.subject),
        "sequence": state.sequence,
        "status": state.status,
        "start": state.start,
        "end": state.end,
        "timezone": state.timezone,
        "title": state.title,
        "body": state.body,
        "organiser": state.organiser,
        "updated_at": now,
    }


def _deliverable(decision: Decision, org: OrgLike) -> list[Intent]:
    # A person who left cannot be mailed; the others (and fixed addresses) still hear of the change.
    return [m for m in decision.messages if m.recipient in org.people or "@" in m.recipient]


def _apply_new(session: Session, decisions: Sequence[Decision], org: OrgLike, now: datetime) -> int:
    """First invitations, in batches: a first tick over a large organisation decides ~1 per person.

    A UID inserted here had no row, so no earlier message about it can be pending (messages are
    recorded in the same transaction as their meeting): nothing to supersede.
    """
    inserted: set[str] = set()
    for start in range(0, len(decisions), NEW_BATCH):
        rows = [
            {
                "uid": d.state.uid,
                "created_at": now,
                **_values(d, now),
                "attendees": _attendees(d, org, None),
            }
            for d in decisions[start : start + NEW_BATCH]
        ]
        taken = set(insert_new(session, InviteRow, "uid", rows))
        _index_attendees(session, {row["uid"]: row["attendees"] for row in rows if row["uid"] in taken})
        inserted.update(taken)
    messages = [m for d in decisions if d.state.uid in inserted for m in _deliverable(d, org)]
    return ledger.record(session, messages, org, now)


def apply(session: Session, decisions: Sequence[Decision], org: OrgLike, now: datetime) -> int:
    """Record each decision (state and messages) in the caller's transaction. Returns new messages.

    A decision is recorded only if the meeting still has the sequence it was decided against,
    so a decision repeated after a crash, or raced by another tick, records nothing twice.
    """
    # The same UID decided twice in one call would race itself in a batch: keep it in order.
    firsts = [d for d in decisions if d.previous is None]
    if len({d.state.uid for d in firsts}) != len(firsts):
        firsts = []
    new_messages = _apply_new(session, firsts, org, now) if firsts else 0
    for decision in decisions:
        if firsts and decision.previous is None:
            continue
        state = decision.state
        values = _values(decision, now)
        if decision.previous is None:
            values["attendees"] = _attendees(decision, org, None)
            if not insert_new(session, InviteRow, "uid", [{"uid": state.uid, "created_at": now, **values}]):
                continue
            _index_attendees(session, {state.uid: values["attendees"]})
        else:
            row = session.get(InviteRow, state.uid)
            if row is None or row.sequence != decision.previous:
                continue
            values["attendees"] = _attendees(decision, org, row.attendees)
            result = session.execute(
                update(InviteRow)
                .where(InviteRow.uid == state.uid, InviteRow.sequence == decision.previous)
                .values(values)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                continue
            session.expire(row)
            _index_attendees(session, {state.uid: values["attendees"]})
        messages = _deliverable(decision, org)
        recipients = {m.recipient for m in messages}
        # An older message about this meeting that has not gone out yet would only confuse.
        session.execute(
            update(MessageRow)
            .where(
                and_(
                    MessageRow.uid == state.uid,
                    MessageRow.recipient.in_(recipients),
                    MessageRow.sequence < state.sequence,
                    MessageRow.status.in_((ledger.PENDING, ledger.FAILED)),
                )
            )
            .values(status=ledger.SUPERSEDED)
            .execution_options(synchronize_session=False)
        )
        new_messages += ledger.record(session, messages, org, now)
    return new_messages


def meetings(
    session: Session,
    *,
    person: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
) -> list[InviteRow]:
    """Remembered meetings, soonest first; optionally one attendee's (read through the attendee
    index, not by scanning everyone's), or those in (after, before)."""
    query = select(InviteRow).order_by(InviteRow.start, InviteRow.uid)
    if person is not None:
        query = query.join(InviteAttendeeRow, InviteAttendeeRow.uid == InviteRow.uid).where(
            InviteAttendeeRow.person == person
        )
    if after is not None:
        query = query.where(InviteRow.start > after)
    if before is not None:
        query = query.where(InviteRow.start < before)
    return list(session.scalars(query))


def count_by_status(session: Session) -> dict[str, int]:
    """How many meetings are active and how many cancelled."""
    rows = session.execute(select(InviteRow.status, func.count()).group_by(InviteRow.status))
    return {status: count for status, count in rows}


@dataclass(frozen=True)
class ReplyOutcome:
    """What became of one attendee's reply: applied, or rejected with the reason."""

    reply: Reply
    applied: bool
    reason: str
    person: str | None = None
    title: str = ""

    def __str__(self) -> str:
        verdict = "recorded" if self.applied else "rejected"
        return f"{self.reply.source}: {verdict}: {self.reply.attendee} {self.reply.partstat}: {self.reason}"


# How far ahead of the clock a reply's DTSTAMP may be (clocks differ a little, never by much).
CLOCK_SKEW = timedelta(minutes=5)


def record_reply(session: Session, reply: Reply, now: datetime | None = None) -> ReplyOutcome:
    """Record an attendee's PARTSTAT if the reply comes from that attendee (when its sender is
    known), matches a meeting they are invited to and its current SEQUENCE, and is not stamped in
    the future (`now`); otherwise reject it with the reason and change nothing (never guess)."""
    if reply.sender and reply.sender.lower() != reply.attendee:
        return ReplyOutcome(reply, False, f"sent by {reply.sender}, not by the attendee {reply.attendee}")
    if now is not None and reply.stamp > now + CLOCK_SKEW:
        return ReplyOutcome(reply, False, f"stamped {reply.stamp.isoformat()}, in the future")
    row = session.get(InviteRow, reply.uid)
    if row is None:
        return ReplyOutcome(reply, False, f"no meeting with UID {reply.uid}")
    found = next((a for a in row.attendees if a.get("email", "").lower() == reply.attendee), None)
    if found is None:
        return ReplyOutcome(
            reply, False, f"{reply.attendee} is not an attendee of “{row.title}”", title=row.title
        )
    person, title = found["id"], row.title
    if row.status != ACTIVE:
        return ReplyOutcome(reply, False, f"“{title}” was cancelled", person, title)
    if reply.sequence != row.sequence:
        which = "an outdated" if reply.sequence < row.sequence else "an unknown"
        return ReplyOutcome(
            reply,
            False,
            f"answers {which} version (SEQUENCE {reply.sequence}; “{title}” is at {row.sequence})",
            person,
            title,
        )
    previous = found.get("replied_at")
    if previous and datetime.fromisoformat(previous) > reply.stamp:
        return ReplyOutcome(reply, False, "older than the reply already recorded", person, title)
    row.attendees = [
        {**a, "partstat": reply.partstat, "replied_at": reply.stamp.isoformat(), "comment": reply.comment}
        if a is found
        else a
        for a in row.attendees
    ]
    return ReplyOutcome(reply, True, f"“{title}”: {reply.partstat.lower()}", person, title)
