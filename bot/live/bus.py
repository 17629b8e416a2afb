"""The live bus a server publishes to and its streams subscribe to: in-process, or across replicas
through PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from contextlib import AbstractAsyncContextManager

from bot.live.events import Event, Kind
from bot.live.fanout import Fanout

log = logging.getLogger("faqbot.live")
CHANNEL = "faqbot_live"  # and the store's schema: deployments sharing a database do not cross-talk


def _channel(connection) -> str:
    """The NOTIFY channel of the store the connection sees (its current schema)."""
    cursor = connection.execute("SELECT current_schema()")
    schema = cursor.fetchone()[0] or "public"
    return f"{CHANNEL}_{schema}"[:63]


async def _channel_async(connection) -> str:
    cursor = await connection.execute("SELECT current_schema()")
    row = await cursor.fetchone()
    return f"{CHANNEL}_{row[0] or 'public'}"[:63]


class LocalBus:
    """Events within this process: one server on SQLite, and tests."""

    def __init__(self) -> None:
        self.fanout = Fanout()

    def publish(self, event: Event) -> None:
        """Tell every stream of this process (from any thread; never raises)."""
        self.fanout.deliver(event)

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[Event]]:
        return self.fanout.subscribe()

    async def start(self) -> None:
        self.fanout.bind(asyncio.get_running_loop())

    async def stop(self) -> None:
        return None


class PostgresBus(LocalBus):
    """Events across replicas: published with NOTIFY, heard by each replica's one LISTEN connection
    and fanned out to its streams. A lost listener reconnects, then tells its streams to resync
    from the store (they may have missed events meanwhile). A NOTIFY that cannot be sent reaches
    this replica's streams only."""

    def __init__(self, conninfo: str, retry: float = 1.0) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.retry = retry
        self._sender = None
        self._sender_channel = CHANNEL
        self._send_lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def publish(self, event: Event) -> None:
        import psycopg

        payload = event.to_json()
        with self._send_lock:
            for attempt in (1, 2):
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=2)
                        self._sender_channel = _channel(self._sender)
                    self._sender.execute("SELECT pg_notify(%s, %s)", (self._sender_channel, payload))
                    return
                except psycopg.Error as exc:
                    self._drop_sender()
                    if attempt == 2:
                        log.warning("live event not sent to other replicas: %s", exc)
        self.fanout.deliver(event)

    def _drop_sender(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(Exception):
                self._sender.close()
        self._sender = None

    async def start(self) -> None:
        await super().start()
        self._task = asyncio.create_task(self._listen(), name="faqbot-live-listen")
        with contextlib.suppress(TimeoutError):  # a database out of reach does not hold up start-up
            await asyncio.wait_for(self.listening.wait(), 5)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with self._send_lock:
            self._drop_sender()

    async def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        first = True
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True, connect_timeout=5
                ) as connection:
                    channel = await _channel_async(connection)
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.listening.set()
                    if not first:
                        self.fanout.deliver(Event(Kind.RESYNC, ""))
                    first = False
                    async for notice in connection.notifies():
                        try:
                            self.fanout.deliver(Event.from_json(notice.payload))
                        except ValueError as exc:
                            log.warning("%s", exc)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the listener must outlive any database trouble
                self.listening.clear()
                log.warning("live listener lost its connection (%s): retrying in %.0f s", exc, self.retry)
                await asyncio.sleep(self.retry)


def bus_for(database_url: str) -> LocalBus:
    """PostgreSQL LISTEN/NOTIFY for a PostgreSQL store, in-process otherwise."""
    for scheme in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return PostgresBus("postgresql://" + database_url.removeprefix(scheme))
    return LocalBus()
