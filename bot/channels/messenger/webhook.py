"""The Messenger webhook: the subscription handshake, and deliveries checked against their
signature, kept durably (bot.durability.inbox), acknowledged, and handled in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from bot.channels.graph.signature import signature
from bot.channels.graph.webhook import handshake as answer_handshake
from bot.channels.graph.webhook import receive as receive_delivery
from bot.channels.messenger.channel import Messenger
from bot.channels.messenger.events import read
from bot.config import MessengerSettings

__all__ = ["router", "signature"]  # signature: what tests and benchmarks sign deliveries with

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


@router.get(PATH, response_class=PlainTextResponse)
async def handshake(
    request: Request,
    settings: MessengerSettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> str:
    """Meta checks the callback URL: echo `hub.challenge` if the verify token is ours."""
    return await answer_handshake(
        request, settings.verify_token, "FAQBOT_MESSENGER_VERIFY_TOKEN", mode, token, challenge
    )


@router.post(PATH, response_class=PlainTextResponse)
async def receive(request: Request, messenger: MessengerDep) -> str:
    """A delivery of events: 200 once they are on disk and queued (Meta redelivers refused ones)."""
    missing = request.app.state.settings.messenger.missing
    return await receive_delivery(request, messenger, "Messenger", missing, read)
