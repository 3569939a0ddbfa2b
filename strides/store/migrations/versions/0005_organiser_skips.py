"""rules: the organiser of each meeting, and the skips the planner records

Revision ID: 0005
Revises: 0003 (on the rules-gaps branch; after 0004_window_queries once both are merged)
Create Date: 2026-11-23 23:00:00
"""

import sqlalchemy as sa
from alembic import op

from strides.store.types import UTCDateTime

revision = "0005"
# 0004 (window queries) is on another branch: when both are merged, this revises "0004".
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("organiser", sa.String(length=320), nullable=True))

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
    with op.batch_alter_table("skips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skips_rule_id"), ["rule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_skips_person"), ["person"], unique=False)
        batch_op.create_index(batch_op.f("ix_skips_occurrence"), ["occurrence"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("skips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skips_occurrence"))
        batch_op.drop_index(batch_op.f("ix_skips_person"))
        batch_op.drop_index(batch_op.f("ix_skips_rule_id"))
    op.drop_table("skips")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_column("organiser")
