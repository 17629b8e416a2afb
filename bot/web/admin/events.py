"""The live inbox's stream: every event of every handed-off conversation, as server-sent events.

`/admin/events` is the console's (its session cookie; an open stream marks its agent online);
`/api/v1/admin/events` is for scripts and other tools: the admin token as a Bearer, or an agent's
name and password (HTTP Basic). Each event is `event: message|ticket|typing|resync` with JSON data
holding the conversation id and what happened; a `: ping` comment keeps idle streams open."""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import time
from collections.abc import AsyncIterable
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from bot.live.events import Event
from bot.web.admin.pages import Session, session_of
from bot.web.deps import ChatDep, SettingsDep, StreamSlot

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/admin")
PRESENCE = 20.0  # seconds between "still online" marks of a console's stream


def _sse(event: Event) -> ServerSentEvent:
    return ServerSentEvent(event=event.kind, data={"conversation_id": event.conversation_id, **event.data})


async def _stream(chat, touch=None) -> AsyncIterable[ServerSentEvent]:
    async with chat.live.subscribe() as queue:
        yield ServerSentEvent(event="ready", data={})
        marked = 0.0
        while True:
            if touch is not None and time.monotonic() - marked >= PRESENCE:
                marked = time.monotonic()
                await run_in_threadpool(touch)
            try:
                event = await asyncio.wait_for(queue.get(), PRESENCE if touch else None)
            except TimeoutError:
                continue
            yield _sse(event)


def _console_session(request: Request) -> str:
    """The console session's id (checked before the stream opens: a stream cannot fail later)."""
    session = session_of(request)
    if not isinstance(session, Session):
        raise HTTPException(401, "sign in to the console first")
    return session.sid


@router.get("/admin/events", response_class=EventSourceResponse, dependencies=[StreamSlot])
async def console_events(
    chat: ChatDep, sid: Annotated[str, Depends(_console_session)]
) -> AsyncIterable[ServerSentEvent]:
    async for item in _stream(chat, lambda: chat.store.touch_console_session(sid)):
        yield item


async def _staff(
    settings: SettingsDep, chat: ChatDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """Who may listen: the admin token (Bearer) or an agent's name and password (Basic)."""
    token = settings.admin_token
    if token is None:
        raise HTTPException(403, "admin API disabled: set FAQBOT_ADMIN_TOKEN")
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and secrets.compare_digest(
        value.encode(), token.get_secret_value().encode()
    ):
        return "admin"
    if scheme.lower() == "basic":
        try:
            name, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            name = password = ""
        from bot.service.agents import authenticate

        if name and await run_in_threadpool(authenticate, chat.store, name, password) is not None:
            return name
    raise HTTPException(
        401, "missing or wrong admin token or agent password", headers={"WWW-Authenticate": "Bearer, Basic"}
    )


@api.get("/events", response_class=EventSourceResponse, dependencies=[Depends(_staff), StreamSlot])
async def api_events(chat: ChatDep) -> AsyncIterable[ServerSentEvent]:
    """Every event of every handed-off conversation, from whichever replica took it: a customer's
    message (`message`, role "user"), staff's replies, notes and notices (`message`), hand-offs
    opened, claimed, read and closed (`ticket`), typing (`typing`), and `resync` when this replica's
    stream may have missed some (read the queue again)."""
    async for item in _stream(chat):
        yield item
