"""Hand-off tickets: opened (one per conversation), queued, answered by agents."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.connection import StoreBase
from bot.storage.schema import Conversation, Message, Ticket, new_id, now
from bot.storage.statuses import ConversationStatus, Role, TicketStatus


class TicketQueue(StoreBase):
    """Hand-off tickets: opened (one per conversation), queued, answered by agents."""

    def open_ticket(self, session: Session, conversation: Conversation, reason: str) -> tuple[Ticket, int]:
        """A hand-off ticket for the conversation (reused if one is open) and how many are ahead."""
        ticket = session.scalars(
            select(Ticket).where(
                Ticket.conversation_id == conversation.id, Ticket.status == TicketStatus.OPEN
            )
        ).first()
        if ticket is None:
            ticket = Ticket(id=new_id("t"), conversation_id=conversation.id, reason=reason, created_at=now())
            session.add(ticket)
            session.flush()
        ahead = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.status == TicketStatus.OPEN, Ticket.created_at < ticket.created_at)
        )
        conversation.status = ConversationStatus.HANDOFF
        return ticket, int(ahead or 0)

    def open_tickets(self) -> list[tuple[Ticket, Conversation]]:
        """The hand-off queue, oldest first."""
        with self.reading() as session:
            query = (
                select(Ticket, Conversation)
                .join(Conversation, Ticket.conversation_id == Conversation.id)
                .where(Ticket.status == TicketStatus.OPEN)
                .order_by(Ticket.created_at)
            )
            return [(t, c) for t, c in session.execute(query)]

    def agent_message(self, ticket_id: str, text: str, close: bool, author: str | None = None) -> Message:
        """An agent's reply in a handed-off conversation (by `author`); `close` hands it back to the bot."""
        with self.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != TicketStatus.OPEN:
                raise LookupError(f"no open ticket {ticket_id}")
            conversation = session.get(Conversation, ticket.conversation_id)
            stamp = now()
            message = Message(
                id=new_id("m"),
                conversation_id=conversation.id,
                role=Role.AGENT,
                text=text,
                created_at=stamp,
                author=author[:64] if author else None,
            )
            session.add(message)
            conversation.updated_at = stamp
            if close:
                ticket.status = TicketStatus.CLOSED
                conversation.status = ConversationStatus.BOT
                conversation.state = {"lang": conversation.lang}
            return message
