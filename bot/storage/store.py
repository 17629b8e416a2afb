"""Persistence of conversations, messages, feedback and hand-off tickets (SQLAlchemy 2).

SQLite file by default (WAL mode), any SQLAlchemy URL otherwise (PostgreSQL with psycopg 3).
Conversation state lives here, never only in a process's memory, so any server process can
continue any conversation. The schema is created and migrated by Alembic when the store opens.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

from sqlalchemy import case, delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.dialogue.bot import ConversationState, Reply
from bot.storage.database import READ_ONLY, Limits, StoreUnavailable, make_engine, translated
from bot.storage.group_commit import GroupCommit
from bot.storage.schema import Base, Conversation, Feedback, Message, MissedQuery, Ticket, new_id, now

T = TypeVar("T")

__all__ = [
    "Base",
    "Conversation",
    "Feedback",
    "Message",
    "MissedQuery",
    "Store",
    "StoreUnavailable",
    "Ticket",
    "UnknownConversation",
]


@dataclass(frozen=True)
class Snapshot:
    """A conversation as read before a turn; `updated_at` tells whether it changed since."""

    status: str
    state: ConversationState
    updated_at: dt.datetime


class UnknownConversation(LookupError):
    """The client sent a conversation id that does not exist."""


class Store:
    """The bot's persistence. `open()` migrates the schema to the latest version."""

    def __init__(self, url: str, limits: Limits | None = None) -> None:
        if not url:
            raise ValueError("database URL must not be empty")
        self.url = url
        self.limits = limits or Limits()
        self.engine: Engine | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._readers: sessionmaker[Session] | None = None
        self._group = GroupCommit(self.session)

    @classmethod
    def for_settings(cls, database_url: str | None, var_path: Path, limits: Limits | None = None) -> Store:
        """The configured URL, or a SQLite file `var/faqbot.db` under FAQBOT_HOME."""
        if database_url:
            return cls(database_url, limits)
        var_path.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{var_path / 'faqbot.db'}", limits)

    def open(self) -> Store:
        """Connect and apply any pending migration."""
        from bot.storage.migrate import upgrade

        self.engine = make_engine(self.url, self.limits)
        with translated():
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )
        return self

    def close(self) -> None:
        self._group.close()
        if self.engine is not None:
            self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction, committed at the end; `StoreUnavailable` if the database is out of reach
        (with `in_doubt` set if that happened during the COMMIT itself)."""
        if self._sessions is None:
            raise RuntimeError("call open() first")
        with self._sessions() as session:
            with translated():
                session.begin()
                yield session
                session.flush()
            with translated(in_doubt=True):
                session.commit()

    def write(self, job: Callable[[Session], T]) -> T:
        """Run `job(session)` in a transaction shared with concurrent writers (one COMMIT for all,
        see bot.storage.group_commit); return its result once committed. For short writes only: the
        writers queued behind wait for it."""
        return self._group.run(job)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it takes no write lock."""
        if self._readers is None:
            raise RuntimeError("call open() first")
        with translated(), self._readers.begin() as session:
            yield session

    def conversation_for_update(
        self,
        session: Session,
        conversation_id: str | None,
        channel: str,
        lang: str | None,
        fresh_id: str | None = None,
    ) -> Conversation:
        """The conversation, locked for this turn (PostgreSQL row lock), or a new one (`fresh_id`)."""
        if conversation_id is None:
            conversation = Conversation(id=fresh_id or new_id("c"), channel=channel, lang=lang, state={})
            session.add(conversation)
            session.flush()
            return conversation
        query = select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        conversation = session.scalars(query).first()
        if conversation is None:
            raise UnknownConversation(conversation_id)
        return conversation

    def snapshot(self, conversation_id: str) -> Snapshot:
        """What a turn needs to know before the bot answers, read without holding any lock."""
        with self.reading() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise UnknownConversation(conversation_id)
            return Snapshot(conversation.status, self.state_of(conversation), conversation.updated_at)

    @staticmethod
    def state_of(conversation: Conversation) -> ConversationState:
        data = dict(conversation.state or {})
        data["pending"] = tuple(tuple(p) for p in data.get("pending", ()))
        return ConversationState(**data)

    def record_turn(
        self,
        session: Session,
        conversation: Conversation,
        text: str,
        reply: Reply,
        state: ConversationState,
        ids: tuple[str, str] | None = None,
    ) -> Message:
        """Store the customer's message, the bot's reply and the new state in one transaction.

        `ids` (customer's, bot's message) are chosen by the caller when it may have to spool the
        same turn should this transaction fail: a replay then recognises a turn that did commit."""
        user_id, bot_id = ids or (new_id("m"), new_id("m"))
        stamp = now()
        session.add(
            Message(id=user_id, conversation_id=conversation.id, role="user", text=text, created_at=stamp)
        )
        bot_message = Message(
            id=bot_id,
            conversation_id=conversation.id,
            role="bot",
            text=reply.text,
            decision=reply.decision,
            reason=reply.reason,
            article_id=reply.article.article_id if reply.article else None,
            confidence=reply.confidence,
            latency_ms=reply.latency_ms,
            created_at=stamp + dt.timedelta(microseconds=1),
        )
        session.add(bot_message)
        conversation.state = json.loads(json.dumps(asdict(state)))
        conversation.lang = reply.lang
        conversation.updated_at = stamp
        return bot_message

    @staticmethod
    def bot_note(
        session: Session, conversation: Conversation, text: str, decision: str, reason: str
    ) -> Message:
        """A message from the bot outside a customer turn (e.g. after feedback)."""
        stamp = now()
        note = Message(
            id=new_id("m"), conversation_id=conversation.id, role="bot", text=text,
            decision=decision, reason=reason, created_at=stamp,
        )  # fmt: skip
        session.add(note)
        conversation.updated_at = stamp
        return note

    def open_ticket(self, session: Session, conversation: Conversation, reason: str) -> tuple[Ticket, int]:
        """A hand-off ticket for the conversation (reused if one is open) and how many are ahead."""
        ticket = session.scalars(
            select(Ticket).where(Ticket.conversation_id == conversation.id, Ticket.status == "open")
        ).first()
        if ticket is None:
            ticket = Ticket(id=new_id("t"), conversation_id=conversation.id, reason=reason, created_at=now())
            session.add(ticket)
            session.flush()
        ahead = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status == "open", Ticket.created_at < ticket.created_at)
        )
        conversation.status = "handoff"
        return ticket, int(ahead or 0)

    def add_feedback(
        self, conversation_id: str, message_id: str | None, helpful: bool, comment: str | None
    ) -> None:
        """Record feedback; the conversation (and message, if given) must exist and belong together."""
        with self.session() as session:
            if session.get(Conversation, conversation_id) is None:
                raise UnknownConversation(conversation_id)
            if message_id is not None:
                message = session.get(Message, message_id)
                if message is None or message.conversation_id != conversation_id:
                    raise UnknownConversation(f"message {message_id} of {conversation_id}")
            self.feedback_row(session, conversation_id, message_id, helpful, comment)

    @staticmethod
    def feedback_row(
        session: Session, conversation_id: str, message_id: str | None, helpful: bool, comment: str | None
    ) -> None:
        """Add feedback inside the caller's transaction (ids already checked)."""
        session.add(
            Feedback(conversation_id=conversation_id, message_id=message_id, helpful=helpful, comment=comment)
        )

    def add_missed(
        self,
        session: Session,
        text: str,
        lang: str | None,
        channel: str,
        reason: str,
        confidence: float | None,
        candidates: list[dict],
        conversation_id: str | None,
    ) -> MissedQuery:
        """Log a missed question; `text` must already be redacted (see bot.text.redact)."""
        missed = MissedQuery(
            conversation_id=conversation_id,
            text=text,
            lang=lang,
            channel=channel,
            reason=reason,
            confidence=confidence,
            candidates=candidates,
            created_at=now(),
        )
        session.add(missed)
        return missed

    def missed(
        self,
        q: str | None = None,
        lang: str | None = None,
        channel: str | None = None,
        since: dt.datetime | None = None,
        status: str | None = "open",
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[MissedQuery], int]:
        """Missed questions, newest first, filtered; returns (page, total matching)."""
        conditions = []
        if q:
            conditions.append(MissedQuery.text.ilike(f"%{q}%"))
        if lang:
            conditions.append(MissedQuery.lang == lang)
        if channel:
            conditions.append(MissedQuery.channel == channel)
        if since:
            conditions.append(MissedQuery.created_at >= since)
        if status:
            conditions.append(MissedQuery.status == status)
        with self.reading() as session:
            total = session.scalar(select(func.count()).select_from(MissedQuery).where(*conditions))
            query = (
                select(MissedQuery)
                .where(*conditions)
                .order_by(MissedQuery.created_at.desc(), MissedQuery.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return list(session.scalars(query)), int(total or 0)

    def resolve_missed(self, missed_id: int, status: str, resolution: dict, who: str) -> MissedQuery:
        """Mark a missed question resolved or dismissed, recording what was done, by whom, when."""
        with self.session() as session:
            missed = session.get(MissedQuery, missed_id)
            if missed is None:
                raise LookupError(f"no missed query {missed_id}")
            missed.status, missed.resolution = status, resolution
            missed.resolved_by, missed.resolved_at = who, now()
            return missed

    def open_tickets(self) -> list[tuple[Ticket, Conversation]]:
        """The hand-off queue, oldest first."""
        with self.reading() as session:
            query = (
                select(Ticket, Conversation)
                .join(Conversation, Ticket.conversation_id == Conversation.id)
                .where(Ticket.status == "open")
                .order_by(Ticket.created_at)
            )
            return [(t, c) for t, c in session.execute(query)]

    def agent_message(self, ticket_id: str, text: str, close: bool) -> Message:
        """An agent's reply in a handed-off conversation; `close` hands it back to the bot."""
        with self.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != "open":
                raise LookupError(f"no open ticket {ticket_id}")
            conversation = session.get(Conversation, ticket.conversation_id)
            stamp = now()
            message = Message(
                id=new_id("m"), conversation_id=conversation.id, role="agent", text=text, created_at=stamp
            )
            session.add(message)
            conversation.updated_at = stamp
            if close:
                ticket.status = "closed"
                conversation.status = "bot"
                conversation.state = {"lang": conversation.lang}
            return message

    def stats(self, since: dt.datetime) -> dict:
        """Deflection and hand-off rates, feedback, top articles, by day and channel."""
        with self.reading() as session:
            conversations = session.execute(
                select(
                    Conversation.channel,
                    func.count(),
                    func.sum(case((Conversation.status == "handoff", 1), else_=0)),
                )
                .where(Conversation.created_at >= since)
                .group_by(Conversation.channel)
            ).all()
            handed = set(session.scalars(select(Ticket.conversation_id).where(Ticket.created_at >= since)))
            decisions = dict(
                session.execute(
                    select(Message.decision, func.count())
                    .where(Message.role == "bot", Message.created_at >= since)
                    .group_by(Message.decision)
                ).all()
            )
            top = session.execute(
                select(Message.article_id, func.count())
                .where(Message.role == "bot", Message.decision == "answer", Message.created_at >= since)
                .group_by(Message.article_id)
                .order_by(func.count().desc())
                .limit(10)
            ).all()
            helpful = dict(
                session.execute(
                    select(Feedback.helpful, func.count())
                    .where(Feedback.created_at >= since)
                    .group_by(Feedback.helpful)
                ).all()
            )
            days = session.execute(
                select(func.date(Message.created_at), Message.decision, func.count())
                .where(Message.role == "bot", Message.created_at >= since)
                .group_by(func.date(Message.created_at), Message.decision)
            ).all()
        total = sum(n for _, n, _ in conversations)
        by_day: dict[str, dict[str, int]] = {}
        for day, decision, n in days:
            by_day.setdefault(str(day), {})[decision or "none"] = n
        return {
            "conversations": total,
            "handoff_rate": len(handed) / total if total else 0.0,
            "deflection_rate": (total - len(handed)) / total if total else 0.0,
            "by_channel": {channel: n for channel, n, _ in conversations},
            "decisions": {k or "none": v for k, v in decisions.items()},
            "helpful": helpful.get(True, 0),
            "unhelpful": helpful.get(False, 0),
            "top_articles": [{"article_id": a, "answers": n} for a, n in top],
            "by_day": by_day,
        }

    def get_missed(self, missed_id: int) -> MissedQuery | None:
        with self.reading() as session:
            return session.get(MissedQuery, missed_id)

    def purge(self, older_than: dt.datetime) -> dict[str, int]:
        """Delete missed queries and conversations (with their messages, feedback and tickets)
        last active before `older_than`; returns how many rows of each went."""
        with self.session() as session:
            missed = session.execute(delete(MissedQuery).where(MissedQuery.created_at < older_than)).rowcount
            old = select(Conversation.id).where(Conversation.updated_at < older_than)
            counts = {"missed_queries": missed or 0}
            for model in (Feedback, Ticket, Message):
                result = session.execute(delete(model).where(model.conversation_id.in_(old)))
                counts[model.__tablename__] = result.rowcount or 0
            result = session.execute(delete(Conversation).where(Conversation.updated_at < older_than))
            counts["conversations"] = result.rowcount or 0
            return counts

    @staticmethod
    def exchange(
        session: Session, conversation_id: str, message_id: str | None, decision: str | None = None
    ) -> tuple[Message | None, Message | None]:
        """The bot message `message_id` (default: the conversation's last, of `decision` if given)
        and the customer message it answered."""
        bots = select(Message).where(Message.conversation_id == conversation_id, Message.role == "bot")
        if message_id is not None:
            bots = bots.where(Message.id == message_id)
        if decision is not None:
            bots = bots.where(Message.decision == decision)
        answer = session.scalars(bots.order_by(Message.created_at.desc())).first()
        if answer is None:
            return None, None
        question = session.scalars(
            select(Message)
            .where(
                Message.conversation_id == conversation_id,
                Message.role == "user",
                Message.created_at < answer.created_at,
            )
            .order_by(Message.created_at.desc())
        ).first()
        return question, answer

    def agent_messages(self, conversation_id: str, after: str | None) -> tuple[str, list[Message]]:
        """The conversation's status and the agent messages newer than message `after`."""
        with self.reading() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise UnknownConversation(conversation_id)
            query = select(Message).where(Message.conversation_id == conversation_id, Message.role == "agent")
            if after is not None:
                mark = session.get(Message, after)
                if mark is not None and mark.conversation_id == conversation_id:
                    query = query.where(Message.created_at > mark.created_at)
            return conversation.status, list(session.scalars(query.order_by(Message.created_at)))

    def messages(self, conversation_id: str) -> list[Message]:
        with self.reading() as session:
            query = (
                select(Message).where(Message.conversation_id == conversation_id).order_by(Message.created_at)
            )
            return list(session.scalars(query))
