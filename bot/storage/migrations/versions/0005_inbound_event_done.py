"""inbound event done

An event's id is recorded before it is handled; `done_at` says its handling finished, so the
replay of an event whose handling was cut short handles it again instead of skipping it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE inbound_events SET done_at = created_at")  # taken in before: finished then


def downgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_column("done_at")
