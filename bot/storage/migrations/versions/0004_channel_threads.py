"""channel threads: one conversation per external user, inbound event de-duplication

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:12:40.118203
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("last_customer_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("thread_owner", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint("uq_conversations_channel_external_id", ["channel", "external_id"])

    op.create_table(
        "inbound_events",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "event_id"),
    )
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_events_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbound_events_created_at"))
    op.drop_table("inbound_events")

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_conversations_channel_external_id", type_="unique")
        batch_op.drop_column("thread_owner")
        batch_op.drop_column("last_customer_at")
        batch_op.drop_column("external_id")
