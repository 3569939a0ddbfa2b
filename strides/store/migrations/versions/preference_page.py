"""People's own settings from their preference page, and the audit of every change to them

`email_preferences.choices` holds what a person set for themselves (digest day and time,
language, optional rules turned off, what happens to mail due in a pause);
`preference_changes` records who changed which setting, from what to what, and when.

Revision ID: preference_page
Revises: attendees
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

from strides.store.types import UTCDateTime

revision = "preference_page"
down_revision = "attendees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("email_preferences") as batch:
        batch.add_column(sa.Column("choices", sa.JSON(), nullable=True))
    op.create_table(
        "preference_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("setting", sa.String(length=64), nullable=False),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=140), nullable=False),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_preference_changes_person_id", "preference_changes", ["person_id"])
    op.create_index("ix_preference_changes_changed_at", "preference_changes", ["changed_at"])


def downgrade() -> None:
    op.drop_table("preference_changes")
    with op.batch_alter_table("email_preferences") as batch:
        batch.drop_column("choices")
