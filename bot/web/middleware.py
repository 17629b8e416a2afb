"""ASGI middleware of the web app: request context, trusted proxies, rate limits, body limits.

Outermost first, as `bot.web.app.create_app` stacks them:
RequestContext (request id, access log, metrics, security headers, a generic 500 instead of any
unhandled exception) -> TrustedProxies -> CORS -> RateLimitByAddress -> BodyLimit -> the app.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Iterable
from typing import Any

import anyio

from bot.web.logs import new_request_id, request_id
from bot.web.metrics import Metrics
from bot.web.ratelimit import Limiter, retry_after

access_log = logging.getLogger("faqbot.access")
error_log = logging.getLogger("faqbot.error")

QUIET = ("/healthz", "/readyz", "/metrics")  # probes: logged at debug, never rate limited
# Signed platform webhooks (Messenger) arrive from a few of the platform's addresses on behalf of
# many customers: a per-address limit would drop their messages. A delivery whose signature does
# not verify (or that reaches a channel that is off) is charged to its address by the route itself
# (app.state.charge_address), so the exemption holds for the platform only.
UNLIMITED_PREFIXES = ("/webhooks/",)
SECURITY_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}
API_CSP = b"default-src 'none'; frame-ancestors 'none'"  # JSON is never a document
HSTS = b"max-age=31536000"


async def send_json(send: Any, status: int, body: dict, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """A complete JSON response."""
    data = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class RequestContext:
    """Request id (a sane incoming X-Request-ID, else a new one; echoed back), one access-log line,
    request and error metrics, default security headers, and a generic JSON 500 with no stack trace
    in place of any unhandled exception (which is logged, with the request id, and counted)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        rid = new_request_id(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        responded = False

        async def send_with_headers(message: dict) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                responded, status = True, message["status"]
                message["headers"] = self._headers(scope, list(message.get("headers") or []), rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
            if not responded:
                status = 499  # the client went away before an answer (nginx's code for it): not a 5xx
        except Exception as exc:  # noqa: BLE001 - the client gets a generic 500, the log gets the rest
            route = _route(scope)
            self.metrics.exceptions.labels(route, type(exc).__name__).inc()
            error_log.exception(
                "unhandled %s in %s %s", type(exc).__name__, scope["method"], route,
                extra={"route": route, "exception": type(exc).__name__},
            )  # fmt: skip
            if not responded:
                status = 500
                body = {"detail": "internal error; quote the request id to support", "request_id": rid}
                await send_json(send_with_headers, 500, body)
        finally:
            self._record(scope, status, time.perf_counter() - started)
            request_id.reset(token)

    def _headers(self, scope: dict, raw: list[tuple[bytes, bytes]], rid: str) -> list[tuple[bytes, bytes]]:
        present = {name.lower() for name, _ in raw}
        extra = [(b"x-request-id", rid.encode())]
        extra += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
        content_type = dict((k.lower(), v) for k, v in raw).get(b"content-type", b"")
        if b"content-security-policy" not in present and not content_type.startswith(b"text/html"):
            extra.append((b"content-security-policy", API_CSP))
        if scope["path"].startswith("/api/") and b"cache-control" not in present:
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https" and b"strict-transport-security" not in present:
            extra.append((b"strict-transport-security", HSTS))
        return raw + extra

    def _record(self, scope: dict, status: int, seconds: float) -> None:
        route = _route(scope)
        self.metrics.requests.labels(scope["method"], route, str(status)).inc()
        self.metrics.latency.labels(route).observe(seconds)
        if status >= 500:
            self.metrics.errors.labels(route, str(status)).inc()
        level = logging.DEBUG if scope["path"] in QUIET else logging.INFO
        if status >= 500:
            level = logging.ERROR
        access_log.log(
            level, "%s %s %d", scope["method"], scope["path"], status,
            extra={"method": scope["method"], "route": route, "path": scope["path"], "status": status,
                   "duration_ms": round(seconds * 1000, 2)},
        )  # fmt: skip


def _route(scope: dict) -> str:
    return getattr(scope.get("route"), "path", "unmatched")


class TrustedProxies:
    """Take the client address (and scheme) from X-Forwarded-For (and X-Forwarded-Proto) only
    when the connection comes from a configured proxy; otherwise the socket's peer is the client.

    The client is the right-most X-Forwarded-For address that is not itself a trusted proxy, so a
    client cannot pick its own address by sending the header."""

    def __init__(self, app: Any, trusted: Iterable[str]) -> None:
        self.app = app
        self.networks = [ipaddress.ip_network(t.strip(), strict=False) for t in trusted]

    def trusts(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and self.networks and client and self.trusts(client[0]):
            headers = dict(scope.get("headers") or [])
            hops = [h.strip() for h in headers.get(b"x-forwarded-for", b"").decode("latin-1").split(",")]
            hops = [h for h in hops if h]
            for hop in reversed(hops):
                if not self.trusts(hop):
                    if _is_ip(hop):
                        scope["client"] = (hop, 0)
                    break
            proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


async def charge_address(limiter: Limiter, scope: dict) -> int:
    """Take a token from the bucket of the request's client address: the seconds it must wait
    before the next request (Retry-After), or 0 when it is within its rate."""
    client = scope.get("client")
    key = client[0] if client else "unknown"
    if getattr(limiter, "blocking", False):  # shared buckets: a round trip to Redis
        wait = await anyio.to_thread.run_sync(limiter.take, key)
    else:
        wait = limiter.take(key)
    return retry_after(wait) if wait > 0 else 0


class RateLimitByAddress:
    """429 with Retry-After when a client address exceeds its token bucket (probes are exempt)."""

    def __init__(self, app: Any, limiter: Limiter | None, metrics: Metrics) -> None:
        self.app = app
        self.limiter = limiter
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            self.limiter is None
            or scope["type"] != "http"
            or path in QUIET
            or path.startswith(UNLIMITED_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        seconds = await charge_address(self.limiter, scope)
        if seconds:
            self.metrics.rate_limited.labels("address").inc()
            access_log.info("rate limited", extra={"kind": "address", "retry_after": seconds})
            detail = f"too many requests from this address; retry in {seconds} s"
            await send_json(send, 429, {"detail": detail}, [(b"retry-after", str(seconds).encode())])
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies over `max_bytes` with 413, whether or not Content-Length is sent, and
    bodies that take longer than `timeout` seconds to arrive with 408 (a slow client holds no
    worker for long). The body is read here (never more than the limit) and replayed to the app."""

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        timeout: float = 10.0,
        wider: dict[str, tuple[int, float]] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.wider = wider or {}  # path -> (max bytes, timeout): an upload

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes, timeout = self.wider.get(scope.get("path", ""), (self.max_bytes, self.timeout))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await _too_large(send, max_bytes)
            return
        chunks: list[bytes] = []
        with anyio.move_on_after(timeout) as deadline:
            outcome = await self._read(receive, chunks, max_bytes)
        if deadline.cancelled_caught:
            detail = f"request body not received within {timeout:g} s"
            await send_json(send, 408, {"detail": detail}, [(b"connection", b"close")])
            return
        if outcome == "gone":  # the client went away
            return
        if outcome == "too_large":
            await _too_large(send, max_bytes)
            return
        body, replayed = b"".join(chunks), False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Any, chunks: list[bytes], max_bytes: int) -> str:
        """Read the whole body into `chunks`: "complete", "too_large" or "gone"."""
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return "gone"
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > max_bytes:
                return "too_large"
            chunks.append(chunk)
            more = message.get("more_body", False)
        return "complete"


async def _too_large(send: Any, limit: int) -> None:
    await send_json(send, 413, {"detail": f"request body over {limit} bytes"})
