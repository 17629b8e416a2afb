"""Alembic environment: runs on the engine handed over by bot.storage.migrate (no alembic.ini)."""

from alembic import context
from sqlalchemy import text

from bot.storage.schema import Base

# Any constant: server processes starting together on one PostgreSQL take turns migrating.
MIGRATION_LOCK = 0x66617162  # "faqb"

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Without it, two processes starting at once both create alembic_version and one fails.
        # Released at commit; the second then finds the schema up to date.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    context.run_migrations()
