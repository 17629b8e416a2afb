"""The WhatsApp webhook: the subscription handshake, and deliveries checked against their
signature, kept durably (bot.durability.inbox), acknowledged, and handled in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from bot.channels.graph.webhook import handshake as answer_handshake
from bot.channels.graph.webhook import receive as receive_delivery
from bot.channels.whatsapp.channel import WhatsApp
from bot.channels.whatsapp.events import read
from bot.config import WhatsAppSettings

router = APIRouter()
PATH = "/webhooks/whatsapp"


# The webhook's own dependencies, in the style of bot.web.deps (which a channel may not import).
async def get_whatsapp_settings(request: Request) -> WhatsAppSettings:
    """The WhatsApp settings of the app."""
    settings: WhatsAppSettings = request.app.state.settings.whatsapp
    return settings


async def get_whatsapp(request: Request) -> WhatsApp | None:
    """The running channel, or None when WhatsApp is not configured."""
    whatsapp: WhatsApp | None = getattr(request.app.state, "whatsapp", None)
    return whatsapp


WhatsAppSettingsDep = Annotated[WhatsAppSettings, Depends(get_whatsapp_settings)]
WhatsAppDep = Annotated[WhatsApp | None, Depends(get_whatsapp)]


@router.get(PATH, response_class=PlainTextResponse)
async def handshake(
    request: Request,
    settings: WhatsAppSettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> str:
    """Meta checks the callback URL: echo `hub.challenge` if the verify token is ours."""
    return await answer_handshake(
        request, settings.verify_token, "FAQBOT_WHATSAPP_VERIFY_TOKEN", mode, token, challenge
    )


@router.post(PATH, response_class=PlainTextResponse)
async def receive(request: Request, whatsapp: WhatsAppDep) -> str:
    """A delivery of events: 200 once they are on disk and queued (Meta redelivers refused ones)."""
    missing = request.app.state.settings.whatsapp.missing
    number = whatsapp.phone_number_id if whatsapp is not None else ""
    return await receive_delivery(
        request, whatsapp, "WhatsApp", missing, lambda payload: read(payload, number)
    )
