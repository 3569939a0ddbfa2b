"""window queries: a goal's milestone ids from the index alone; one goal index instead of two

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24 09:30:00
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tick plans again the milestones of the goals whose records changed, and asks for their
    # ids by goal (`StoreView.changed_subjects`): through (goal, due, completed_at) it read each
    # milestone's row for its id, pages a tick touches nowhere else. With the id in that index
    # the answer is the index alone, and the index on the goal alone, which it covers, is dropped.
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        columns = ["goal", "due", "completed_at", "id"]
        batch_op.create_index("ix_milestones_goal_due_id", columns, unique=False)
        batch_op.drop_index("ix_milestones_goal_due")
        batch_op.drop_index("ix_milestones_goal")


def downgrade() -> None:
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index("ix_milestones_goal", ["goal"], unique=False)
        batch_op.create_index("ix_milestones_goal_due", ["goal", "due", "completed_at"], unique=False)
        batch_op.drop_index("ix_milestones_goal_due_id")
