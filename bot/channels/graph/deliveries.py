"""Deliveries made durable: a delivery's events are kept in the inbox (fsync'd) before Meta gets
its 200, handled at once by the workers, and handled again by the inbox's replay when a worker
could not finish (the database out of reach) or the process died first (see bot.durability.inbox).

Without an inbox (FAQBOT_SPOOL=false) events live only in memory between the 200 and their
handling. A channel gives its events' codec: `user(event)`, `key(event)`, `to_record(event, raw)`
and `from_record(record)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.graph.workers import Dispatcher
from bot.durability.inbox import Inbox
from bot.durability.spool import Spool
from bot.storage.store import StoreUnavailable


@dataclass(frozen=True)
class Codec:
    """How a channel's events are named and kept."""

    channel: str
    user: Callable[[Any], str]  # the customer's id on the channel
    key: Callable[[Any], str]  # the de-duplication key
    to_record: Callable[[Any, dict], dict]  # the inbox record of an event and its raw JSON
    from_record: Callable[[dict], Any]  # the event a record holds (ValueError if none)


class Deliveries:
    """The workers, and the inbox that makes what they are given durable."""

    def __init__(
        self,
        handle: Callable[..., None],  # handle(event, again=False)
        codec: Codec,
        workers: int = 4,
        inbox_spool: Spool | None = None,
        interval: float = 1.0,
    ) -> None:
        self.handle = handle
        self.codec = codec
        self.log = logging.getLogger(f"faqbot.{codec.channel}")
        self.dispatcher = Dispatcher(self._live, codec.user, workers, channel=codec.channel)
        self.inbox = Inbox(inbox_spool, self._again, interval) if inbox_spool is not None else None

    def start(self) -> Deliveries:
        self.dispatcher.start()
        if self.inbox is not None:
            self.inbox.start()
        return self

    def accept(self, events: list[tuple[Any, dict]]) -> bool:
        """Take a delivery's events (each with its raw JSON). True once they are safe to acknowledge;
        False (redeliver later) when they are not kept and the workers are overloaded. Raises
        SpoolUnavailable when the inbox cannot keep them."""
        if self.inbox is None:
            return self.dispatcher.submit([event for event, _ in events])
        self.inbox.keep([self.codec.to_record(event, raw) for event, raw in events])
        for event, _ in events:
            if not self.dispatcher.submit([event]):
                self.inbox.failed(self.codec.key(event), self.codec.user(event))  # the replay has it
        return True

    def stop(self) -> None:
        """Finish what the workers hold, replay once more, and let go of the inbox (what is left
        is adopted by the next process on this machine)."""
        self.dispatcher.stop()
        if self.inbox is not None:
            self.inbox.stop()
            self.inbox.spool.close()

    def _live(self, event: Any) -> None:
        """A worker handles an event; one it cannot handle now is left to the inbox's replay."""
        if self.inbox is None:
            self.handle(event)
            return
        key, user = self.codec.key(event), self.codec.user(event)
        if self.inbox.behind(user):  # earlier events of this customer wait: keep their order
            self.inbox.failed(key, user)
            return
        try:
            self.handle(event)
        except StoreUnavailable as exc:
            self.log.warning("event %s waits in the inbox: the database is unreachable (%s)", key, exc)
            self.inbox.failed(key, user)
            return
        except BaseException:
            self.inbox.failed(key, user)
            raise
        self.inbox.done(key)

    def _again(self, record: dict) -> None:
        """The replay hands back a kept event (StoreUnavailable: it stays for later)."""
        self.handle(self.codec.from_record(record), again=True)
