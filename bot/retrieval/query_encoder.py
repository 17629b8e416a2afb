"""Query encoding for the serving path: a cache of recent query vectors and micro-batching.

Customers' questions repeat ("where is my order?"), so a bounded LRU cache of query vectors,
keyed by the whitespace-normalised text, skips the model for them. Questions that miss the cache
go through one encoder thread: whatever arrives while the model is busy is encoded together in the
next call, so under load the model runs at its batch rate, and a lone query is never made to wait
for company (`window_ms` can add a short wait to gather more).
"""

from __future__ import annotations

import queue
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import Future

import numpy as np
from cachetools import LRUCache

from bot.retrieval.embedder import Embedder

# Queued by `close`: the encoder thread exits once the queue is empty.
_STOP: tuple[str, Future[np.ndarray]] = ("", Future())


def cache_key(text: str) -> str:
    """Texts that any tokenizer sees alike share a key: Unicode NFC, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class QueryEncoder:
    """An `Embedder` for customer queries: cached, and batched across concurrent callers.

    Several texts in one call (evaluation, builds) go straight to the model."""

    def __init__(
        self, embedder: Embedder, cache_size: int = 4096, max_batch: int = 32, window_ms: float = 0.0
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if window_ms < 0:
            raise ValueError(f"window_ms must be >= 0, got {window_ms}")
        self.embedder = embedder
        self.max_batch = max_batch
        self.window = window_ms / 1000
        self._cache: LRUCache[str, np.ndarray] | None = LRUCache(cache_size) if cache_size > 0 else None
        self._cache_lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, Future[np.ndarray]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0  # model calls made by the encoder thread
        self.hits = 0
        self.on_batch: Callable[[int], None] = lambda size: None  # texts per model call (metrics)
        self.on_hit: Callable[[], None] = lambda: None  # a query answered from the cache (metrics)

    @property
    def model_id(self) -> str:
        return self.embedder.model_id

    @property
    def dimension(self) -> int:
        return self.embedder.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) != 1:
            return self.embedder.encode(texts)
        return self.encode_one(texts[0])[None, :]

    def encode_one(self, text: str) -> np.ndarray:
        key = cache_key(text)
        if self._cache is not None:
            with self._cache_lock:
                vector = self._cache.get(key)
            if vector is not None:
                self.hits += 1
                self.on_hit()
                return vector
        future: Future[np.ndarray] = Future()
        with self._start_lock:  # with `close`: a query is never left behind in a stopped queue
            self._ensure_worker()
            self._queue.put((key, future))
        vector = future.result()
        if self._cache is not None:
            with self._cache_lock:
                self._cache[key] = vector
        return vector

    def close(self) -> None:
        """Let the encoder thread finish what is queued and exit, so a replaced encoder (and its
        model) can be freed; a later query starts the thread again."""
        self._queue.put(_STOP)

    def _ensure_worker(self) -> None:  # the caller holds _start_lock
        if self._worker is None:
            self._worker = threading.Thread(target=self._run, name="faqbot-query-encoder", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                with self._start_lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            batch = [first]
            deadline = time.monotonic() + self.window
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                try:
                    item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)  # handled once this batch is done
                    break
                batch.append(item)
            self._encode(batch)

    def _encode(self, batch: list[tuple[str, Future[np.ndarray]]]) -> None:
        texts = list(dict.fromkeys(key for key, _ in batch))  # the same question twice: encode once
        try:
            vectors = self.embedder.encode(texts)
        except Exception as exc:  # every waiting caller gets the error; the thread goes on
            for _, future in batch:
                future.set_exception(exc)
            return
        self.batches += 1
        self.on_batch(len(texts))
        vectors.setflags(write=False)  # shared by the cache and every caller
        row = {text: vectors[i] for i, text in enumerate(texts)}
        for key, future in batch:
            future.set_result(row[key])
