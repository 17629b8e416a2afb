"""The Messenger webhook: the subscription handshake, and deliveries checked against their
signature, kept durably (bot.durability.inbox), acknowledged, and handled in the background."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from bot.channels.messenger.channel import Messenger
from bot.channels.messenger.events import read
from bot.config import MessengerSettings

router = APIRouter()
PATH = "/webhooks/messenger"


# The webhook's own dependencies, in the style of bot.web.deps (which a channel may not import).
async def get_messenger_settings(request: Request) -> MessengerSettings:
    """The Messenger settings of the app."""
    settings: MessengerSettings = request.app.state.settings.messenger
    return settings


async def get_messenger(request: Request) -> Messenger | None:
    """The running channel, or None when Messenger is not configured."""
    messenger: Messenger | None = getattr(request.app.state, "messenger", None)
    return messenger


MessengerSettingsDep = Annotated[MessengerSettings, Depends(get_messenger_settings)]
MessengerDep = Annotated[Messenger | None, Depends(get_messenger)]


def signature(secret: bytes, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends: sha256= and the HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def signed_by(secret: bytes, body: bytes, header: str | None) -> bool:
    """Does `header` sign `body` with `secret`? Compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().lower().encode(), signature(secret, body).encode())


@router.get(PATH, response_class=PlainTextResponse)
async def handshake(
    request: Request,
    settings: MessengerSettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> str:
    """Meta checks the callback URL: echo `hub.challenge` if the verify token is ours."""
    expected = settings.verify_token
    if expected is None:
        await _charge(request)
        raise HTTPException(403, "Messenger webhook disabled: set FAQBOT_MESSENGER_VERIFY_TOKEN")
    valid = token is not None and secrets.compare_digest(token.encode(), expected.get_secret_value().encode())
    if mode != "subscribe" or not valid or challenge is None:
        await _charge(request)  # guessing the token costs what any request costs
        raise HTTPException(403, "wrong hub.mode or hub.verify_token")
    return challenge


async def _charge(request: Request) -> None:
    """A request that proves nothing (no valid signature, or a channel that is off) is rate
    limited by its address, as any other request is; only signed deliveries go unlimited."""
    charge = getattr(request.app.state, "charge_address", None)
    seconds = await charge(request.scope) if charge is not None else 0
    if seconds:
        detail = f"too many requests from this address; retry in {seconds} s"
        raise HTTPException(429, detail, {"Retry-After": str(seconds)})


@router.post(PATH, response_class=PlainTextResponse)
async def receive(request: Request, messenger: MessengerDep) -> str:
    """A delivery of events: 200 once they are on disk and queued (Meta redelivers refused ones)."""
    body = await request.body()  # the raw bytes: the signature covers them, not a re-encoding
    signature_header = request.headers.get("X-Hub-Signature-256")
    verified = messenger is not None and signed_by(messenger.app_secret, body, signature_header)
    if not verified:
        await _charge(request)
    if messenger is None:
        missing = request.app.state.settings.messenger.missing()
        if not missing:  # configured, not running yet (no index loads): Meta redelivers a 5xx
            raise HTTPException(
                503, "Messenger is not running yet (see the service log)", {"Retry-After": "5"}
            )
        detail = f"Messenger is not configured: set {' and '.join(missing)} (not empty)"
        raise HTTPException(404, detail)  # the channel does not exist here: nothing to retry
    if not verified:
        raise HTTPException(403, "missing or wrong X-Hub-Signature-256")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise HTTPException(400, f"the body is not JSON: {exc}") from exc
    # Kept on disk (fsync) before the 200: blocking I/O, off the event loop. A spool that cannot
    # keep them raises SpoolUnavailable: 503, and Meta redelivers.
    if not await run_in_threadpool(messenger.accept, read(payload)):
        raise HTTPException(503, "too many events queued; redeliver later")
    return "EVENT_RECEIVED"
