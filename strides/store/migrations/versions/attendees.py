"""invite_attendees: who attends which meeting, by person

A calendar feed (and anything else asking for one person's meetings) reads that person's rows
instead of every meeting's attendee list. Filled from the meetings already stored.

Revision ID: attendees
Revises: baseline
Create Date: 2026-12-07 00:00:00
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "attendees"
down_revision = "baseline"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "invite_attendees",
        sa.Column("person", sa.String(length=320), nullable=False),
        sa.Column("uid", sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint("person", "uid"),
    )
    connection = op.get_bind()
    rows = []
    for uid, attendees in connection.execute(sa.text("SELECT uid, attendees FROM invites")):
        listed = json.loads(attendees) if isinstance(attendees, str) else attendees
        rows += [{"person": person, "uid": uid} for person in sorted({a["id"] for a in listed or []})]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_table("invite_attendees")
