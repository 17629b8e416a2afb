"""Token-bucket rate limits per key (client address, conversation), in process memory.

Each key has a bucket of `burst` tokens that refills at `per_minute / 60` tokens a second; a
request takes one token or is refused with the seconds until one is back. Buckets live in an
LRU map of at most `max_keys` entries, so memory stays bounded whatever the number of clients:
the least recently seen key is forgotten first (it starts again with a full bucket). The limits
are per process: with N replicas (or N workers) a client may get up to N times the rate, unless
the buckets are shared in Redis (`bot.web.ratelimit_redis`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class Limiter(Protocol):
    """A rate limit: `take(key)` is 0.0 when the request may go ahead, else the seconds to wait."""

    def take(self, key: str) -> float: ...


class RateLimiter:
    """`take(key)` returns 0.0 when the request may go ahead, else the seconds to wait."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_keys: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, got {burst}")
        if max_keys < 1:
            raise ValueError(f"max_keys must be >= 1, got {max_keys}")
        self.rate = per_minute / 60.0  # tokens per second
        self.burst = float(burst)
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, stamp)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of `key`'s bucket; 0.0 if there was one, else seconds until there is."""
        with self._lock:
            now = self.clock()
            tokens, stamp = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - stamp) * self.rate)
            if tokens >= 1.0:
                tokens -= 1.0
                wait = 0.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens, now)  # most recently used at the end
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)


def retry_after(wait: float) -> int:
    """The Retry-After header value (whole seconds, at least 1) for a wait in seconds."""
    return max(1, math.ceil(wait))
