"""Group commit: the writes of many concurrent turns share one transaction and one COMMIT.

Under load, every turn taking the database's write lock for itself makes turns queue for the lock
and for pooled connections, and pays a BEGIN and a COMMIT (an fsync on PostgreSQL) each. Here one
writer thread takes whatever writes are waiting, runs them in one transaction and commits once;
each caller blocks until the COMMIT that holds its write is done, so what it returns is durable.

A write that fails (bad input, a bug) must not take its neighbours down: the batch is rolled back
and its writes are run again one transaction each, so only the faulty one fails. A database out of
reach fails the whole batch with `StoreUnavailable` (`in_doubt` if the COMMIT itself failed), which
each caller handles as it would its own transaction failing.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot.storage.database import StoreUnavailable

log = logging.getLogger("faqbot.store")
T = TypeVar("T")

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass
class _Write:
    job: Callable[[Session], Any]
    done: Future = field(default_factory=Future)


class GroupCommit:
    """One writer thread committing batches of at most `max_batch` writes (started lazily)."""

    def __init__(self, transaction: Transaction, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        self.transaction = transaction
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[Session], T]) -> T:
        """Run `job(session)` in a shared transaction; return its result once that is committed.

        Raises what `job` raised, or `StoreUnavailable` if the transaction could not commit."""
        write = _Write(job)
        self._start()
        self._queue.put(write)
        return write.done.result()

    def close(self) -> None:
        """Finish the writes already queued, then stop the writer thread (a later write starts
        a new one)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._writer, name="faqbot-group-commit", daemon=True)
                self._thread.start()

    def _writer(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first, *self._waiting()]
            self._commit(batch)
            if None in batch:  # close() was called while this batch was gathered
                return

    def _waiting(self) -> Iterator[_Write | None]:
        for _ in range(self.max_batch - 1):
            try:
                write = self._queue.get_nowait()
            except queue.Empty:
                return
            yield write
            if write is None:
                return

    def _commit(self, batch: list[_Write | None]) -> None:
        writes = [w for w in batch if w is not None]
        try:
            with self.transaction() as session:
                results = [w.job(session) for w in writes]
        except StoreUnavailable as exc:
            for w in writes:
                w.done.set_exception(exc)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller that caused it
            if len(writes) == 1:
                writes[0].done.set_exception(exc)
                return
            log.debug("a write of a batch of %d failed; writing them one by one", len(writes))
            for w in writes:
                self._commit([w])
        else:
            for w, result in zip(writes, results, strict=True):
                w.done.set_result(result)
