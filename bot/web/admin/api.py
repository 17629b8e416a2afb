"""Admin API for staff and operations, behind a bearer token (FAQBOT_ADMIN_TOKEN)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bot.index.versions import current_version
from bot.service.reindex import start_rebuild
from bot.storage.fields import DB_INT_MAX, DbInt, Id, Text
from bot.storage.statuses import MissedStatus, Role
from bot.web.deps import ChatDep, SettingsDep, StoreDep, WatcherDep

router = APIRouter(prefix="/api/v1/admin")


def staff(x_faqbot_user: Annotated[str | None, Header(max_length=64)] = None) -> str:
    """Who is acting, for the record (the X-Faqbot-User header; one shared token otherwise)."""
    return x_faqbot_user or "admin"


def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """A valid `Authorization: Bearer <FAQBOT_ADMIN_TOKEN>`; without a configured token, no admin API."""
    token = settings.admin_token
    if token is None:
        raise HTTPException(403, "admin API disabled: set FAQBOT_ADMIN_TOKEN")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(401, "missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"})


@router.post("/reindex", status_code=202, dependencies=[Depends(require_admin)])
def reindex(
    chat: ChatDep, settings: SettingsDep, watcher: WatcherDep, rebuild: bool = True
) -> dict[str, str | None]:
    """Rebuild the index in the background (validate, build, quality gate, publish) and swap it in;
    with `rebuild=false`, only look for a version published by someone else (e.g. the nightly job)."""
    if watcher is None:
        raise HTTPException(409, "hot reload is off (FAQBOT_RELOAD_INTERVAL=0)")
    if rebuild:
        embedder = chat.bot.retriever.embedder
        if not start_rebuild(settings.build, settings.dialogue, embedder, watcher.trigger):
            raise HTTPException(409, "a rebuild is already running")
    else:
        watcher.trigger()
    return {
        "serving": chat.bot.retriever.version,
        "published": current_version(settings.index_path),
        "rebuild": "started" if rebuild else None,
    }


@router.get("/missed", dependencies=[Depends(require_admin)])
def missed(
    store: StoreDep,
    q: Annotated[Text | None, Query(max_length=200)] = None,
    lang: Literal["it", "en"] | None = None,
    channel: Annotated[str | None, Query(pattern=r"^[a-z0-9_-]{1,32}$")] = None,
    since: dt.datetime | None = None,
    status: Literal["open", "resolved", "dismissed", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> dict[str, Any]:
    """The missed-query log (redacted), newest first."""
    items, total = store.missed(q, lang, channel, since, None if status == "all" else status, limit, offset)
    return {
        "items": [
            {
                "id": m.id,
                "text": m.text,
                "lang": m.lang,
                "channel": m.channel,
                "reason": m.reason,
                "confidence": m.confidence,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "candidates": m.candidates,
            }
            for m in items
        ],
        "total": total,
    }


@router.get("/missed/clusters", dependencies=[Depends(require_admin)])
def missed_clusters(
    chat: ChatDep,
    lang: Literal["it", "en"] | None = None,
    limit: Annotated[int, Query(ge=1, le=2000)] = 500,
) -> dict[str, Any]:
    """Open missed questions grouped by meaning, largest and newest first, with proposed articles."""
    from bot.service.missed_topics import MissedItem, cluster

    rows, _ = chat.store.missed(lang=lang, status=MissedStatus.OPEN, limit=limit)
    items = [MissedItem(m.id, m.text, m.lang, m.created_at) for m in rows]
    retriever = chat.bot.retriever
    topics = cluster(items, retriever.embedder, retriever)
    return {
        "clusters": [
            {
                "size": t.size,
                "newest": t.newest.isoformat(),
                "lang": t.lang,
                "examples": list(t.examples),
                "missed_ids": list(t.ids),
                "articles": list(t.articles),
            }
            for t in topics
        ]
    }


class Resolve(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["add_question", "new_article", "dismiss", "not_for_bot"]
    article_id: Annotated[Text, Field(max_length=200)] | None = None
    question: Annotated[Text, Field(min_length=1, max_length=500)] | None = None
    lang: Literal["it", "en"] | None = None
    title: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    body: Annotated[Text, Field(max_length=20_000)] = ""


@router.post("/missed/{missed_id}/resolve", dependencies=[Depends(require_admin)])
def resolve(
    missed_id: Annotated[DbInt, Path()],
    body: Resolve,
    store: StoreDep,
    settings: SettingsDep,
    who: Annotated[str, Depends(staff)],
) -> dict[str, Any]:
    """Turn a missed question into an alternate question or a draft article, or dismiss it.

    Article files change at once; a rebuild (nightly, or POST /reindex) makes them live."""
    from bot.kb.articles import InvalidKnowledgeBase
    from bot.service.curation import NotOpen, Resolution, resolve_missed

    what = Resolution(**body.model_dump())
    try:
        done = resolve_missed(store, settings.kb_path, missed_id, what, who)
    except LookupError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    except NotOpen as exc:
        raise HTTPException(409, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    except (FileExistsError, InvalidKnowledgeBase) as exc:
        raise HTTPException(409, str(exc)) from exc
    return {
        "id": done.id,
        "status": done.status,
        "resolution": done.resolution,
        "resolved_by": done.resolved_by,
    }


class ResolveMany(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[DbInt], Field(min_length=1, max_length=500)]
    action: Literal["add_question", "dismiss", "not_for_bot"]
    article_id: Annotated[Text, Field(max_length=200)] | None = None


@router.post("/missed/resolve", dependencies=[Depends(require_admin)])
def resolve_many(
    body: ResolveMany, store: StoreDep, settings: SettingsDep, who: Annotated[str, Depends(staff)]
) -> dict[str, Any]:
    """One action for many missed questions (a topic's "add all to article"): which were resolved,
    and which were skipped and why (already resolved, a question the article already has…)."""
    from bot.service.curation import Resolution
    from bot.service.curation import resolve_many as apply

    if body.action == "add_question" and not body.article_id:
        raise HTTPException(422, "article_id: required for add_question")
    done, skipped = apply(store, settings.kb_path, body.ids, Resolution(body.action, body.article_id), who)
    return {"resolved": done, "skipped": [{"id": s.missed_id, "reason": s.reason} for s in skipped]}


@router.get("/handoffs", dependencies=[Depends(require_admin)])
def handoffs(store: StoreDep) -> dict[str, Any]:
    """The hand-off queue (open tickets), oldest first: who has each, unread customer messages, the
    last message and who is online."""
    return {
        "items": [
            {
                "ticket_id": row.ticket.id,
                "reference": row.ticket.ref,
                "conversation_id": row.conversation.id,
                "channel": row.conversation.channel,
                "lang": row.conversation.lang,
                "reason": row.ticket.reason,
                "contact": row.ticket.contact,
                "assignee": row.ticket.assignee,
                "unread": row.unread,
                "last_text": row.last_text,
                "last_role": row.last_role,
                "last_at": row.last_at.isoformat() if row.last_at else None,
                "answered": row.ticket.first_reply_at is not None,
                "created_at": row.ticket.created_at.isoformat(),
            }
            for row in store.queue()
        ],
        "online": store.online_staff(),
    }


class AgentReply(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[Text, Field(min_length=1, max_length=4000)]
    close: bool = False


def _on_ticket(action):
    try:
        return action()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.post("/handoffs/{ticket_id}/reply", dependencies=[Depends(require_admin)])
def handoff_reply(
    ticket_id: Id,
    body: AgentReply,
    chat: ChatDep,
    who: Annotated[str, Depends(staff)],
    x_faqbot_user: Annotated[str | None, Header(max_length=64)] = None,
) -> dict[str, Any]:
    """An agent answers the customer; with `close`, the conversation goes back to the bot. A reply
    by a named agent (X-Faqbot-User) claims an unclaimed hand-off for them, and the customer is
    told who answers; the shared token alone claims nothing.

    `delivered` says whether a channel that pushes messages (Messenger) got it to the customer,
    with the reason in `detail` if not; it is null on the web, whose widget fetches replies."""
    if not body.text.strip():
        raise HTTPException(422, "text: must not be blank")
    message, delivery = _on_ticket(
        lambda: chat.inbox.reply(ticket_id, body.text.strip(), body.close, who, x_faqbot_user is not None)
    )
    return {
        "message_id": message.id,
        "closed": body.close,
        "delivered": delivery.delivered if delivery else None,
        "detail": delivery.detail if delivery else "",
    }


@router.post("/handoffs/{ticket_id}/close", dependencies=[Depends(require_admin)])
def handoff_close(ticket_id: Id, chat: ChatDep, who: Annotated[str, Depends(staff)]) -> dict[str, Any]:
    """Return the conversation to the bot, telling the customer so."""
    note = _on_ticket(lambda: chat.inbox.close(ticket_id, who))
    return {"message_id": note.id, "closed": True}


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    agent: Annotated[str, Field(min_length=1, max_length=64)] | None = None  # default: who acts


@router.post("/handoffs/{ticket_id}/claim", dependencies=[Depends(require_admin)])
def handoff_claim(
    ticket_id: Id, chat: ChatDep, who: Annotated[str, Depends(staff)], body: Claim | None = None
) -> dict[str, Any]:
    """Take the hand-off (or assign it to `agent`); the customer is told who answers them."""
    agent = (body.agent if body and body.agent else who).strip()
    if not agent:
        raise HTTPException(422, "agent: must not be blank")
    ticket = _on_ticket(lambda: chat.inbox.claim(ticket_id, agent))
    return {"ticket_id": ticket.id, "assignee": ticket.assignee}


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    text: Annotated[Text, Field(min_length=1, max_length=4000)]


@router.post("/handoffs/{ticket_id}/note", dependencies=[Depends(require_admin)])
def handoff_note(
    ticket_id: Id, body: Note, chat: ChatDep, who: Annotated[str, Depends(staff)]
) -> dict[str, Any]:
    """A private note on the conversation, for staff only."""
    if not body.text.strip():
        raise HTTPException(422, "text: must not be blank")
    note = _on_ticket(lambda: chat.inbox.note(ticket_id, body.text.strip(), who))
    return {"message_id": note.id}


@router.post("/handoffs/{ticket_id}/read", status_code=204, dependencies=[Depends(require_admin)])
def handoff_read(ticket_id: Id, chat: ChatDep, who: Annotated[str, Depends(staff)]) -> Response:
    """The conversation was read: its unread count goes to nothing."""
    _on_ticket(lambda: chat.inbox.read(ticket_id, who))
    return Response(status_code=204)


class Typing(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    typing: bool


@router.post("/handoffs/{ticket_id}/typing", status_code=204, dependencies=[Depends(require_admin)])
def handoff_typing(
    ticket_id: Id, body: Typing, chat: ChatDep, who: Annotated[str, Depends(staff)]
) -> Response:
    """The agent is typing (or stopped): the customer's widget shows it."""
    found = chat.store.open_ticket_by_id(ticket_id)
    if found is None:
        raise HTTPException(404, f"no open ticket {ticket_id}")
    chat.inbox.typing(found[0].conversation_id, "agent", who, body.typing)
    return Response(status_code=204)


class Canned(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    lang: Literal["it", "en"]
    title: Annotated[Text, Field(min_length=1, max_length=120)]
    text: Annotated[Text, Field(min_length=1, max_length=4000)]


def _canned(row) -> dict[str, Any]:
    return {
        "id": row.id,
        "lang": row.lang,
        "title": row.title,
        "text": row.text,
        "created_by": row.created_by,
    }


@router.get("/canned", dependencies=[Depends(require_admin)])
def canned_replies(store: StoreDep, lang: Literal["it", "en"] | None = None) -> dict[str, Any]:
    """The canned replies agents insert with one click, by language and title."""
    return {"items": [_canned(row) for row in store.canned_replies(lang)]}


@router.post("/canned", status_code=201, dependencies=[Depends(require_admin)])
def add_canned_reply(body: Canned, store: StoreDep, who: Annotated[str, Depends(staff)]) -> dict[str, Any]:
    if not body.title.strip() or not body.text.strip():
        raise HTTPException(422, "title and text: must not be blank")
    return _canned(store.add_canned_reply(body.lang, body.title.strip(), body.text.strip(), who))


@router.delete("/canned/{canned_id}", status_code=204, dependencies=[Depends(require_admin)])
def delete_canned_reply(canned_id: Annotated[DbInt, Path()], store: StoreDep) -> Response:
    if not store.delete_canned_reply(canned_id):
        raise HTTPException(404, f"no canned reply {canned_id}")
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}", dependencies=[Depends(require_admin)])
def conversation(conversation_id: Id, store: StoreDep) -> dict[str, Any]:
    """The full transcript of a conversation."""
    messages = store.messages(conversation_id)
    if not messages:
        raise HTTPException(404, f"no conversation {conversation_id!r}")
    return {
        "conversation_id": conversation_id,
        "messages": [
            {
                "id": m.id,
                "role": m.role,
                "text": m.text,
                "decision": m.decision,
                "article_id": m.article_id,
                "confidence": m.confidence,
                "author": m.author,
                "created_at": m.created_at.isoformat(),
            }
            for m in messages
            if m.text or m.role != Role.BOT  # silent bot turns (an agent held the conversation)
        ],
    }


@router.get("/stats", dependencies=[Depends(require_admin)])
def stats(store: StoreDep, days: Annotated[int, Query(ge=1, le=3650)] = 30) -> dict[str, Any]:
    """Deflection (conversations resolved without a person), hand-offs, feedback, top articles."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    return {"days": days, **store.stats(since)}
