"""Conversations, their messages and feedback: a turn read, locked and recorded."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dialogue.bot import ConversationState, Reply
from bot.storage.connection import StoreBase
from bot.storage.schema import Conversation, Feedback, Message, new_id, now
from bot.storage.statuses import Role


@dataclass(frozen=True)
class Snapshot:
    """A conversation as read before a turn; `updated_at` tells whether it changed since."""

    status: str
    state: ConversationState
    updated_at: dt.datetime


class UnknownConversation(LookupError):
    """The client sent a conversation id that does not exist."""


class ConversationRecords(StoreBase):
    """Conversations, their messages and feedback: a turn read, locked and recorded."""

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
            Message(id=user_id, conversation_id=conversation.id, role=Role.USER, text=text, created_at=stamp)
        )
        bot_message = Message(
            id=bot_id,
            conversation_id=conversation.id,
            role=Role.BOT,
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
            id=new_id("m"), conversation_id=conversation.id, role=Role.BOT, text=text,
            decision=decision, reason=reason, created_at=stamp,
        )  # fmt: skip
        session.add(note)
        conversation.updated_at = stamp
        return note

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

    @staticmethod
    def exchange(
        session: Session, conversation_id: str, message_id: str | None, decision: str | None = None
    ) -> tuple[Message | None, Message | None]:
        """The bot message `message_id` (default: the conversation's last, of `decision` if given)
        and the customer message it answered."""
        bots = select(Message).where(Message.conversation_id == conversation_id, Message.role == Role.BOT)
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
                Message.role == Role.USER,
                Message.created_at < answer.created_at,
            )
            .order_by(Message.created_at.desc())
        ).first()
        return question, answer

    def agent_messages(
        self, conversation_id: str, after: str | None, roles: tuple[str, ...] = (Role.AGENT,)
    ) -> tuple[str, list[Message]]:
        """The conversation's status and its messages by `roles` newer than message `after`."""
        with self.reading() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise UnknownConversation(conversation_id)
            query = select(Message).where(Message.conversation_id == conversation_id, Message.role.in_(roles))
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
