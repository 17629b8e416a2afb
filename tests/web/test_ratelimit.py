"""Token buckets: burst, refill, independent keys, bounded memory (LRU), thread safety."""

from __future__ import annotations

import threading

import pytest

from bot.web.ratelimit import RateLimiter, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_token_per_interval():
    clock = Clock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)  # one token a second
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 0.5
    assert limiter.take("a") == pytest.approx(0.5)  # refused requests spend nothing
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(1.0)


def test_refill_never_exceeds_the_burst():
    clock = Clock()
    limiter = RateLimiter(per_minute=600, burst=2, clock=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.take("a") > 0


def test_keys_are_independent():
    limiter = RateLimiter(per_minute=1, burst=1, clock=Clock())
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(60.0)
    assert limiter.take("b") == 0.0


def test_memory_is_bounded_and_the_least_recent_key_goes_first():
    clock = Clock()
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=3, clock=clock)
    for key in ("a", "b", "c"):
        limiter.take(key)
    limiter.take("a")  # a is now the most recently used (and still limited)
    limiter.take("d")  # evicts b
    assert len(limiter) == 3
    assert limiter.take("b") == 0.0, "a forgotten key starts again with a full bucket"
    assert limiter.take("a") > 0, "a recently used key keeps its state"
    for i in range(10_000):
        limiter.take(f"k{i}")
    assert len(limiter) == 3


def test_threads_never_get_more_than_the_burst():
    limiter = RateLimiter(per_minute=0.001, burst=50, clock=Clock())
    granted = []

    def worker() -> None:
        granted.extend(1 for _ in range(100) if limiter.take("shared") == 0.0)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 50


@pytest.mark.parametrize(("kwargs", "word"), [({"per_minute": 0}, "per_minute"), ({"burst": 0}, "burst")])
def test_bad_settings_are_refused(kwargs, word):
    with pytest.raises(ValueError, match=word):
        RateLimiter(**{"per_minute": 10, "burst": 1, **kwargs})


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert retry_after(0.01) == 1
    assert retry_after(1.0) == 1
    assert retry_after(1.2) == 2
