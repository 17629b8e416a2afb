"""The customer's side of a live hand-off, for the web widget: the agent's messages as they come
(server-sent events, or polled), typing, an e-mail address to be answered at, and leaving.

The conversation id (128 random bits) is the customer's key to all of it, as for the chat API."""

from __future__ import annotations

from collections.abc import AsyncIterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bot.dialogue.messages import message
from bot.live.events import Event, Kind
from bot.storage.fields import Id
from bot.storage.statuses import ConversationStatus, Role
from bot.storage.store import UnknownConversation
from bot.text.redact import EMAIL
from bot.web.chat_api import limit_conversation
from bot.web.deps import ChatDep, ConversationLimiterDep, MetricsDep, StreamSlot

router = APIRouter(prefix="/api/v1/conversations")
SHOWN = (Role.AGENT, Role.SYSTEM)  # what the customer sees of what staff write (never notes)


def _message(m: Any) -> dict[str, Any]:
    return {
        "id": m.id,
        "role": m.role,
        "author": m.author,
        "text": m.text,
        "created_at": m.created_at.isoformat(),
    }


def _snapshot(service, conversation_id: str):
    try:
        return service.store.snapshot(conversation_id)
    except UnknownConversation as exc:
        raise HTTPException(404, f"unknown conversation {exc.args[0]!r}") from exc


def _status(service, conversation_id: str) -> dict[str, Any]:
    """Who answers the conversation now, and the agent's name once one has claimed it."""
    seen = _snapshot(service, conversation_id)
    ticket = (
        service.store.open_ticket_of(conversation_id) if seen.status == ConversationStatus.HANDOFF else None
    )
    return {"status": seen.status, "agent": ticket.assignee if ticket else None}


@router.get("/{conversation_id}/messages")
def agent_messages(conversation_id: Id, service: ChatDep, after: Id | None = None) -> dict[str, Any]:
    """What staff wrote to the customer since message `after` (agents' replies and notices such as
    "Giulia is with you now"), for a widget that cannot hold a stream open; `status` turns back
    to "bot" when the hand-off ends."""
    try:
        status, messages = service.store.agent_messages(conversation_id, after, roles=SHOWN)
    except UnknownConversation as exc:
        raise HTTPException(404, f"unknown conversation {exc.args[0]!r}") from exc
    ticket = service.store.open_ticket_of(conversation_id) if status == ConversationStatus.HANDOFF else None
    return {
        "status": status,
        "agent": ticket.assignee if ticket else None,
        "messages": [_message(m) for m in messages],
    }


def _known(conversation_id: Id, service: ChatDep) -> None:
    """A 404 for an unknown conversation, before the stream opens (a stream cannot answer one)."""
    _snapshot(service, conversation_id)


@router.get(
    "/{conversation_id}/events",
    response_class=EventSourceResponse,
    dependencies=[Depends(_known), StreamSlot],
)
async def events(conversation_id: Id, service: ChatDep) -> AsyncIterable[ServerSentEvent]:
    """The hand-off live: `message` (an agent's reply or a notice), `typing` (the agent's) and
    `status` ({"status": "handoff"|"bot", "agent"}), the status first."""
    async with service.live.subscribe() as queue:  # listening first: nothing said after the status is missed
        status = await run_in_threadpool(_status, service, conversation_id)
        yield ServerSentEvent(event="status", data=status)
        while True:
            event: Event = await queue.get()
            if event.kind == Kind.RESYNC:
                status = await run_in_threadpool(_status, service, conversation_id)
                yield ServerSentEvent(event="status", data=status | {"resync": True})
                continue
            if event.conversation_id != conversation_id:
                continue
            data = event.data
            if event.kind == Kind.MESSAGE and data.get("role") in SHOWN:
                shown = {k: data.get(k) for k in ("id", "role", "author", "text", "created_at")}
                yield ServerSentEvent(event="message", id=str(data.get("id")), data=shown)
            elif event.kind == Kind.TYPING and data.get("who") == "agent":
                yield ServerSentEvent(
                    event="typing", data={"typing": bool(data.get("typing")), "author": data.get("author")}
                )
            elif event.kind == Kind.TICKET and data.get("action") in ("claimed", "closed", "ended"):
                over = data.get("action") != "claimed"
                status = {"status": ConversationStatus.BOT if over else ConversationStatus.HANDOFF}
                yield ServerSentEvent(
                    event="status", data=status | {"agent": None if over else data.get("agent")}
                )


class Typing(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    typing: bool


@router.post("/{conversation_id}/typing", status_code=204)
def typing(conversation_id: Id, body: Typing, service: ChatDep) -> Response:
    """The customer is typing (or stopped), told live to the agent; only during a hand-off. Not
    charged to the conversation's message budget (the address's limit still applies)."""
    if service.store.open_ticket_of(conversation_id) is None:
        raise HTTPException(409, "no open hand-off in this conversation")
    service.inbox.typing(conversation_id, "customer", None, body.typing)
    return Response(status_code=204)


class Contact(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    email: Annotated[str, Field(min_length=3, max_length=320)]


@router.post("/{conversation_id}/contact")
def contact(
    conversation_id: Id, body: Contact, service: ChatDep, limiter: ConversationLimiterDep, metrics: MetricsDep
) -> dict[str, Any]:
    """An e-mail address to answer the open hand-off at, should the customer leave."""
    limit_conversation(limiter, metrics, conversation_id)
    email = body.email.strip()
    if EMAIL.fullmatch(email) is None:
        raise HTTPException(422, "email: not an e-mail address")
    try:
        service.store.set_contact(conversation_id, email)
    except LookupError as exc:
        raise HTTPException(409, "no open hand-off in this conversation") from exc
    lang = _snapshot(service, conversation_id).state.lang or service.bot.retriever.detector.default
    return {"ok": True, "message": message("contact_kept", lang).format(email=email)}


@router.post("/{conversation_id}/end")
def end(
    conversation_id: Id, service: ChatDep, limiter: ConversationLimiterDep, metrics: MetricsDep
) -> dict[str, Any]:
    """The customer leaves ("new conversation"): an open hand-off closes, and staff are told."""
    limit_conversation(limiter, metrics, conversation_id)
    _snapshot(service, conversation_id)
    note = service.inbox.ended_by_customer(conversation_id)
    return {"ok": True, "closed": note is not None}
