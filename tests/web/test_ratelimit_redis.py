"""Rate limits shared by replicas through the real Redis (FAQBOT_TEST_REDIS_URL, default
127.0.0.1:6379): two app instances together allow one limit's worth of requests, and a Redis out
of reach (refused, or cut mid-way behind a TCP proxy) never fails a request."""

from __future__ import annotations

import logging
import os
import random
import uuid

import pytest
from fastapi.testclient import TestClient
from redis.exceptions import RedisError

from bot.config import Settings
from bot.web.app import create_app
from bot.web.ratelimit import RateLimiter
from bot.web.ratelimit_redis import SharedRateLimiter, connect
from tests.serve_kit import free_port
from tests.tcp_proxy import TcpProxy

ARTICLE = "/api/v1/articles/reset-password"


@pytest.fixture(scope="module")
def redis_url() -> str:
    url = os.environ.get("FAQBOT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        connect(url, timeout=1.0).ping()
    except RedisError as exc:
        pytest.skip(f"needs a Redis server at {url} (set FAQBOT_TEST_REDIS_URL): {exc}")
    return url


@pytest.fixture
def address() -> str:
    """A client address no other test (or earlier run, on the same Redis) has used."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture
def make_app(quick_service):
    """Start app instances (as if replicas) with `settings`, each seen from `address`."""
    opened = []

    def make(address: str, **settings) -> TestClient:
        client = TestClient(create_app(Settings(**settings), quick_service()), client=(address, 40000))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def statuses(replicas: list[TestClient], requests: int) -> list[int]:
    """`requests` requests, spread round-robin over the replicas (as a load balancer does)."""
    return [replicas[i % len(replicas)].get(ARTICLE).status_code for i in range(requests)]


def test_two_replicas_sharing_one_redis_together_allow_one_limit(make_app, redis_url, address):
    limits = {"rate_limit_ip": 1, "rate_limit_ip_burst": 4}  # a token a minute: no refill meanwhile
    shared = [make_app(address, redis_url=redis_url, **limits) for _ in range(2)]
    codes = statuses(shared, 10)
    assert codes.count(200) == 4 and codes.count(429) == 6
    refused = shared[1].get(ARTICLE)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 60
    alone = [make_app(address, **limits) for _ in range(2)]  # per process, as without Redis
    assert statuses(alone, 10).count(200) == 8


def test_conversations_share_their_buckets_too(make_app, redis_url, address):
    replicas = [make_app(address, redis_url=redis_url, rate_limit_conversation=1) for _ in range(2)]
    limiters = [r.app.state.conversation_limiter for r in replicas]
    assert all(isinstance(limiter, SharedRateLimiter) for limiter in limiters)
    conversation = f"c_{uuid.uuid4().hex}"
    waits = [limiters[i % 2].take(conversation) for i in range(14)]  # default burst: 10
    assert [w == 0 for w in waits] == [True] * 10 + [False] * 4


def test_with_redis_out_of_reach_requests_are_served_on_local_buckets(make_app, address, caplog):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    client = make_app(address, redis_url=down, rate_limit_ip=1, rate_limit_ip_burst=3)
    with caplog.at_level(logging.WARNING, logger="faqbot.ratelimit"):
        codes = statuses([client], 5)
    assert codes == [200, 200, 200, 429, 429]  # served, and this process's own limit still holds
    assert "Redis unreachable" in caplog.text
    metrics = client.get("/metrics").text
    assert 'faqbot_rate_limit_fallbacks_total{kind="address"} 5.0' in metrics


def test_redis_cut_mid_way_falls_back_then_shares_again(redis_url):
    where = connect(redis_url).connection_pool.connection_kwargs
    proxy = TcpProxy(where.get("host", "127.0.0.1"), where.get("port", 6379)).start()
    try:
        name, fallbacks = f"test-{uuid.uuid4().hex}", []
        through = connect(f"redis://127.0.0.1:{proxy.port}/{where.get('db', 0)}")
        limiter = SharedRateLimiter(
            through, name, RateLimiter(1, 2), lambda: fallbacks.append(1), retry_interval=0
        )
        other = SharedRateLimiter(connect(redis_url), name, RateLimiter(1, 2))  # another replica
        assert limiter.take("k") == 0.0 and other.take("k") == 0.0
        assert other.take("k") > 0  # the shared bucket is empty
        proxy.cut()
        assert limiter.take("k") == 0.0 and fallbacks == [1]  # its own bucket, still full
        proxy.restore()
        assert limiter.take("k") > 0 and fallbacks == [1]  # shared again: the bucket is empty
    finally:
        proxy.stop()
