"""The database: schema, engine, the store's operations, channel threads, migrations."""
