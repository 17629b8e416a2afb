"""live hand-offs

Tickets get a short reference, the channel, the agent who claimed them and when, the first agent
reply (the measured wait), when they closed and when an agent last read them; console sessions
when they were last seen (who is online); canned replies.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("ref", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("channel", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_at", WHEN, nullable=True))
        batch.add_column(sa.Column("first_reply_at", WHEN, nullable=True))
        batch.add_column(sa.Column("closed_at", WHEN, nullable=True))
        batch.add_column(sa.Column("seen_at", WHEN, nullable=True))
        batch.create_index("ix_tickets_ref", ["ref"])
        batch.create_index("ix_tickets_first_reply_at", ["first_reply_at"])
    with op.batch_alter_table("console_sessions") as batch:
        batch.add_column(sa.Column("seen_at", WHEN, nullable=True))
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_canned_replies_lang", "canned_replies", ["lang"])


def downgrade() -> None:
    op.drop_index("ix_canned_replies_lang", table_name="canned_replies")
    op.drop_table("canned_replies")
    with op.batch_alter_table("console_sessions") as batch:
        batch.drop_column("seen_at")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_first_reply_at")
        batch.drop_index("ix_tickets_ref")
        for column in ("seen_at", "closed_at", "first_reply_at", "claimed_at", "assignee", "channel", "ref"):
            batch.drop_column(column)
