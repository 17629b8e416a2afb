"""Deliveries made durable: a delivery's events are kept in the inbox (fsync'd) before Meta gets
its 200, handled at once by the workers, and handled again by the inbox's replay when a worker
could not finish (the database out of reach) or the process died first (see bot.durability.inbox).

Without an inbox (FAQBOT_SPOOL=false) events live only in memory between the 200 and their
handling, as before."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.messenger.events import Event, from_record, to_record
from bot.channels.messenger.worker import Dispatcher
from bot.durability.inbox import Inbox
from bot.durability.spool import Spool
from bot.storage.store import StoreUnavailable

log = logging.getLogger("faqbot.messenger")


class Deliveries:
    """The workers, and the inbox that makes what they are given durable."""

    def __init__(
        self,
        handle: Callable[..., None],  # handle(event, again=False)
        workers: int = 4,
        inbox_spool: Spool | None = None,
        interval: float = 1.0,
    ) -> None:
        self.handle = handle
        self.dispatcher = Dispatcher(self._live, workers)
        self.inbox = Inbox(inbox_spool, self._again, interval) if inbox_spool is not None else None

    def start(self) -> Deliveries:
        self.dispatcher.start()
        if self.inbox is not None:
            self.inbox.start()
        return self

    def accept(self, events: list[tuple[Event, dict]]) -> bool:
        """Take a delivery's events (each with its raw JSON). True once they are safe to acknowledge;
        False (redeliver later) when they are not kept and the workers are overloaded. Raises
        SpoolUnavailable when the inbox cannot keep them."""
        if self.inbox is None:
            return self.dispatcher.submit([event for event, _ in events])
        self.inbox.keep([to_record(event, raw) for event, raw in events])
        for event, _ in events:
            if not self.dispatcher.submit([event]):
                self.inbox.failed(event.key, event.psid)  # kept: the replay handles it
        return True

    def stop(self) -> None:
        """Finish what the workers hold, replay once more, and let go of the inbox (what is left
        is adopted by the next process on this machine)."""
        self.dispatcher.stop()
        if self.inbox is not None:
            self.inbox.stop()
            self.inbox.spool.close()

    def _live(self, event: Event) -> None:
        """A worker handles an event; one it cannot handle now is left to the inbox's replay."""
        if self.inbox is None:
            self.handle(event)
            return
        if self.inbox.behind(event.psid):  # earlier events of this customer wait: keep their order
            self.inbox.failed(event.key, event.psid)
            return
        try:
            self.handle(event)
        except StoreUnavailable as exc:
            log.warning(
                "Messenger event %s waits in the inbox: the database is unreachable (%s)", event.key, exc
            )
            self.inbox.failed(event.key, event.psid)
            return
        except BaseException:
            self.inbox.failed(event.key, event.psid)
            raise
        self.inbox.done(event.key)

    def _again(self, record: dict) -> None:
        """The replay hands back a kept event (StoreUnavailable: it stays for later)."""
        self.handle(from_record(record), again=True)
