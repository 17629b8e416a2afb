"""What routes need, as FastAPI dependencies: one `Annotated` alias per object the app holds.

The app factory and its lifespan (bot.web.app) keep these objects on `app.state`; routes take
them as parameters, and only this module reads them from there. The Messenger webhook has its own
(bot.channels.messenger.webhook): the channels sit under the web package and may not import it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from bot.config import Settings
from bot.index.reload import IndexWatcher
from bot.service.chat import ChatService
from bot.service.outbound import Outbound
from bot.storage.store import Store
from bot.web.metrics import Metrics
from bot.web.ratelimit import Limiter
from bot.web.streams import StreamSlots

# The getters are async: reading an attribute never blocks, so they need no worker thread.


def settings_of(request: Request) -> Settings:
    """The app's settings, for helpers that are given only the request (bot.web.admin.pages)."""
    settings: Settings = request.app.state.settings
    return settings


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return settings_of(request)


async def get_chat(request: Request) -> ChatService:
    """The chat service: the bot and the store (set by the lifespan; None while no index version
    loads: 503, and a client tries again)."""
    chat: ChatService | None = getattr(request.app.state, "chat", None)
    if chat is None:
        detail = "no knowledge-base index loads yet (run `faqbot build`); try again shortly"
        raise HTTPException(503, detail, {"Retry-After": "5"})
    return chat


async def get_store(chat: Annotated[ChatService, Depends(get_chat)]) -> Store:
    """The chat service's store."""
    return chat.store


async def get_metrics(request: Request) -> Metrics:
    """The app's Prometheus metrics."""
    metrics: Metrics = request.app.state.metrics
    return metrics


async def get_outbound(request: Request) -> Outbound:
    """The channels that push staff replies to customers (Messenger)."""
    outbound: Outbound = request.app.state.outbound
    return outbound


async def get_watcher(request: Request) -> IndexWatcher | None:
    """The hot-reload watcher, or None when hot reload is off."""
    watcher: IndexWatcher | None = request.app.state.watcher
    return watcher


async def get_conversation_limiter(request: Request) -> Limiter | None:
    """The per-conversation rate limit, or None when it is off."""
    limiter: Limiter | None = request.app.state.conversation_limiter
    return limiter


SettingsDep = Annotated[Settings, Depends(get_settings)]
ChatDep = Annotated[ChatService, Depends(get_chat)]
StoreDep = Annotated[Store, Depends(get_store)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
OutboundDep = Annotated[Outbound, Depends(get_outbound)]
WatcherDep = Annotated[IndexWatcher | None, Depends(get_watcher)]
ConversationLimiterDep = Annotated[Limiter | None, Depends(get_conversation_limiter)]


async def stream_slot(request: Request) -> AsyncIterator[None]:
    """A live stream's slot, held until the stream ends (503 before it opens when none is free)."""
    slots: StreamSlots = request.app.state.stream_slots
    with slots.held(request):
        yield


StreamSlot = Depends(stream_slot)
