"""The database engine: SQLite pragmas and locking, PostgreSQL time limits, and which errors mean
the database is out of reach (the store then raises `StoreUnavailable`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine

READ_ONLY = "faqbot_read_only"  # execution option: this transaction only reads
SQLITE_BUSY_TIMEOUT_MS = 30_000


@dataclass(frozen=True)
class Limits:
    """How long the store waits on PostgreSQL before the turn goes to the spool instead (seconds).

    `connect`: to open a connection. `lock`: for a row another transaction holds (a replica cut off
    mid-transaction leaves its locks behind). `idle_in_transaction`: after which the server ends a
    transaction of ours that went quiet (its process died or lost the network), freeing its locks."""

    connect: float = 3.0
    lock: float = 10.0
    idle_in_transaction: float = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "lock", "idle_in_transaction"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} timeout must be > 0 seconds, got {getattr(self, name)}")


class StoreUnavailable(RuntimeError):
    """The database cannot be reached now (down, unreachable, out of connections): try again later.

    `in_doubt`: the connection failed during COMMIT, so the transaction may have been committed."""

    def __init__(self, message: str, in_doubt: bool = False) -> None:
        super().__init__(message)
        self.in_doubt = in_doubt


def unreachable(exc: BaseException) -> bool:
    """Is `exc` the database being out of reach, rather than a bad statement or bad data?"""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return False


@contextmanager
def translated(in_doubt: bool = False) -> Iterator[None]:
    """Database-out-of-reach errors become `StoreUnavailable`; every other error passes unchanged."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        if unreachable(exc):
            raise StoreUnavailable(str(exc).splitlines()[0], in_doubt) from exc
        raise


def make_engine(url: str, limits: Limits | None = None) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout so several processes can share it.

    SQLite write transactions start with BEGIN IMMEDIATE: a writer takes the lock up front and
    waits its turn (busy timeout), instead of upgrading a read lock mid-transaction and failing
    with "database is locked" under load. Reads (`Store.reading`) stay DEFERRED and never block.
    synchronous=NORMAL in WAL mode keeps every committed turn across a process crash; only a power
    loss can drop the last commits (use PostgreSQL where that matters).

    PostgreSQL gets time limits (`Limits`), so an unreachable server fails a request in seconds (and
    the turn goes to the spool) instead of hanging it; TCP keepalives and a TCP user timeout catch
    a link that dies under an open connection."""
    limits = limits or Limits()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    connect_args = {}
    if url.startswith("postgresql"):
        connect_args = {
            "connect_timeout": max(1, round(limits.connect)),  # libpq counts whole seconds
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 3,
            "keepalives_count": 3,
            "tcp_user_timeout": 10_000,  # ms that sent data may stay unacknowledged
        }
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "connect")
        def _postgresql_limits(connection, _record) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {round(limits.lock * 1000)}")
                cursor.execute(
                    f"SET idle_in_transaction_session_timeout = {round(limits.idle_in_transaction * 1000)}"
                )
            connection.commit()

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:
            connection.isolation_level = None  # transactions are begun below, not by the driver
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA secure_delete=ON")  # deleted (erased) text is overwritten, not left
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection) -> None:
            reading = connection.get_execution_options().get(READ_ONLY, False)
            connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")

    return engine
