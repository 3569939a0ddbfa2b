"""window queries: a goal's milestones by due day and completion, from the index alone

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 05:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Inhibition asks, for the goals a day reminds about, which of their milestones are due and
    # still open (`StoreView.prefetch_open_milestones`): by the goal index alone it read every
    # milestone's row (its JSON included) to look at two dates.
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index("ix_milestones_goal_due", ["goal", "due", "completed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index("ix_milestones_goal_due")
