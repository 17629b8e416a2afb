"""Messages to a channel's customers that are never lost: sent at once when the Graph API takes
them, kept in the store's outbox when it does not (an outage, rate limiting, a lost answer) and sent
again, in order per customer, by the drainer of whichever process leases them first.

- A temporary failure (see GraphError.transient) is tried again after the wait Meta names
  (`Retry-After`, usage headers), else with exponential back-off; a final one (a bad request, a
  customer who blocked the Page, outside the messaging window) is given up on and counted.
- While a customer has messages in the outbox, their new ones queue behind them.
- Meta's send APIs have no idempotency key. Every message carries its outbox token, which Meta
  gives back on a webhook (Messenger's `message_echoes`, WhatsApp's message statuses): a send whose
  answer was lost (a read timeout) waits `echo_grace` seconds for that, and is sent again only if
  nothing came. Without it (the field not subscribed), such a message may reach the customer twice.
- Messages older than `max_age` are given up on: a reply is only allowed within 24 hours.

A channel subclasses Sender with its name, the Graph path messages are POSTed to, and `request`,
which builds the API request of one message carrying its token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.channels.graph.client import Graph
from bot.channels.graph.errors import GraphError
from bot.durability.periodic import Periodic
from bot.storage.outbox import Outbound, Queued
from bot.storage.store import Store, StoreUnavailable

LEASE_SECONDS = 60.0  # longer than any one send takes, with its timeout
MAX_WAIT = 60.0  # seconds between two tries of one message (unless Meta names a longer wait)
MAX_NAMED_WAIT = 3600.0  # the longest wait Meta may name that is honoured as it is


class Sent(StrEnum):
    SENT = "sent"  # the Graph API took every message
    QUEUED = "queued"  # some wait in the outbox: they will go out, in order
    FAILED = "failed"  # refused for good (logged and counted)


@dataclass(frozen=True)
class Outcome:
    sent: Sent
    error: GraphError | None = None  # why a message is not out (yet)


class Sender:
    """One channel's sends through the outbox (rows carry the channel's name)."""

    channel = ""  # the outbox rows' channel, e.g. "messenger"
    name = ""  # how logs name the channel, e.g. "Messenger"

    def __init__(
        self,
        graph: Graph,
        store: Store,
        attempts: int = 2,
        echo_grace: float = 10.0,
        backoff: float = 0.5,
        max_age: dt.timedelta = dt.timedelta(hours=24),
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if not self.channel:
            raise TypeError("Sender is used through a channel's subclass, which names the channel")
        self.graph = graph
        self.store = store
        self.attempts = attempts  # tries at once, before the outbox takes over
        self.echo_grace = echo_grace
        self.backoff = backoff  # the outbox's tries wait backoff × 4, × 8, … seconds, up to MAX_WAIT
        self.max_age = max_age
        self.on_failure = on_failure
        self.clock = clock
        self.log = logging.getLogger(f"faqbot.{self.channel}")
        self._depth = 0
        self._drain_lock = threading.Lock()
        self._drainer: Periodic | None = None
        self._stopping = False

    def path(self) -> str:
        """The Graph path messages are POSTed to."""
        raise NotImplementedError

    def request(self, recipient: str, message: dict, token: str, **options: Any) -> dict:
        """The API request that sends `message` to `recipient`, carrying the outbox `token`."""
        raise NotImplementedError

    def send_all(
        self, recipient: str, messages: list[dict], conversation_id: str | None, **options: Any
    ) -> Outcome:
        """Send `messages` to `recipient` in order, or keep what could not go out yet."""
        queued = []
        for item in messages:
            token = secrets.token_hex(16)
            queued.append(Queued(token, self.request(recipient, item, token, **options)))
        if not queued:
            return Outcome(Sent.SENT)
        if self.waiting(recipient):  # earlier ones first
            self._keep(recipient, conversation_id, queued, self.clock())
            return Outcome(Sent.QUEUED)
        for i, kept in enumerate(queued):
            try:
                self.graph.post(self.path(), kept.body, self.attempts, resend_unsure=False)
            except GraphError as exc:
                self._count(exc.label)
                if not exc.transient:
                    self.log.error("reply to conversation %s not delivered: %s", conversation_id, exc)
                    return Outcome(Sent.FAILED, exc)
                self._keep(recipient, conversation_id, queued[i:], self._due(exc, 1), exc)
                return Outcome(Sent.QUEUED, exc)
        if self._depth:  # Graph takes messages again: what waits need not sit out its back-off
            self._wake()
        return Outcome(Sent.SENT)

    def waiting(self, recipient: str) -> bool:
        """Is anything of `recipient`'s still in the outbox (so the channel is not taking it now)?
        With the database out of reach, nothing can be queued either: False."""
        try:
            return self.store.outbound_waiting(self.channel, recipient)
        except StoreUnavailable:
            return False

    def confirmed(self, token: str) -> None:
        """Meta gave back the message carrying `token`: it reached the customer."""
        if self.store.outbound_confirmed(self.channel, token):
            self.log.info("%s message %s confirmed by Meta: not sent again", self.name, token)
            self._refresh()

    def drain(self) -> int:
        """Send what is due in the outbox, oldest first per customer; how many messages left it
        (sent, confirmed by Meta, or given up)."""
        if self._stopping or not self._drain_lock.acquire(blocking=False):
            return 0  # the previous round is still at it
        left, woke = 0, False
        try:
            while True:
                batch = self.store.lease_outbound(self.channel, LEASE_SECONDS)
                if not batch:
                    break
                outcomes = [self._try(item) for item in batch]
                left += len(outcomes) - outcomes.count("later")
                if "sent" in outcomes and not woke:  # Graph takes messages again: no back-off
                    self._wake()
                    woke = True
                elif "sent" not in outcomes and "dropped" not in outcomes:
                    break  # nothing moved: the rest is for a later round
        except StoreUnavailable as exc:  # the outbox waits in the database: later
            self.log.debug("%s outbox not drained: %s", self.name, exc)
        finally:
            self._drain_lock.release()
        self._refresh()
        return left

    def depth(self) -> int:
        """Messages waiting in the outbox (as of the last change this process saw)."""
        return self._depth

    def start(self, interval: float = 1.0) -> Sender:
        self._refresh()
        self._drainer = Periodic(f"faqbot-{self.channel}-outbox", interval, self.drain)
        self._drainer.start()
        return self

    def stop(self) -> None:
        """Stop draining (what is left waits in the store for the next process, or another one)."""
        self._stopping = True
        if self._drainer is not None:
            self._drainer.stop()
            self._drainer = None

    def _try(self, item: Outbound) -> str:
        """One more try of a message from the outbox: "sent", "dropped" (given up, or confirmed by
        Meta) or "later"."""
        if self.clock() - item.created_at > self.max_age:
            self.log.error(
                "%s message %s given up after %d tries: over %s old",
                self.name, item.token, item.attempts, self.max_age,
            )  # fmt: skip
            self._count("expired")
            self.store.outbound_done(item.id)
            return "dropped"
        if item.unsure and self.store.outbound_echoed(self.channel, item.token):
            self.log.info("%s message %s confirmed by Meta: not sent again", self.name, item.token)
            self.store.outbound_done(item.id)
            return "dropped"
        try:
            self.graph.post(self.path(), item.body, 1, resend_unsure=False)
        except GraphError as exc:
            self._count(exc.label)
            if not exc.transient:
                self.log.error("%s message %s refused for good: %s", self.name, item.token, exc)
                self.store.outbound_done(item.id)
                return "dropped"
            due = self._due(exc, item.attempts + 1)
            self.store.outbound_retry(item.id, due, str(exc), exc.unsure, exc.retry_after is not None)
            return "later"
        self.log.info(
            "%s message %s delivered from the outbox after %d tries", self.name, item.token, item.attempts
        )
        self.store.outbound_done(item.id)
        return "sent"

    def _keep(
        self,
        recipient: str,
        conversation_id: str | None,
        queued: list[Queued],
        due: dt.datetime,
        exc: GraphError | None = None,
    ) -> None:
        error, unsure = (str(exc), exc.unsure) if exc is not None else ("", False)
        throttled = exc is not None and exc.retry_after is not None
        try:
            self.store.queue_outbound(
                self.channel, recipient, conversation_id, queued, due, error, unsure, throttled
            )
        except StoreUnavailable:  # the Graph API and the database both out of reach: not kept
            self.log.error(
                "%d %s message(s) for conversation %s lost: %s did not take them (%s) "
                "and the database, which keeps the outbox, is out of reach",
                len(queued), self.name, conversation_id, self.name, exc,
            )  # fmt: skip
            self._count("unkept")
            return
        self._refresh()
        self.log.warning(
            "%d %s message(s) for conversation %s kept in the outbox%s",
            len(queued), self.name, conversation_id, f" ({exc})" if exc else " behind earlier ones",
        )  # fmt: skip

    def _due(self, exc: GraphError, attempts: int) -> dt.datetime:
        """When to try again: after the wait Meta named; after `echo_grace` when the answer was lost
        (Meta may yet confirm it); else after a back-off doubling per try, with jitter."""
        if exc.retry_after is not None:
            wait = min(exc.retry_after, MAX_NAMED_WAIT)
        elif exc.unsure:
            wait = self.echo_grace
        else:
            wait = min(MAX_WAIT, self.backoff * 2.0 ** min(attempts + 1, 20)) * random.uniform(0.5, 1.0)  # noqa: S311
        return self.clock() + dt.timedelta(seconds=wait)

    def _wake(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            if self.store.outbound_wake(self.channel):
                self.log.info("the Graph API takes %s messages again: the outbox is due now", self.name)

    def _refresh(self) -> None:
        with contextlib.suppress(StoreUnavailable):  # else the last figure stands
            self._depth = self.store.outbound_depth(self.channel)

    def _count(self, label: str) -> None:
        if self.on_failure is not None:
            self.on_failure(label)
