"""The store's schema: conversations, messages, feedback, hand-off tickets, missed queries, inbound
events, console sessions, the channels' outbox, article edits and publish jobs."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from bot.storage.statuses import ConversationStatus, MissedStatus, TicketStatus


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def aware(moment: dt.datetime) -> dt.datetime:
    """A stored moment with its time zone: SQLite hands datetimes back without one, and the store
    writes UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


class Base(DeclarativeBase):
    pass


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), default="web")
    lang: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default=ConversationStatus.BOT)
    state: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    # On a channel with its own user ids (Messenger's page-scoped id): one conversation per user.
    external_id: Mapped[str | None] = mapped_column(String(128))
    # The customer's last message, for channels that only allow answers within a window of it.
    last_customer_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Who holds the thread on the channel's side (Messenger Handover Protocol): bot | inbox | other.
    thread_owner: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_conversations_channel_external_id"),
    )


class InboundEvent(Base):
    """A channel event already taken in: platforms redeliver, and a redelivery must not be answered twice."""

    __tablename__ = "inbound_events"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # handling finished


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(8))  # a Role
    text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    article_id: Mapped[str | None] = mapped_column(String(200))
    confidence: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    author: Mapped[str | None] = mapped_column(String(64))  # the agent who wrote an agent message


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN, index=True)
    reason: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(320))  # e-mail to answer at, when closed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    ref: Mapped[str | None] = mapped_column(String(16), index=True)  # "LC-4821", read over the phone
    channel: Mapped[str | None] = mapped_column(String(32))  # where the wait was measured
    assignee: Mapped[str | None] = mapped_column(String(64))  # the agent who claimed it
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    first_reply_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # read by an agent


class MissedQuery(Base):
    """A question the bot could not answer well: clarified, handed off or rated unhelpful.

    `text` is redacted before it is stored; staff turn these into articles or alternate questions."""

    __tablename__ = "missed_queries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    lang: Mapped[str | None] = mapped_column(String(8), index=True)
    channel: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str] = mapped_column(String(32))  # clarify | handoff | negative_feedback
    confidence: Mapped[float | None] = mapped_column(Float)
    candidates: Mapped[list] = mapped_column(JSON, default=list)  # [{article_id, title, score}]
    status: Mapped[str] = mapped_column(String(16), default=MissedStatus.OPEN, index=True)
    resolution: Mapped[dict | None] = mapped_column(JSON)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class ConsoleSession(Base):
    """A staff member signed in to the console. The cookie carries the session's id (signed); the
    store keeps only its hash, so that logout revokes it on every replica."""

    __tablename__ = "console_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    who: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))  # the agent is online


class OutboxMessage(Base):
    """A message to a channel's customer that the platform did not take yet (out of reach, rate
    limiting, or its answer lost): sent again in order, per recipient, by whichever process's
    drainer leases it first. `token` rides in the message's metadata, so the platform's echo of
    it proves a send whose answer was lost went through."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str | None] = mapped_column(String(40), index=True)
    token: Mapped[str] = mapped_column(String(40), unique=True)
    body: Mapped[dict] = mapped_column(JSON)  # the API request, as it is sent
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    unsure: Mapped[bool] = mapped_column(Boolean, default=False)  # last try went out, no answer came
    throttled: Mapped[bool] = mapped_column(Boolean, default=False)  # Meta named how long to wait
    last_error: Mapped[str | None] = mapped_column(String(300))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_outbox_channel_recipient_id", "channel", "recipient", "id"),)


class ArticleEdit(Base):
    """Who changed which article, when, and to which version (the console's editor, the API)."""

    __tablename__ = "article_edits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(16))  # create | update | delete
    who: Mapped[str] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class PublishJob(Base):
    """A "publish now": the rebuild with its quality gate, run by one process, followed by all."""

    __tablename__ = "publish_jobs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # running | published | refused | failed
    who: Mapped[str] = mapped_column(String(64))
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Agent(Base):
    """A person who answers hand-offs from the console: a name, a language, a password (its hash)."""

    __tablename__ = "agents"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), default="it")
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CannedReply(Base):
    """A reply agents insert with one click ("Thanks for waiting…"), in one language."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lang: Mapped[str] = mapped_column(String(8), index=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=now)
