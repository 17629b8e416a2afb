"""What every Meta webhook does the same way: the subscription handshake, a delivery checked
against its signature and kept before its 200, and charging a request that proves nothing (no
valid signature, or a channel that is off) to its address's rate limit."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Protocol

from fastapi import HTTPException, Request
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool

from bot.channels.graph.signature import signed_by


async def charge(request: Request) -> None:
    """Rate limit an unproven request by its address, as any other request is; only signed
    deliveries go unlimited (Meta sends them for many customers from a few addresses)."""
    charge_address = getattr(request.app.state, "charge_address", None)
    seconds = await charge_address(request.scope) if charge_address is not None else 0
    if seconds:
        detail = f"too many requests from this address; retry in {seconds} s"
        raise HTTPException(429, detail, {"Retry-After": str(seconds)})


async def handshake(
    request: Request,
    expected: SecretStr | None,
    setting: str,
    mode: str | None,
    token: str | None,
    challenge: str | None,
) -> str:
    """Meta checks the callback URL: `hub.challenge` back if the verify token is ours (`setting`
    names it for the 403 when it is unset); guessing the token costs what any request costs."""
    if expected is None:
        await charge(request)
        raise HTTPException(403, f"webhook disabled: set {setting}")
    valid = token is not None and secrets.compare_digest(token.encode(), expected.get_secret_value().encode())
    if mode != "subscribe" or not valid or challenge is None:
        await charge(request)
        raise HTTPException(403, "wrong hub.mode or hub.verify_token")
    return challenge


class Channel(Protocol):
    """A running channel, as its webhook sees it."""

    @property
    def app_secret(self) -> bytes: ...

    def accept(self, events: list) -> bool: ...


async def receive(
    request: Request,
    channel: Channel | None,
    name: str,
    missing: Callable[[], list[str]],
    read: Callable[[dict], list],
) -> str:
    """A delivery of events for `channel` (None: not running; `missing()` names the settings it
    lacks): 200 once they are on disk and queued, which Meta does not redeliver; 403 for a bad
    signature; 404 for a channel that is not configured here; 503 (redelivered) otherwise."""
    body = await request.body()  # the raw bytes: the signature covers them, not a re-encoding
    verified = channel is not None and signed_by(
        channel.app_secret, body, request.headers.get("X-Hub-Signature-256")
    )
    if not verified:
        await charge(request)
    if channel is None:
        lacking = missing()
        if not lacking:  # configured, not running yet (no index loads): Meta redelivers a 5xx
            raise HTTPException(503, f"{name} is not running yet (see the service log)", {"Retry-After": "5"})
        detail = f"{name} is not configured: set {' and '.join(lacking)} (not empty)"
        raise HTTPException(404, detail)  # the channel does not exist here: nothing to retry
    if not verified:
        raise HTTPException(403, "missing or wrong X-Hub-Signature-256")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from exc
    # Kept on disk (fsync) before the 200: blocking I/O, off the event loop. A spool that cannot
    # keep them raises SpoolUnavailable: 503, and Meta redelivers.
    if not await run_in_threadpool(channel.accept, read(payload)):
        raise HTTPException(503, "too many events queued; redeliver later")
    return "EVENT_RECEIVED"
