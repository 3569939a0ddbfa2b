"""window queries: who mentors whom, by index (a changed person's mentees without a scan)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mentorships",
        sa.Column("mentee", sa.String(length=64), nullable=False),
        sa.Column("mentor", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("mentee", "mentor"),
    )
    with op.batch_alter_table("mentorships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mentorships_mentor"), ["mentor"], unique=False)
    # People stored before this revision: their ";p1;p2;" column says whom they are mentored by.
    bind = op.get_bind()
    people = sa.table("people", sa.column("id", sa.String), sa.column("mentors", sa.Text))
    mentorships = sa.table("mentorships", sa.column("mentee", sa.String), sa.column("mentor", sa.String))
    rows = [
        {"mentee": ident, "mentor": mentor}
        for ident, mentors in bind.execute(sa.select(people.c.id, people.c.mentors)).all()
        for mentor in sorted(set(filter(None, (mentors or "").split(";"))))
    ]
    for start in range(0, len(rows), 500):
        bind.execute(mentorships.insert(), rows[start : start + 500])


def downgrade() -> None:
    with op.batch_alter_table("mentorships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentorships_mentor"))
    op.drop_table("mentorships")
