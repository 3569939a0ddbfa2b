"""ledger: notice keys by kind and occurrence, read from the index alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 04:30:00
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tick reads the keys of the notices around its window (`ledger.keys_between`): by the
    # occurrence index alone it stepped through every invite message of those weeks too.
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index("ix_messages_kind_occurrence", ["kind", "occurrence", "key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_kind_occurrence")
