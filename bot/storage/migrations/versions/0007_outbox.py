"""channel outbox

Messages a channel's platform did not take yet (a Graph API outage, rate limiting, a lost
answer), kept until they are sent, in order per recipient, by any process.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 02:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=128), nullable=False),
        sa.Column("conversation_id", sa.String(length=40), nullable=True),
        sa.Column("token", sa.String(length=40), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("unsure", sa.Boolean(), nullable=False),
        sa.Column("throttled", sa.Boolean(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    op.create_index("ix_outbox_conversation_id", "outbox", ["conversation_id"])
    op.create_index("ix_outbox_channel_recipient_id", "outbox", ["channel", "recipient", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_channel_recipient_id", table_name="outbox")
    op.drop_index("ix_outbox_conversation_id", table_name="outbox")
    op.drop_table("outbox")
