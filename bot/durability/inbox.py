"""Channel events acknowledged to their platform, kept durably until they are handled.

A webhook acknowledges a delivery (Meta's 200) only once `keep` has fsync'd its events to this
machine's spool (`<spool_dir>/inbox`, a `bot.durability.spool.Spool` of its own). The channel's workers
handle them at once, as before. An event whose handling could not finish (the database out of
reach, the process killed) stays in the spool, and the inbox's replay thread hands it to the
channel again, in the order events arrived, until it is handled. The spool of a process that died
is adopted by another process on the machine, like the turn spool.

The channel de-duplicates events by their own ids (Messenger's `mid`) in the store, so an event
handled twice (by a worker and by the replay, or after a redelivery by the platform) is answered
once. Each record is `{"kind": "event", "v": 1, "channel", "key", "user", "at", ...}`: `key` is
the event's de-duplication id, `user` the customer's id on the channel.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.durability.erasure import Tombstones
from bot.durability.periodic import Periodic
from bot.durability.spool import Spool
from bot.storage.store import StoreUnavailable

log = logging.getLogger("faqbot.inbox")
VERSION = 1


def event_record(channel: str, key: str, user: str, **data) -> dict:
    """The spool record of one event (`data`: what the channel needs to handle it again)."""
    at = dt.datetime.now(dt.UTC).isoformat()
    return {"kind": "event", "v": VERSION, "channel": channel, "key": key, "user": user, "at": at, **data}


@dataclass(frozen=True)
class Drained:
    handled: int  # by the replay (events the workers handled are not counted)
    rejected: int
    left: int


class Inbox:
    """The durable inbox of one channel in this process; `handle(record)` handles one event again
    and raises StoreUnavailable when it cannot yet (the record then stays for later)."""

    def __init__(self, spool: Spool, handle: Callable[[dict], None], interval: float = 1.0) -> None:
        if spool.key != "user":
            raise ValueError(f"the inbox spool must be keyed by user, got {spool.key!r}")
        self.spool = spool
        self.handle = handle
        self.interval = interval
        self.tombstones = Tombstones(spool.directory)  # events of erased customers are never handled
        self._lock = threading.Lock()
        self._flight: Counter[str] = Counter()  # keys a worker is handling
        self._handled: set[str] = set()  # keys a worker handled, until the replay passes them
        self._failed: dict[str, str] = {}  # key -> user, for events a worker could not handle
        self._behind: Counter[str] = Counter()  # users with failed events: their next ones wait too
        self._draining = threading.Lock()
        self._loop = Periodic("faqbot-inbox", interval, self.drain)

    def keep(self, records: list[dict]) -> None:
        """Write the events durably (fsync'd when this returns): only then may the webhook
        acknowledge them. They count as being handled by a worker until `done` or `failed`.
        Raises SpoolUnavailable (nothing acknowledged) if the spool cannot keep them."""
        with self._lock:
            self._flight.update(r["key"] for r in records)
        kept = 0
        try:
            for record in records:
                self.spool.append(record)
                kept += 1
        except BaseException:
            with self._lock:
                self._flight.subtract(r["key"] for r in records[kept:])
                self._flight += Counter()  # drop keys at zero
            for record in records[:kept]:  # kept, but never acknowledged: the replay handles them
                self.failed(record["key"], record["user"])
            raise

    def done(self, key: str) -> None:
        """A worker handled the event (or found it handled before)."""
        with self._lock:
            self._flight[key] -= 1
            self._flight += Counter()
            self._handled.add(key)

    def failed(self, key: str, user: str) -> None:
        """A worker could not handle the event (or left it to the replay): it is handled later."""
        with self._lock:
            self._flight[key] -= 1
            self._flight += Counter()
            if key not in self._failed:
                self._failed[key] = user
                self._behind[user] += 1

    def behind(self, user: str) -> bool:
        """Does this user have events waiting for the replay? Their new ones must not overtake them."""
        with self._lock:
            return self._behind[user] > 0

    def pending(self) -> int:
        return self.spool.pending()

    def drain(self) -> Drained:
        """Hand the kept events the workers did not handle to the channel, in order, until done, the
        database is out of reach, or an event is still with a worker (the rest waits for it)."""
        counts = Counter()
        with self._draining:
            try:
                for path in self.spool.backlog():
                    if not self._segment(path, counts):
                        break
            except StoreUnavailable as exc:
                log.info("database unreachable, %d events wait in the inbox: %s", self.pending(), exc)
        if counts["handled"]:
            log.info("inbox: %d events handled after a failure", counts["handled"])
        return Drained(counts["handled"], counts["rejected"], self.pending())

    def start(self) -> Inbox:
        self._loop.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last drain; what is left stays on disk for the next process."""
        self._loop.stop()

    def _segment(self, path: Path, counts: Counter) -> bool:
        """Pass one segment's events; False if one is still with a worker (try again later)."""
        for record in self.spool.records(path):
            key = str(record.get("key"))
            with self._lock:
                if self._flight[key] > 0:
                    return False
                handled = key in self._handled
                self._handled.discard(key)
            if self.tombstones.erased(record):
                counts["erased"] += 1
            elif not handled:
                counts[self._handle(record)] += 1
            self._passed(key)
            self.spool.applied(path, record)
        self.spool.finished(path)
        return True

    def _handle(self, record: dict) -> str:
        try:
            self.handle(record)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - set aside, so it never blocks the events after it
            log.exception("inbox event %s cannot be handled: set aside", record.get("key"))
            self.spool.reject(record, f"{type(exc).__name__}: {exc}")
            return "rejected"
        return "handled"

    def _passed(self, key: str) -> None:
        with self._lock:
            user = self._failed.pop(key, None)
            if user is not None:
                self._behind[user] -= 1
                self._behind += Counter()
