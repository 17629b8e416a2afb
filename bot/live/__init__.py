"""Live events: what happens in handed-off conversations (a customer's message, an agent's reply,
a claim, typing), pushed to every replica's open consoles and widgets as it happens.

The store stays the record; events only say "look now". Within one process they fan out through
asyncio queues (`fanout`); across replicas they travel through PostgreSQL LISTEN/NOTIFY
(`postgres`) when the store is PostgreSQL. On SQLite (one server) they stay in the process."""
