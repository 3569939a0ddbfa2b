"""The tables. Snapshot rows keep the full record as JSON plus the columns queries need."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from strides.store.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class PersonRow(Base):
    __tablename__ = "people"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    manager: Mapped[str | None] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]]
    # Columns the planner's window queries need (strides/store/window.py).
    # The subject's bucket (strides.store.window.bucket): planning is split into shards by it.
    bucket: Mapped[int] = mapped_column(Integer, default=0)
    digest_weekday: Mapped[int] = mapped_column(Integer, default=1)
    # The digest's local time in minutes after midnight: a tick reads the digests it sends.
    digest_at: Mapped[int] = mapped_column(Integer, default=480)
    # Month * 100 + day of the hire date: anniversaries by index.
    hire_day: Mapped[int | None] = mapped_column(Integer)
    # ";p1;p2;": who mentors this person (mentees of someone are found with LIKE).
    mentors: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (
        Index("ix_people_timezone_bucket", "timezone", "bucket"),
        Index("ix_people_timezone_digest", "timezone", "digest_weekday", "digest_at"),
        Index("ix_people_hire_day", "hire_day"),
    )


class MentorshipRow(Base):
    """Who mentors whom (also in each person's JSON): a changed mentor's mentees by index."""

    __tablename__ = "mentorships"

    mentee: Mapped[str] = mapped_column(String(64), primary_key=True)
    mentor: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class GoalRow(Base):
    __tablename__ = "goals"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    # By deadline through `ix_goals_deadline_bucket` (its first column).
    deadline: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict[str, Any]]
    bucket: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    # Goals due in a window for one shard: the other shards' goals are passed over in the index,
    # without reading their rows (by a date index alone, a part of a 100,000-person steady day on
    # SQLite paid about 0.24 s however few buckets it held; 0.10 s for one bucket of 1,024 with it).
    __table_args__ = (Index("ix_goals_deadline_bucket", "deadline", "bucket", "status"),)


class MilestoneRow(Base):
    __tablename__ = "milestones"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # By goal through `ix_milestones_goal_due_id` (its first column).
    goal: Mapped[str] = mapped_column(String(64))
    # By due day through `ix_milestones_due_bucket` (its first column).
    due: Mapped[date] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    data: Mapped[dict[str, Any]]
    bucket: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        # A goal's milestones, their dues (inhibition) and ids (changed goals) from the index alone.
        Index("ix_milestones_goal_due_id", "goal", "due", "completed_at", "id"),
        # Milestones due in a window for one shard, open ones: see `ix_goals_deadline_bucket`.
        Index("ix_milestones_due_bucket", "due", "bucket", "completed_at"),
    )


class OrgChangeRow(Base):
    """One record of the snapshot added, changed or removed: what the next tick must plan again.

    `kind` is person, goal or milestone (or "all" when the whole snapshot was replaced);
    `parent` the goal's owner or the milestone's goal, so a removed record still names them.
    """

    __tablename__ = "org_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ident: Mapped[str] = mapped_column(String(64))
    parent: Mapped[str | None] = mapped_column(String(64))


class MessageRow(Base):
    """The ledger: one row per message per recipient, unique by its idempotency key."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(140))
    occurrence: Mapped[datetime]
    recipient: Mapped[str] = mapped_column(String(64))
    recipient_email: Mapped[str] = mapped_column(String(320))
    send_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(Text)
    uid: Mapped[str | None] = mapped_column(String(140))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # pending -> sending -> sent | failed (retry later) | dead (never retried)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    planned_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    transport: Mapped[str | None] = mapped_column(String(32))
    transport_ref: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ix_messages_status_send_at", "status", "send_at"),
        Index("ix_messages_occurrence", "occurrence"),
        # The notice keys around a tick's window, from the index alone (ledger.keys_between).
        Index("ix_messages_kind_occurrence", "kind", "occurrence", "key"),
        Index("ix_messages_uid", "uid"),
    )


class TickRow(Base):
    """One run of the tick: the window it planned and what came of it."""

    __tablename__ = "ticks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    now: Mapped[datetime]
    window_start: Mapped[datetime]
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16))
    planned: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # The last organisation change this tick planned with, and a digest of its rules: the
    # next tick plans again only what changed since (or everything, when the rules changed).
    changes_seen: Mapped[int | None] = mapped_column(Integer)
    rules_digest: Mapped[str | None] = mapped_column(String(64))


class SkipRow(Base):
    """A message the rules wanted but did not send, and why (no mentor, too late, inhibited...).

    Unique by a key of (rule, subject, occurrence, reason): planning the same moment again
    records the skip once.
    """

    __tablename__ = "skips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(140))
    # The subject's owner: whose goal, milestone or cadence it was.
    person: Mapped[str | None] = mapped_column(String(64), index=True)
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # missing, late, inhibited, no-overlap, empty-digest, condition (rules.intents.Skip.cause)
    cause: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class InviteRow(Base):
    """A calendar meeting as last sent (one row per UID): what rules/reconcile.py compares against."""

    __tablename__ = "invites"

    uid: Mapped[str] = mapped_column(String(140), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(140), index=True)
    # The subject's bucket (strides.store.window.bucket), for sharded planning.
    bucket: Mapped[int] = mapped_column(Integer, default=0, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    # active | cancelled
    status: Mapped[str] = mapped_column(String(16))
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # [{"id": person id, "email": ..., "partstat": "NEEDS-ACTION" | "ACCEPTED" | ...}, ...]
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(JSON())
    # A person's id or an address (a rule's `organiser`); None: the configured sender organises.
    organiser: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class InviteAttendeeRow(Base):
    """Who attends which meeting, by person: a person's meetings without reading everyone's."""

    __tablename__ = "invite_attendees"

    person: Mapped[str] = mapped_column(String(320), primary_key=True)
    uid: Mapped[str] = mapped_column(String(140), primary_key=True)


class FeedTokenRow(Base):
    """A person's calendar-feed token; only its SHA-256 is stored. Revoked tokens stay for audit."""

    __tablename__ = "feed_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EmailEventRow(Base):
    """One provider event (delivered, bounced...) about one message, as received; duplicates ignored."""

    __tablename__ = "email_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    message_key: Mapped[str | None] = mapped_column(String(64), index=True)
    event: Mapped[str] = mapped_column(String(32))
    provider_event: Mapped[str] = mapped_column(String(32))
    email: Mapped[str] = mapped_column(String(320), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime]
    raw: Mapped[dict[str, Any]]


class SuppressionRow(Base):
    """An address strides must not mail: hard bounce, spam report, unsubscribe, or an admin's call."""

    __tablename__ = "suppressions"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    message_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class EmailPreferenceRow(Base):
    """A person's own choices (not HR's data): categories opted out of, and a pause."""

    __tablename__ = "email_preferences"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out: Mapped[dict[str, Any]]  # {"digest": "2026-11-30T08:00:00+00:00 via one-click", ...}
    paused_from: Mapped[datetime | None]
    paused_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # What they set on their preference page (strides.domain.choices.OwnChoices, as JSON).
    choices: Mapped[dict[str, Any] | None] = mapped_column(JSON())


class PreferenceChangeRow(Base):
    """Who changed which of a person's own settings, from what to what, and when (the audit)."""

    __tablename__ = "preference_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    setting: Mapped[str] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    # "person" (their preference page), or who else made the change ("admin:<name>", "cli").
    changed_by: Mapped[str] = mapped_column(String(140))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class HandledEventRow(Base):
    """A Prefect event the listener has reacted to (flows/listen.py): catch-up skips it."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str] = mapped_column(String(140))
    occurred: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    handled_at: Mapped[datetime]
