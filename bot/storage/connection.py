"""The store's connection: an engine, migrated on open, and its transactions (group-committed writes,
lock-free reads)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.storage.database import READ_ONLY, Limits, make_engine, translated
from bot.storage.group_commit import GroupCommit

T = TypeVar("T")


class StoreBase:
    """A database connection and its transactions; the store's operations build on these."""

    def __init__(self, url: str, limits: Limits | None = None) -> None:
        if not url:
            raise ValueError("database URL must not be empty")
        self.url = url
        self.limits = limits or Limits()
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._readers: sessionmaker[Session] | None = None
        self._group = GroupCommit(self.session)

    @classmethod
    def for_settings(cls, database_url: str | None, var_path: Path, limits: Limits | None = None) -> Self:
        """The configured URL, or a SQLite file `var/faqbot.db` under FAQBOT_HOME."""
        if database_url:
            return cls(database_url, limits)
        var_path.mkdir(parents=True, exist_ok=True)
        database = var_path / "faqbot.db"
        # Customer conversations: readable by the service's user only. SQLite gives its -wal and
        # -shm files the database file's permissions.
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
        database.chmod(0o600)
        return cls(f"sqlite:///{database}", limits)

    def open(self) -> Self:
        """Connect and apply any pending migration."""
        from bot.storage.migrate import upgrade

        self.engine = make_engine(self.url, self.limits)
        with translated():
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        return self

    def checkpoint(self) -> None:
        """After an erasure: SQLite moves its write-ahead log into the database file and empties it
        (deleted rows are zeroed there: `secure_delete`), so erased text lingers on disk in neither.
        PostgreSQL keeps dead rows until VACUUM (autovacuum) reclaims them."""
        if self.engine is None or self.engine.dialect.name != "sqlite":
            return
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def close(self) -> None:
        self._group.close()
        if self.engine is not None:
            self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction, committed at the end; `StoreUnavailable` if the database is out of reach
        (with `in_doubt` set if that happened during the COMMIT itself)."""
        if self._sessions is None:
            raise RuntimeError("call open() first")
        with self._sessions() as session:
            with translated():
                session.begin()
                yield session
                session.flush()
            with translated(in_doubt=True):
                session.commit()

    def write(self, job: Callable[[Session], T]) -> T:
        """Run `job(session)` in a transaction shared with concurrent writers (one COMMIT for all,
        see bot.storage.group_commit); return its result once committed. For short writes only: the
        writers queued behind wait for it."""
        return self._group.run(job)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it takes no write lock."""
        if self._readers is None:
            raise RuntimeError("call open() first")
        with translated(), self._readers.begin() as session:
            yield session
