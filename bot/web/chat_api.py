"""The web channel: chat and feedback API, articles for "read more", the widget and its demo page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.service.chat import Turn
from bot.storage.fields import Id, Text
from bot.storage.store import UnknownConversation
from bot.text.html import to_html
from bot.web.deps import ChatDep, ConversationLimiterDep, MetricsDep, SettingsDep
from bot.web.logs import log_turn
from bot.web.metrics import Metrics
from bot.web.ratelimit import Limiter, retry_after

STATIC = Path(__file__).resolve().parent / "static"
router = APIRouter()

# The demo page is a shop page with the widget on it, under as strict a policy as the widget
# supports: its own origin only, no inline script or style at all.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class ChatRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    text: Text
    conversation_id: Id | None = None
    lang: Literal["it", "en"] | None = None
    channel: Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,32}$")] = "web"


class ArticleRef(BaseModel):
    article_id: str
    title: str


class AnswerOut(BaseModel):
    article_id: str
    title: str
    text: str
    html: str


class HandoffOut(BaseModel):
    ticket_id: str
    reference: str | None = None  # short, to read over the phone ("LC-4821")
    message: str  # what happens next, with the honest wait
    eta_minutes: int
    position: int = 1  # place among the customers waiting for a first reply
    agents_online: int | None = None  # None: unknown


class Suggestion(BaseModel):
    article_id: str
    title: str


class ChatResponse(BaseModel):
    conversation_id: str
    message_id: str
    # "agent": a person holds the conversation; the bot says nothing (text "", no hand-off notice)
    decision: Literal["answer", "clarify", "handoff", "smalltalk", "agent"]
    confidence: float
    lang: str
    text: str
    answer: AnswerOut | None = None
    suggestions: list[ArticleRef] = []
    follow_ups: list[ArticleRef] = []
    handoff: HandoffOut | None = None


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    conversation_id: Id
    message_id: Id | None = None
    helpful: bool
    comment: Annotated[Text, Field(max_length=2000)] | None = None


def limit_conversation(limiter: Limiter | None, metrics: Metrics, conversation_id: str | None) -> None:
    """429 with Retry-After when one conversation sends messages faster than its token bucket."""
    if limiter is None or conversation_id is None:
        return
    wait = limiter.take(conversation_id)
    if wait > 0:
        seconds = retry_after(wait)
        metrics.rate_limited.labels("conversation").inc()
        detail = f"too many messages in this conversation; retry in {seconds} s"
        raise HTTPException(429, detail, headers={"Retry-After": str(seconds)})


@router.post("/api/v1/chat", response_model=ChatResponse)
def chat(
    body: ChatRequest,
    service: ChatDep,
    settings: SettingsDep,
    limiter: ConversationLimiterDep,
    metrics: MetricsDep,
) -> ChatResponse:
    """One customer message in, the bot's reply out (a new conversation when no id is given)."""
    text = body.text.strip()
    limit = settings.max_text_chars
    if not text:
        raise HTTPException(422, "text: must not be empty")
    if len(text) > limit:
        raise HTTPException(422, f"text: at most {limit} characters, got {len(text)}")
    if body.channel not in settings.web_channels:  # a closed set: bounded metric labels, no impostor
        raise HTTPException(422, f"channel: one of {', '.join(settings.web_channels)} (FAQBOT_WEB_CHANNELS)")
    limit_conversation(limiter, metrics, body.conversation_id)
    try:
        turn = service.handle(text, body.conversation_id, body.lang, body.channel)
    except UnknownConversation as exc:
        raise HTTPException(404, f"unknown conversation {exc.args[0]!r}; start a new one") from exc
    reply = turn.reply
    metrics.decisions.labels(reply.decision, body.channel).inc()
    log_turn(
        turn.conversation_id, turn.message_id, text, reply.decision, reply.reason, reply.confidence,
        reply.lang, body.channel, reply.article.article_id if reply.article else None,
        settings.log_text,
    )  # fmt: skip
    return response_of(turn)


def response_of(turn: Turn) -> ChatResponse:
    reply = turn.reply
    answer = None
    if reply.article is not None:
        view = reply.article
        answer = AnswerOut(
            article_id=view.article_id, title=view.title, text=reply.text, html=to_html(reply.text)
        )
    handoff = None
    if turn.handoff is not None:
        handoff = HandoffOut(**vars(turn.handoff))
    return ChatResponse(
        conversation_id=turn.conversation_id,
        message_id=turn.message_id,
        decision=reply.decision,
        confidence=round(reply.confidence, 4),
        lang=reply.lang,
        text=handoff.message if handoff else reply.text,
        answer=answer,
        suggestions=[ArticleRef(article_id=s.article_id, title=s.title) for s in reply.suggestions],
        follow_ups=[ArticleRef(article_id=s.article_id, title=s.title) for s in reply.follow_ups],
        handoff=handoff,
    )


@router.post("/api/v1/feedback")
def feedback(
    body: FeedbackRequest, service: ChatDep, limiter: ConversationLimiterDep, metrics: MetricsDep
) -> dict[str, Any]:
    """Was the answer helpful? Stored with the conversation (and message, when given). An
    unhelpful answer hands off to a person: `handoff` then says so (ticket and expected wait)."""
    limit_conversation(limiter, metrics, body.conversation_id)
    try:
        handoff = service.feedback(body.conversation_id, body.message_id, body.helpful, body.comment)
    except UnknownConversation as exc:
        raise HTTPException(404, f"unknown {exc.args[0]}") from exc
    return {"ok": True, "handoff": vars(handoff) if handoff else None}


@router.get("/api/v1/suggestions")
def suggestions(service: ChatDep, lang: Literal["it", "en"] = "it", limit: int = 4) -> dict[str, Any]:
    """Topics to offer in an empty chat: the articles answered most in the last 30 days in `lang`,
    then the knowledge base's first articles."""
    retriever = service.bot.retriever
    if not 1 <= limit <= 10:
        raise HTTPException(422, "limit: 1 to 10")
    popular = service.store.popular_articles(dt.datetime.now(dt.UTC) - dt.timedelta(days=30), 50)
    chosen: list[Suggestion] = []
    for article_id in [*popular, *(a.id for a in retriever.corpus.articles)]:
        record = retriever.article(article_id)
        if record is None or record.lang != lang or any(s.article_id == record.id for s in chosen):
            continue
        chosen.append(Suggestion(article_id=record.id, title=record.title))
        if len(chosen) == limit:
            break
    return {"lang": lang, "suggestions": [s.model_dump() for s in chosen]}


@router.get("/api/v1/articles/{article_id}")
def article(article_id: str, service: ChatDep) -> dict[str, Any]:
    """A published article for the widget's "read more"."""
    record = service.bot.retriever.article(article_id)
    if record is None:
        raise HTTPException(404, f"no published article {article_id!r}")
    return {
        "article_id": record.id,
        "title": record.title,
        "lang": record.lang,
        "text": record.body,
        "html": to_html(record.body),
        "follow_ups": list(record.follow_ups),
    }


@router.get("/widget.js", include_in_schema=False)
def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="application/javascript")


@router.get("/", include_in_schema=False)
def demo() -> FileResponse:
    return FileResponse(
        STATIC / "demo.html",
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": DEMO_CSP},
    )


@router.get("/demo.css", include_in_schema=False)
def demo_css() -> FileResponse:
    return FileResponse(STATIC / "demo.css", media_type="text/css; charset=utf-8")
