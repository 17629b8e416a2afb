"""Events to this process's listeners: each open stream has its own bounded asyncio queue."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.live.events import Event

log = logging.getLogger("faqbot.live")
QUEUE = 256  # events a slow stream may fall behind by before it misses some (it resyncs from the store)


class Fanout:
    """Deliver an event to every subscriber of this process, from any thread."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Event]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop the subscribers' queues live on (the server's)."""
        self._loop = loop

    @property
    def listeners(self) -> int:
        return len(self._queues)

    def deliver(self, event: Event) -> None:
        """Hand `event` to every subscriber; safe from worker threads and from the loop itself (in
        the order they were delivered)."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self._queues:
            return
        loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        with self._lock:
            queues = list(self._queues)
        for queue in queues:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("a live stream fell %d events behind: it misses one", QUEUE)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        """A queue that receives every event from now until the block ends."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE)
        with self._lock:
            self._queues.add(queue)
        try:
            yield queue
        finally:
            with self._lock:
                self._queues.discard(queue)
