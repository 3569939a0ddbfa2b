"""baseline: the schema of strides 0.1.0

The snapshot (people, goals, milestones, with the columns the planner's window queries read and
the mentorships by mentor), its change log (org_changes), the ledger of messages and ticks,
meetings as last sent (invites), skips, calendar-feed tokens, provider events, suppressions,
email preferences, and the Prefect events the listener handled.

The development revisions before 0.1.0 (0001 to 0012) were squashed into this one; a store they
made is refused with a StoreError (strides.store.db.DEVELOPMENT_REVISIONS).

Revision ID: baseline
Revises:
Create Date: 2026-11-25 00:00:00
"""

import sqlalchemy as sa
from alembic import op

from strides.store.types import UTCDateTime

revision = "baseline"
down_revision = None
branch_labels = None
depends_on = None

# The tables (and indexes) in the order they are created; dropped in reverse.
TABLES = (
    "people",
    "mentorships",
    "goals",
    "milestones",
    "org_changes",
    "messages",
    "ticks",
    "skips",
    "invites",
    "feed_tokens",
    "email_events",
    "suppressions",
    "email_preferences",
    "handled_events",
)


def _indexes(table: str, *indexes: tuple[str, list[str]]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, columns in indexes:
            batch_op.create_index(name, columns, unique=False)


def upgrade() -> None:
    # -- the organisation snapshot: each record's JSON, and the columns its queries need ----------
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("manager", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("digest_weekday", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("hire_day", sa.Integer(), nullable=True),
        sa.Column("mentors", sa.Text(), nullable=False, server_default=""),
        sa.Column("digest_at", sa.Integer(), nullable=False, server_default="480"),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes(
        "people",
        ("ix_people_manager", ["manager"]),
        ("ix_people_timezone_bucket", ["timezone", "bucket"]),
        ("ix_people_timezone_digest", ["timezone", "digest_weekday", "digest_at"]),
        ("ix_people_hire_day", ["hire_day"]),
    )
    op.create_table(
        "mentorships",
        sa.Column("mentee", sa.String(length=64), nullable=False),
        sa.Column("mentor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("mentee", "mentor"),
    )
    _indexes("mentorships", ("ix_mentorships_mentor", ["mentor"]))
    op.create_table(
        "goals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime(), nullable=True),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes(
        "goals",
        ("ix_goals_owner", ["owner"]),
        # A shard's goals due in a window: the other shards' are passed over in the index.
        ("ix_goals_deadline_bucket", ["deadline", "bucket", "status"]),
        ("ix_goals_created_at", ["created_at"]),
        ("ix_goals_completed_at", ["completed_at"]),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("goal", sa.String(length=64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes(
        "milestones",
        ("ix_milestones_completed_at", ["completed_at"]),
        # A goal's milestones, their dues and ids from the index alone (it covers a goal index).
        ("ix_milestones_goal_due_id", ["goal", "due", "completed_at", "id"]),
        # A shard's milestones due in a window, as `ix_goals_deadline_bucket`.
        ("ix_milestones_due_bucket", ["due", "bucket", "completed_at"]),
    )
    op.create_table(
        "org_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ident", sa.String(length=64), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )

    # -- the ledger: every message, unique by its idempotency key; the ticks; the skips ----------
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=140), nullable=False),
        sa.Column("occurrence", UTCDateTime(), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("recipient_email", sa.String(length=320), nullable=False),
        sa.Column("send_at", UTCDateTime(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("uid", sa.String(length=140), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("planned_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("transport", sa.String(length=32), nullable=True),
        sa.Column("transport_ref", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    _indexes(
        "messages",
        ("ix_messages_occurrence", ["occurrence"]),
        ("ix_messages_status_send_at", ["status", "send_at"]),
        ("ix_messages_uid", ["uid"]),
        # The notice keys around a tick's window, from the index alone.
        ("ix_messages_kind_occurrence", ["kind", "occurrence", "key"]),
    )
    op.create_table(
        "ticks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("now", UTCDateTime(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("window_end", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("changes_seen", sa.Integer(), nullable=True),
        sa.Column("rules_digest", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _indexes("ticks", ("ix_ticks_window_end", ["window_end"]))
    op.create_table(
        "skips",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=140), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=True),
        sa.Column("occurrence", UTCDateTime(), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    _indexes(
        "skips",
        ("ix_skips_rule_id", ["rule_id"]),
        ("ix_skips_person", ["person"]),
        ("ix_skips_occurrence", ["occurrence"]),
    )

    # -- meetings as last sent, and calendar-feed tokens ----------------------------------------
    op.create_table(
        "invites",
        sa.Column("uid", sa.String(length=140), nullable=False),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=140), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("end", UTCDateTime(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("organiser", sa.String(length=320), nullable=True),
        sa.PrimaryKeyConstraint("uid"),
    )
    _indexes(
        "invites",
        ("ix_invites_start", ["start"]),
        ("ix_invites_subject", ["subject"]),
        ("ix_invites_bucket", ["bucket"]),
    )
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    _indexes("feed_tokens", ("ix_feed_tokens_person_id", ["person_id"]))

    # -- email: provider events, suppressed addresses, people's own preferences ------------------
    op.create_table(
        "email_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("message_key", sa.String(length=64), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("provider_event", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    _indexes(
        "email_events",
        ("ix_email_events_email", ["email"]),
        ("ix_email_events_message_key", ["message_key"]),
    )
    op.create_table(
        "suppressions",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("message_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "email_preferences",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("opted_out", sa.JSON(), nullable=False),
        sa.Column("paused_from", UTCDateTime(), nullable=True),
        sa.Column("paused_until", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )

    # -- the Prefect events the listener has reacted to -----------------------------------------
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=140), nullable=False),
        sa.Column("occurred", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    _indexes("handled_events", ("ix_handled_events_occurred", ["occurred"]))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
