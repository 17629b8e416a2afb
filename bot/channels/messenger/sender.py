"""Messages to Messenger customers that are never lost: sent at once when the Graph API takes them,
kept in the store's outbox when it does not (an outage, rate limiting, a lost answer) and sent
again, in order per customer, by the drainer of whichever process leases them first.

- A temporary failure (see GraphError.transient) is tried again after the wait Meta names
  (`Retry-After`, usage headers), else with exponential back-off; a final one (a bad request, a
  customer who blocked the Page, outside the messaging window) is given up on and counted.
- While a customer has messages in the outbox, their new ones queue behind them.
- The Send API has no idempotency key. Every message carries its outbox token in `metadata`, which
  Meta echoes back (the `message_echoes` webhook field): a send whose answer was lost (a read
  timeout) waits `echo_grace` seconds for its echo, and is sent again only if none came. Without
  echoes (the field not subscribed), such a message may reach the customer twice.
- Messages older than `max_age` are given up on: a RESPONSE is only allowed within 24 hours.
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

from bot.channels.messenger.events import CHANNEL, ECHO_PREFIX
from bot.channels.messenger.graph import GraphClient, GraphError, message_body
from bot.durability.periodic import Periodic
from bot.storage.outbox import Outbound, Queued
from bot.storage.store import Store, StoreUnavailable

log = logging.getLogger("faqbot.messenger")
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
    def __init__(
        self,
        graph: GraphClient,
        store: Store,
        attempts: int = 2,
        echo_grace: float = 10.0,
        backoff: float = 0.5,
        max_age: dt.timedelta = dt.timedelta(hours=24),
        on_failure: Callable[[str], None] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.graph = graph
        self.store = store
        self.attempts = attempts  # tries at once, before the outbox takes over
        self.echo_grace = echo_grace
        self.backoff = backoff  # the outbox's tries wait backoff × 4, × 8, … seconds, up to MAX_WAIT
        self.max_age = max_age
        self.on_failure = on_failure
        self.clock = clock
        self._depth = 0
        self._drain_lock = threading.Lock()
        self._drainer: Periodic | None = None
        self._stopping = False

    def send(
        self,
        recipient: str,
        messages: list[dict],
        conversation_id: str | None,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
    ) -> Outcome:
        """Send `messages` to `recipient` in order, or keep what could not go out yet."""
        queued = []
        for item in messages:
            token = secrets.token_hex(16)
            tagged = {**item, "metadata": ECHO_PREFIX + token}
            queued.append(Queued(token, message_body(recipient, tagged, messaging_type, tag)))
        if not queued:
            return Outcome(Sent.SENT)
        if self.waiting(recipient):  # earlier ones first
            self._keep(recipient, conversation_id, queued, self.clock())
            return Outcome(Sent.QUEUED)
        for i, kept in enumerate(queued):
            try:
                self.graph.post("me/messages", kept.body, self.attempts, resend_unsure=False)
            except GraphError as exc:
                self._count(exc.label)
                if not exc.transient:
                    log.error("reply to conversation %s not delivered: %s", conversation_id, exc)
                    return Outcome(Sent.FAILED, exc)
                self._keep(recipient, conversation_id, queued[i:], self._due(exc, 1), exc)
                return Outcome(Sent.QUEUED, exc)
        if self._depth:  # Graph takes messages again: what waits need not sit out its back-off
            self._wake()
        return Outcome(Sent.SENT)

    def waiting(self, recipient: str) -> bool:
        """Is anything of `recipient`'s still in the outbox (so Messenger is not taking it now)?
        With the database out of reach, nothing can be queued either: False."""
        try:
            return self.store.outbound_waiting(CHANNEL, recipient)
        except StoreUnavailable:
            return False

    def confirmed(self, token: str) -> None:
        """Meta echoed the message carrying `token`: it reached the customer."""
        if self.store.outbound_confirmed(CHANNEL, token):
            log.info("Messenger message %s confirmed by its echo: not sent again", token)
            self._refresh()

    def drain(self) -> int:
        """Send what is due in the outbox, oldest first per customer; how many messages left it
        (sent, confirmed by their echo, or given up)."""
        if self._stopping or not self._drain_lock.acquire(blocking=False):
            return 0  # the previous round is still at it
        left, woke = 0, False
        try:
            while True:
                batch = self.store.lease_outbound(CHANNEL, LEASE_SECONDS)
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
            log.debug("Messenger outbox not drained: %s", exc)
        finally:
            self._drain_lock.release()
        self._refresh()
        return left

    def depth(self) -> int:
        """Messages waiting in the outbox (as of the last change this process saw)."""
        return self._depth

    def start(self, interval: float = 1.0) -> Sender:
        self._refresh()
        self._drainer = Periodic("faqbot-messenger-outbox", interval, self.drain)
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
        its echo) or "later"."""
        if self.clock() - item.created_at > self.max_age:
            log.error(
                "Messenger message %s given up after %d tries: over %s old",
                item.token, item.attempts, self.max_age,
            )  # fmt: skip
            self._count("expired")
            self.store.outbound_done(item.id)
            return "dropped"
        if item.unsure and self.store.outbound_echoed(CHANNEL, item.token):
            log.info("Messenger message %s confirmed by its echo: not sent again", item.token)
            self.store.outbound_done(item.id)
            return "dropped"
        try:
            self.graph.post("me/messages", item.body, 1, resend_unsure=False)
        except GraphError as exc:
            self._count(exc.label)
            if not exc.transient:
                log.error("Messenger message %s refused for good: %s", item.token, exc)
                self.store.outbound_done(item.id)
                return "dropped"
            due = self._due(exc, item.attempts + 1)
            self.store.outbound_retry(item.id, due, str(exc), exc.unsure, exc.retry_after is not None)
            return "later"
        log.info("Messenger message %s delivered from the outbox after %d tries", item.token, item.attempts)
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
                CHANNEL, recipient, conversation_id, queued, due, error, unsure, throttled
            )
        except StoreUnavailable:  # Messenger and the database both out of reach: not kept
            log.error(
                "%d Messenger message(s) for conversation %s lost: Messenger did not take them (%s) "
                "and the database, which keeps the outbox, is out of reach",
                len(queued), conversation_id, exc,
            )  # fmt: skip
            self._count("unkept")
            return
        self._refresh()
        log.warning(
            "%d Messenger message(s) for conversation %s kept in the outbox%s",
            len(queued), conversation_id, f" ({exc})" if exc else " behind earlier ones",
        )  # fmt: skip

    def _due(self, exc: GraphError, attempts: int) -> dt.datetime:
        """When to try again: after the wait Meta named; after `echo_grace` when the answer was lost
        (its echo may yet come); else after a back-off doubling per try, with jitter."""
        if exc.retry_after is not None:
            wait = min(exc.retry_after, MAX_NAMED_WAIT)
        elif exc.unsure:
            wait = self.echo_grace
        else:
            wait = min(MAX_WAIT, self.backoff * 2.0 ** min(attempts + 1, 20)) * random.uniform(0.5, 1.0)  # noqa: S311
        return self.clock() + dt.timedelta(seconds=wait)

    def _wake(self) -> None:
        with contextlib.suppress(StoreUnavailable):
            if self.store.outbound_wake(CHANNEL):
                log.info("the Graph API takes messages again: the outbox is due now")

    def _refresh(self) -> None:
        with contextlib.suppress(StoreUnavailable):  # else the last figure stands
            self._depth = self.store.outbound_depth(CHANNEL)

    def _count(self, label: str) -> None:
        if self.on_failure is not None:
            self.on_failure(label)
