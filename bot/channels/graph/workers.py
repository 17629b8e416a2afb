"""Background handling of webhook events, so a webhook acknowledges at once.

Each customer's events go to one of N threads (chosen by the customer's id on the channel): a
customer's messages are answered in order, and one slow reply never holds up other customers.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

_STOP = object()


class Dispatcher:
    """N worker threads; `user(event)` names whose event it is, `handle(event)` handles it."""

    def __init__(
        self,
        handle: Callable[[Any], None],
        user: Callable[[Any], str],
        workers: int = 4,
        capacity: int = 1000,
        channel: str = "channel",
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.handle = handle
        self.user = user
        self.channel = channel
        self.log = logging.getLogger(f"faqbot.{channel}")
        self._queues: list[queue.Queue] = [queue.Queue(capacity) for _ in range(workers)]
        self._threads: list[threading.Thread] = []

    def start(self) -> Dispatcher:
        for i, inbox in enumerate(self._queues):
            name = f"faqbot-{self.channel}-{i}"
            thread = threading.Thread(target=self._work, args=(inbox,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def submit(self, events: list) -> bool:
        """Queue `events`; False when the queues are full (the webhook then asks Meta to redeliver)."""
        for event in events:
            inbox = self._queues[zlib.crc32(self.user(event).encode()) % len(self._queues)]
            try:
                inbox.put_nowait(event)
            except queue.Full:
                self.log.error("%s event queue full: event %s refused, Meta will redeliver it",
                               self.channel, getattr(event, "key", "?"))  # fmt: skip
                return False
        return True

    def idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event is handled; False if that takes over `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while any(q.unfinished_tasks for q in self._queues):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued, then stop the threads."""
        for inbox in self._queues:
            inbox.put(_STOP)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _work(self, inbox: queue.Queue) -> None:
        while True:
            event = inbox.get()
            try:
                if event is _STOP:
                    return
                self.handle(event)
            except Exception:  # noqa: BLE001 - one bad event must not stop this customer's thread
                self.log.exception("%s event %s failed", self.channel, getattr(event, "key", "?"))
            finally:
                inbox.task_done()
