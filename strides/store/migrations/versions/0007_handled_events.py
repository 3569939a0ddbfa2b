"""listen: the Prefect events the listener has reacted to

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 01:30:00
"""

import sqlalchemy as sa
from alembic import op

from strides.store.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handled_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=140), nullable=False),
        sa.Column("occurred", UTCDateTime(), nullable=False),
        sa.Column("handled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("handled_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handled_events_occurred"), ["occurred"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("handled_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handled_events_occurred"))
    op.drop_table("handled_events")
