"""One customer turn end to end: load the conversation from the store, ask the Bot, record it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialog import Bot, Reply
from bot.messages import message
from bot.policy import HANDOFF
from bot.store import Store


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

    def __init__(self, bot: Bot, store: Store, minutes_per_ticket: int = 5) -> None:
        if minutes_per_ticket < 1:
            raise ValueError(f"minutes_per_ticket must be >= 1, got {minutes_per_ticket}")
        self.bot = bot
        self.store = store
        self.minutes_per_ticket = minutes_per_ticket

    def handle(self, text: str, conversation_id: str | None, lang: str | None, channel: str) -> Turn:
        """Answer `text` in a conversation (a new one when `conversation_id` is None)."""
        with self.store.session() as session:
            conversation = self.store.conversation_for_update(session, conversation_id, channel, lang)
            state = self.store.state_of(conversation)
            reply, state = self.bot.reply(text, state, lang=lang)
            handoff = None
            if reply.decision == HANDOFF:
                ticket, ahead = self.store.open_ticket(session, conversation, reply.reason)
                eta = (ahead + 1) * self.minutes_per_ticket
                notice = f"{reply.text} {message('handoff_eta', reply.lang).format(minutes=eta)}"
                handoff = Handoff(ticket.id, notice, eta)
            recorded = self.store.record_turn(session, conversation, text, reply, state)
            return Turn(conversation.id, recorded.id, reply, handoff)
