"""window queries: each person's digest time, so a tick reads only the digests its window sends

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _backfill() -> None:
    """Fill the new column of people stored before this revision, from each row's JSON."""
    bind = op.get_bind()
    people = sa.table(
        "people", sa.column("id", sa.String), sa.column("data", sa.JSON), sa.column("digest_at", sa.Integer)
    )
    for ident, data in bind.execute(sa.select(people.c.id, people.c.data)).all():
        at = str((data.get("digest") or {}).get("at") or "08:00")
        bind.execute(
            people.update().where(people.c.id == ident).values(digest_at=int(at[0:2]) * 60 + int(at[3:5]))
        )


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("digest_at", sa.Integer(), nullable=False, server_default="480"))
    _backfill()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_timezone_digest")
        batch_op.create_index(
            "ix_people_timezone_digest", ["timezone", "digest_weekday", "digest_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_timezone_digest")
        batch_op.create_index("ix_people_timezone_digest", ["timezone", "digest_weekday"], unique=False)
        batch_op.drop_column("digest_at")
