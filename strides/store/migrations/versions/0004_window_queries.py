"""window queries: date and bucket columns with indexes, the organisation change log

The planner asks the store for what a window can touch (goals by deadline and creation,
milestones by due day, people by timezone, digest weekday and hire anniversary, creations and
completions by day) instead of loading the whole organisation; the change log tells a tick
which subjects to plan again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:00:00
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from strides.store.shards import bucket
from strides.store.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _backfill() -> None:
    """Fill the new columns of rows stored before this revision, from each row's JSON."""
    bind = op.get_bind()
    people = sa.table(
        "people",
        sa.column("id", sa.String),
        sa.column("data", sa.JSON),
        sa.column("bucket", sa.Integer),
        sa.column("digest_weekday", sa.Integer),
        sa.column("hire_day", sa.Integer),
        sa.column("mentors", sa.Text),
    )
    for ident, data in bind.execute(sa.select(people.c.id, people.c.data)).all():
        hired = data.get("hired_on")
        bind.execute(
            people.update()
            .where(people.c.id == ident)
            .values(
                bucket=bucket(f"person:{ident}"),
                digest_weekday=(data.get("digest") or {}).get("weekday", 1),
                hire_day=int(hired[5:7]) * 100 + int(hired[8:10]) if hired else None,
                mentors="".join(f";{m}" for m in data.get("mentors") or ()) + ";",
            )
        )
    goals = sa.table(
        "goals",
        sa.column("id", sa.String),
        sa.column("data", sa.JSON),
        sa.column("bucket", sa.Integer),
        sa.column("created_at", UTCDateTime()),
        sa.column("completed_at", UTCDateTime()),
    )
    for ident, data in bind.execute(sa.select(goals.c.id, goals.c.data)).all():
        done = data.get("completed_at")
        bind.execute(
            goals.update()
            .where(goals.c.id == ident)
            .values(
                bucket=bucket(f"goal:{ident}"),
                created_at=datetime.fromisoformat(data["created_at"]),
                completed_at=datetime.fromisoformat(done) if done else None,
            )
        )
    milestones = sa.table("milestones", sa.column("id", sa.String), sa.column("bucket", sa.Integer))
    for (ident,) in bind.execute(sa.select(milestones.c.id)).all():
        bind.execute(
            milestones.update().where(milestones.c.id == ident).values(bucket=bucket(f"milestone:{ident}"))
        )
    invites = sa.table(
        "invites",
        sa.column("uid", sa.String),
        sa.column("subject", sa.String),
        sa.column("bucket", sa.Integer),
    )
    for uid, subject in bind.execute(sa.select(invites.c.uid, invites.c.subject)).all():
        bind.execute(invites.update().where(invites.c.uid == uid).values(bucket=bucket(subject)))


def upgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("digest_weekday", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("hire_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mentors", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("created_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("completed_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bucket", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changes_seen", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rules_digest", sa.String(length=64), nullable=True))
    _backfill()
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index("ix_people_timezone_bucket", ["timezone", "bucket"], unique=False)
        batch_op.create_index("ix_people_timezone_digest", ["timezone", "digest_weekday"], unique=False)
        batch_op.create_index("ix_people_hire_day", ["hire_day"], unique=False)
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goals_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_goals_completed_at"), ["completed_at"], unique=False)
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_milestones_completed_at"), ["completed_at"], unique=False)
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invites_subject"), ["subject"], unique=False)
        batch_op.create_index(batch_op.f("ix_invites_bucket"), ["bucket"], unique=False)
    op.create_table(
        "org_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ident", sa.String(length=64), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("org_changes")
    with op.batch_alter_table("invites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invites_bucket"))
        batch_op.drop_index(batch_op.f("ix_invites_subject"))
        batch_op.drop_column("bucket")
    with op.batch_alter_table("milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestones_completed_at"))
        batch_op.drop_column("bucket")
    with op.batch_alter_table("goals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goals_completed_at"))
        batch_op.drop_index(batch_op.f("ix_goals_created_at"))
        batch_op.drop_column("completed_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("bucket")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index("ix_people_hire_day")
        batch_op.drop_index("ix_people_timezone_digest")
        batch_op.drop_index("ix_people_timezone_bucket")
        batch_op.drop_column("mentors")
        batch_op.drop_column("hire_day")
        batch_op.drop_column("digest_weekday")
        batch_op.drop_column("bucket")
    with op.batch_alter_table("ticks", schema=None) as batch_op:
        batch_op.drop_column("rules_digest")
        batch_op.drop_column("changes_seen")
