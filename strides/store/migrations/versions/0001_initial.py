"""initial schema: snapshot and ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-23 20:21:43.556873
"""

import sqlalchemy as sa
from alembic import op

from strides.store.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "goals",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goals_deadline"), ["deadline"], unique=False)
        batch_op.create_index(batch_op.f("ix_goals_owner"), ["owner"], unique=False)

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
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_occurrence", ["occurrence"], unique=False)
        batch_op.create_index("ix_messages_status_send_at", ["status", "send_at"], unique=False)
        batch_op.create_index("ix_messages_uid", ["uid"], unique=False)

    op.create_table(
        "milestones",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("goal", sa.String(length=64), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_milestones_goal"), ["goal"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("manager", sa.String(length=64), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_manager"), ["manager"], unique=False)

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
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticks_window_end"), ["window_end"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticks_window_end"))

    op.drop_table("ticks")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_manager"))

    op.drop_table("people")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_goal"))
        batch_op.drop_index(batch_op.f("ix_milestones_due"))

    op.drop_table("milestones")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_uid")
        batch_op.drop_index("ix_messages_status_send_at")
        batch_op.drop_index("ix_messages_occurrence")

    op.drop_table("messages")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goals_owner"))
        batch_op.drop_index(batch_op.f("ix_goals_deadline"))

    op.drop_table("goals")
