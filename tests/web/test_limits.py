"""Abuse limits in the app: per-address and per-conversation 429s with Retry-After, trusted proxies,
and the request body's size and time limits."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from bot.web.middleware import BodyLimit


@pytest.fixture
def make_client(quick_service):
    """A TestClient over the small KB with the given settings, connecting from `address`."""
    opened = []

    def make(address: str = "203.0.113.7", **settings) -> TestClient:
        client = TestClient(create_app(Settings(**settings), quick_service()), client=(address, 50000))
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def test_an_address_over_its_rate_gets_429_with_retry_after(make_client):
    client = make_client(rate_limit_ip=6, rate_limit_ip_burst=3)  # a token every 10 s
    codes = [client.post("/api/v1/chat", json={"text": "spese di spedizione"}).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    refused = client.get("/api/v1/articles/reset-password")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    assert "too many requests" in refused.json()["detail"]
    assert client.get("/healthz").status_code == 200, "probes are never limited"
    assert client.get("/readyz").status_code == 200
    # a webhook request that proves nothing is charged like any other (signed deliveries are not:
    # tests/channels/messenger/test_webhook.py)
    assert client.post("/webhooks/messenger", content=b"{}").status_code == 429
    assert 'faqbot_rate_limited_total{kind="address"} 1.0' in client.get("/metrics").text


def test_the_429_carries_cors_headers_so_the_widget_can_read_it(make_client):
    client = make_client(rate_limit_ip=1, rate_limit_ip_burst=1)
    origin = {"Origin": "https://shop.example"}
    client.get("/api/v1/articles/reset-password", headers=origin)
    refused = client.get("/api/v1/articles/reset-password", headers=origin)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "*"
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


def test_one_address_does_not_use_up_anothers_tokens(quick_service):
    app = create_app(Settings(rate_limit_ip=1, rate_limit_ip_burst=1), quick_service())
    with TestClient(app, client=("198.51.100.1", 1)) as first:
        assert first.get("/api/v1/articles/reset-password").status_code == 200
        assert first.get("/api/v1/articles/reset-password").status_code == 429
        second = TestClient(app, client=("198.51.100.2", 1))
        assert second.get("/api/v1/articles/reset-password").status_code == 200


def test_one_conversation_is_limited_on_its_own(make_client):
    client = make_client(rate_limit_conversation=1, rate_limit_conversation_burst=2)
    first = client.post("/api/v1/chat", json={"text": "spese di spedizione"}).json()
    follow = {"text": "quanto costa spedire", "conversation_id": first["conversation_id"]}
    assert client.post("/api/v1/chat", json=follow).status_code == 200
    assert client.post("/api/v1/chat", json=follow).status_code == 200
    refused = client.post("/api/v1/chat", json=follow)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "this conversation" in refused.json()["detail"]
    feedback = {"conversation_id": first["conversation_id"], "helpful": True}
    assert client.post("/api/v1/feedback", json=feedback).status_code == 429
    other = client.post("/api/v1/chat", json={"text": "spese di spedizione"})
    assert other.status_code == 200, "another conversation from the same address goes on"
    assert 'faqbot_rate_limited_total{kind="conversation"} 2.0' in client.get("/metrics").text


def test_zero_turns_a_limit_off(make_client):
    client = make_client(rate_limit_ip=0, rate_limit_ip_burst=1)
    assert all(client.get("/api/v1/articles/reset-password").status_code == 200 for _ in range(5))


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(make_client):
    client = make_client(rate_limit_ip=1, rate_limit_ip_burst=1)
    assert client.get("/healthz").status_code == 200
    codes = [
        client.get("/api/v1/articles/reset-password", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
        for i in range(2)
    ]
    assert codes == [200, 429], "a client cannot pick a new address by sending X-Forwarded-For"


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(make_client):
    client = make_client("10.0.0.5", rate_limit_ip=1, rate_limit_ip_burst=1, trusted_proxies=["10.0.0.0/8"])

    def status(forwarded: str) -> int:
        return client.get(
            "/api/v1/articles/reset-password", headers={"X-Forwarded-For": forwarded}
        ).status_code

    assert status("192.0.2.1") == 200
    assert status("192.0.2.2") == 200, "a different client behind the proxy"
    assert status("192.0.2.1") == 429
    # A client prepending a fake address: the right-most untrusted hop is still the real client.
    assert status("192.0.2.99, 192.0.2.1") == 429
    assert status("192.0.2.1, 10.0.0.9") == 429, "hops through further trusted proxies are skipped"


def test_a_bad_trusted_proxy_setting_is_refused():
    with pytest.raises(ValueError, match="not an IP address"):
        Settings(trusted_proxies=["proxy.example"])


# --- request bodies ------------------------------------------------------------------------------


def test_two_megabyte_bodies_are_refused_with_413(make_client):
    client = make_client()
    big = json.dumps({"text": "x" * 2_000_000}).encode()
    r = client.post("/api/v1/chat", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]
    chunked = client.post(
        "/api/v1/chat", content=iter([big[i : i + 65536] for i in range(0, len(big), 65536)])
    )
    assert chunked.status_code == 413


def run_asgi(app, scope: dict, receive) -> list[dict]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    return {"type": "http", "method": "POST", "path": "/api/v1/chat", "headers": headers}


def test_a_body_that_does_not_arrive_in_time_gets_408():
    called = []

    async def app(scope, receive, send):
        called.append(scope)

    async def trickle() -> dict:  # one byte, then nothing for a long time
        if not hasattr(trickle, "sent"):
            trickle.sent = True
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(30)
        return {"type": "http.request", "body": b"}", "more_body": False}

    sent = run_asgi(
        BodyLimit(app, max_bytes=1024, timeout=0.2), http_scope([(b"content-length", b"2")]), trickle
    )
    assert sent[0]["status"] == 408 and not called
    assert "not received within 0.2 s" in json.loads(sent[1]["body"])["detail"]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_body_in_time_is_replayed_to_the_app_whole():
    seen = []

    async def app(scope, receive, send):
        seen.append(await receive())

    parts = iter([b'{"te', b'xt": "ciao"}'])

    async def chunks() -> dict:
        part = next(parts)
        return {"type": "http.request", "body": part, "more_body": part.startswith(b"{")}

    run_asgi(BodyLimit(app, max_bytes=1024, timeout=5), http_scope([]), chunks)
    assert seen == [{"type": "http.request", "body": b'{"text": "ciao"}', "more_body": False}]


def test_faqbot_serve_runs_uvicorn_with_timeouts_and_without_its_proxy_headers():
    from bot.web.app import uvicorn_options

    options = uvicorn_options(Settings(keepalive_timeout=3, max_concurrency=200))
    assert options["proxy_headers"] is False, "only FAQBOT_TRUSTED_PROXIES decides whom to believe"
    assert options["timeout_keep_alive"] == 3 and options["limit_concurrency"] == 200
    assert options["access_log"] is False and options["log_config"]["formatters"]["default"]


def test_a_client_that_leaves_mid_body_is_logged_as_499_not_as_a_server_error(quick_service):
    from bot.web.middleware import RequestContext

    app = create_app(Settings(), quick_service())
    gone = iter([{"type": "http.request", "body": b"{", "more_body": True}, {"type": "http.disconnect"}])

    async def receive() -> dict:
        return next(gone)

    context = next(m for m in app.user_middleware if m.cls is RequestContext)
    sent = run_asgi(
        RequestContext(BodyLimit(lambda *a: None, 1024), **context.kwargs),
        {**http_scope([]), "client": ("192.0.2.1", 1), "scheme": "http"},
        receive,
    )
    assert sent == []
    registry = app.state.metrics.registry
    sample = {"method": "POST", "route": "unmatched", "status": "499"}
    assert registry.get_sample_value("faqbot_requests_total", sample) == 1
    assert (
        registry.get_sample_value("faqbot_http_errors_total", {"route": "unmatched", "status": "500"}) is None
    )
