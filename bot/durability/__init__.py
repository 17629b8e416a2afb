"""What keeps a turn when the database is out of reach: spool, offline memory, replay, inbox."""
