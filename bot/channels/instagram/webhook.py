"""The Instagram webhook (`object: "instagram"`): the handshake, and deliveries checked against
their signature, kept durably and handled in the background, as Messenger's are."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from bot.channels.graph.webhook import handshake as answer_handshake
from bot.channels.graph.webhook import receive as receive_delivery
from bot.channels.messenger.channel import Messenger
from bot.channels.messenger.events import Event
from bot.channels.messenger.events import read as read_events
from bot.channels.messenger.platform import INSTAGRAM
from bot.config import InstagramSettings

router = APIRouter()
PATH = "/webhooks/instagram"


async def get_instagram_settings(request: Request) -> InstagramSettings:
    """The Instagram settings of the app."""
    settings: InstagramSettings = request.app.state.settings.instagram
    return settings


async def get_instagram(request: Request) -> Messenger | None:
    """The running channel, or None when Instagram is not configured."""
    instagram: Messenger | None = getattr(request.app.state, "instagram", None)
    return instagram


InstagramSettingsDep = Annotated[InstagramSettings, Depends(get_instagram_settings)]
InstagramDep = Annotated[Messenger | None, Depends(get_instagram)]


def reader(account_id: str | None):
    """The delivery reader: Instagram's events, only those of `account_id` when it is set (an app
    may serve several accounts; the others are not this bot's to answer)."""

    def read(body: dict) -> list[tuple[Event, dict]]:
        if account_id and isinstance(body, dict) and isinstance(body.get("entry"), list):
            entries = [e for e in body["entry"] if isinstance(e, dict) and str(e.get("id")) == account_id]
            body = {**body, "entry": entries}
        return read_events(body, INSTAGRAM)

    return read


@router.get(PATH, response_class=PlainTextResponse)
async def handshake(
    request: Request,
    settings: InstagramSettingsDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=32)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=512)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=512)] = None,
) -> str:
    """Meta checks the callback URL: echo `hub.challenge` if the verify token is ours."""
    return await answer_handshake(
        request, settings.verify_token, "FAQBOT_INSTAGRAM_VERIFY_TOKEN", mode, token, challenge
    )


@router.post(PATH, response_class=PlainTextResponse)
async def receive(request: Request, instagram: InstagramDep, settings: InstagramSettingsDep) -> str:
    """A delivery of events: 200 once they are on disk and queued (Meta redelivers refused ones)."""
    return await receive_delivery(
        request, instagram, "Instagram", settings.missing, reader(settings.account_id)
    )
