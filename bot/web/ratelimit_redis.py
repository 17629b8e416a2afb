"""Token buckets shared by every replica, kept in Redis (FAQBOT_REDIS_URL).

The same buckets as `bot.web.ratelimit.RateLimiter`, but one per key for the whole deployment: each
check is one Lua script, run atomically by Redis in one round trip, on Redis's own clock (the
replicas' clocks never matter). A bucket's key expires once it would be full again, so Redis holds
only the clients seen lately.

If Redis cannot be reached, a check never fails the request: it falls back to this process's own
buckets (the per-process limits of before), logs a warning once per outage, calls `on_fallback`
(a Prometheus counter), and leaves Redis alone for `retry_interval` seconds so that requests do not
each wait for a connection to fail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from bot.web.ratelimit import RateLimiter

log = logging.getLogger("faqbot.ratelimit")
PREFIX = "faqbot:ratelimit:"

# KEYS[1]: the bucket. ARGV: tokens per second, burst. Returns the wait in seconds, as a string
# (a Lua number would be truncated to an integer on its way out).
TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(bucket[1]) or burst
local stamp = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'stamp', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return string.format('%.17g', wait)
"""


def connect(url: str, timeout: float = 0.25) -> Redis:
    """A Redis client that gives up quickly and never retries by itself (the fallback decides)."""
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


class SharedRateLimiter:
    """`take(key)`, as `RateLimiter`'s, against buckets in Redis named `<prefix><name>:<key>`."""

    blocking = True  # a check is a network round trip: async callers run it in a worker thread

    def __init__(
        self,
        client: Redis,
        name: str,
        fallback: RateLimiter,
        on_fallback: Callable[[], None] | None = None,
        retry_interval: float = 5.0,
        prefix: str = PREFIX,
    ) -> None:
        if not name:
            raise ValueError("name must not be empty")
        if retry_interval < 0:
            raise ValueError(f"retry_interval must be >= 0 seconds, got {retry_interval}")
        self.client = client
        self.name = name
        self.fallback = fallback  # same rate and burst; used while Redis is out of reach
        self.on_fallback = on_fallback
        self.retry_interval = retry_interval
        self.prefix = prefix
        self._script = client.register_script(TAKE)
        self._lock = threading.Lock()
        self._skip_until = 0.0
        self._down = False  # for logging the changes only

    def take(self, key: str) -> float:
        """Spend one token of `key`'s shared bucket: 0.0 if there was one, else seconds until there is."""
        if time.monotonic() >= self._skip_until:
            try:
                wait = float(self._script(keys=[f"{self.prefix}{self.name}:{key}"], args=self._args()))
            except (RedisError, OSError, ValueError) as exc:
                self._went_down(exc)
            else:
                self._went_up()
                return wait
        if self.on_fallback is not None:
            self.on_fallback()
        return self.fallback.take(key)

    def _args(self) -> list[str]:
        return [repr(self.fallback.rate), repr(self.fallback.burst)]

    def _went_down(self, exc: Exception) -> None:
        with self._lock:
            self._skip_until = time.monotonic() + self.retry_interval
            if not self._down:
                log.warning(
                    "Redis unreachable (%s): rate limit %r falls back to this process's buckets",
                    exc, self.name, extra={"limit": self.name},
                )  # fmt: skip
            self._down = True

    def _went_up(self) -> None:
        if self._down:
            with self._lock:
                if self._down:
                    log.warning("Redis reachable again: rate limit %r is shared", self.name)
                self._down = False
