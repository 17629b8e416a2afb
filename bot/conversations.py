"""One customer turn end to end: load the conversation from the store, ask the Bot, record it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.dialog import Bot, Reply
from bot.handoff import BusinessHours, expectation
from bot.messages import message
from bot.policy import ANSWER, HANDOFF
from bot.redact import EMAIL, redact
from bot.store import Conversation, Store


@dataclass(frozen=True)
class Handoff:
    ticket_id: str
    message: str
    eta_minutes: int


@dataclass(frozen=True)
class Turn:
    """The result of one turn, as every channel needs it."""

    conversation_id: str
    message_id: str
    reply: Reply
    handoff: Handoff | None


class ChatService:
    """Conversations that survive restarts and span processes: all state goes through the store."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        minutes_per_ticket: int = 5,
        hours: BusinessHours | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if minutes_per_ticket < 1:
            raise ValueError(f"minutes_per_ticket must be >= 1, got {minutes_per_ticket}")
        self.bot = bot
        self.store = store
        self.minutes_per_ticket = minutes_per_ticket
        self.hours = hours or BusinessHours.always()
        self.clock = clock

    def handle(self, text: str, conversation_id: str | None, lang: str | None, channel: str) -> Turn:
        """Answer `text` in a conversation (a new one when `conversation_id` is None).

        The bot thinks outside any transaction: the conversation is read in one short transaction,
        the reply computed, and the turn written in a second one that locks the conversation. If
        another turn changed the conversation in between, the reply is recomputed under the lock,
        so no update is lost and the store is never held while the model runs."""
        seen = None if conversation_id is None else self.store.snapshot(conversation_id)
        if seen is not None and seen.status == "handoff":
            with self.store.session() as session:
                return self._turn_locked(session, text, conversation_id, lang, channel)
        reply, state = self.bot.reply(text, seen.state if seen else None, lang=lang)
        with self.store.session() as session:
            conversation = self.store.conversation_for_update(session, conversation_id, channel, lang)
            if seen is not None and (conversation.updated_at, conversation.status) != (
                seen.updated_at,
                seen.status,
            ):
                return self._turn_locked(session, text, conversation_id, lang, channel, conversation)
            return self._record(session, conversation, text, reply, state, channel)

    def _turn_locked(
        self,
        session,
        text: str,
        conversation_id: str | None,
        lang: str | None,
        channel: str,
        conversation: Conversation | None = None,
    ) -> Turn:
        """The whole turn inside one transaction: hand-offs, and turns that lost a race."""
        if conversation is None:
            conversation = self.store.conversation_for_update(session, conversation_id, channel, lang)
        if conversation.status == "handoff":
            return self._agent_holds(session, conversation, text, lang)
        reply, state = self.bot.reply(text, self.store.state_of(conversation), lang=lang)
        return self._record(session, conversation, text, reply, state, channel)

    def _record(
        self, session, conversation: Conversation, text: str, reply: Reply, state, channel: str
    ) -> Turn:
        handoff = None
        if reply.decision == HANDOFF:
            ticket, ahead = self.store.open_ticket(session, conversation, reply.reason)
            wait = expectation(self.hours, self.clock(), reply.lang, channel, ahead, self.minutes_per_ticket)
            handoff = Handoff(ticket.id, f"{reply.text} {wait.text}", wait.eta_minutes)
        recorded = self.store.record_turn(session, conversation, text, reply, state)
        if reply.decision != ANSWER:
            self.store.add_missed(
                session, redact(text), reply.lang, channel, reply.decision, reply.confidence,
                _candidates(reply), conversation.id,
            )  # fmt: skip
        return Turn(conversation.id, recorded.id, reply, handoff)

    def _agent_holds(self, session, conversation: Conversation, text: str, lang: str | None) -> Turn:
        """While an agent holds the conversation the bot stays silent: the message waits for them."""
        reply_lang = lang or conversation.lang or self.bot.retriever.detector.default
        ticket, ahead = self.store.open_ticket(session, conversation, "agent_holds")
        address = EMAIL.search(text)
        if address and not ticket.contact:
            ticket.contact = address.group()  # asked for outside business hours
        wait = expectation(
            self.hours,
            self.clock(),
            reply_lang,
            conversation.channel,
            ahead,
            self.minutes_per_ticket,
            ticket.contact,
        )
        reply = Reply(HANDOFF, reply_lang, 0.0, "", "agent_holds")
        recorded = self.store.record_turn(
            session, conversation, text, reply, self.store.state_of(conversation)
        )
        return Turn(conversation.id, recorded.id, reply, Handoff(ticket.id, wait.text, wait.eta_minutes))

    def feedback(
        self, conversation_id: str, message_id: str | None, helpful: bool, comment: str | None
    ) -> Handoff | None:
        """Record feedback. An unhelpful answer goes to the missed-query log and brings in a person:
        the hand-off (ticket and honest wait) is returned so the channel can tell the customer."""
        self.store.add_feedback(conversation_id, message_id, helpful, comment)
        if helpful:
            return None
        with self.store.session() as session:
            question, answer = self.store.exchange(session, conversation_id, message_id)
            conversation = self.store.conversation_for_update(session, conversation_id, "web", None)
            if question is not None:
                candidates = []
                if answer is not None and answer.article_id:
                    candidates = [{"article_id": answer.article_id, "title": "", "score": answer.confidence}]
                confidence = answer.confidence if answer else None
                self.store.add_missed(
                    session, redact(question.text), conversation.lang, conversation.channel,
                    "negative_feedback", confidence, candidates, conversation_id,
                )  # fmt: skip
            if conversation.status == "handoff":
                return None  # a person already has it
            lang = conversation.lang or self.bot.retriever.detector.default
            ticket, ahead = self.store.open_ticket(session, conversation, "negative_feedback")
            wait = expectation(
                self.hours, self.clock(), lang, conversation.channel, ahead, self.minutes_per_ticket
            )
            notice = f"{message('handoff_unhelpful', lang)} {wait.text}"
            self.store.bot_note(session, conversation, notice, HANDOFF, "negative_feedback")
            return Handoff(ticket.id, notice, wait.eta_minutes)


def _candidates(reply: Reply) -> list[dict]:
    """The top articles the bot considered, for staff deciding where a missed question belongs."""
    if reply.result is None:
        return []
    return [
        {"article_id": h.article_id, "title": h.title, "score": round(h.score, 4)}
        for h in reply.result.hits[:3]
    ]
