"""article edits and publish jobs

Who changed which article and when (the console's article editor and the admin API), and the
"publish now" jobs, which any replica can report on.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 03:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "article_edits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_article_edits_article_id", "article_edits", ["article_id"])
    op.create_index("ix_article_edits_created_at", "article_edits", ["created_at"])
    op.create_table(
        "publish_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_publish_jobs_created_at", "publish_jobs", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_publish_jobs_created_at", table_name="publish_jobs")
    op.drop_table("publish_jobs")
    op.drop_index("ix_article_edits_created_at", table_name="article_edits")
    op.drop_index("ix_article_edits_article_id", table_name="article_edits")
    op.drop_table("article_edits")
