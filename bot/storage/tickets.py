"""Hand-off tickets: opened (one per conversation), queued, claimed, answered and closed by agents."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from bot.storage.connection import StoreBase
from bot.storage.schema import Conversation, Message, Ticket, aware, new_id, now
from bot.storage.statuses import ConversationStatus, Role, TicketStatus

REF_PREFIX = "LC-"
PREVIEW = 160  # characters of the last message the queue shows


@dataclass(frozen=True)
class QueueRow:
    """An open ticket as the inbox lists it."""

    ticket: Ticket
    conversation: Conversation
    unread: int  # customer messages no agent has read yet
    last_text: str  # the last message a person wrote (customer or agent), cut to PREVIEW
    last_role: str | None
    last_at: dt.datetime | None


def new_ref(session: Session) -> str:
    """A short reference a customer can read over the phone ("LC-4821"), unique among open tickets
    (four digits while they are enough, longer when the open queue crowds them)."""
    for digits in (4, 4, 4, 6, 6, 8):
        ref = f"{REF_PREFIX}{secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1)}"
        taken = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.ref == ref, Ticket.status == TicketStatus.OPEN)
        )
        if not taken:
            return ref
    return f"{REF_PREFIX}{secrets.token_hex(5).upper()}"


class TicketQueue(StoreBase):
    """Hand-off tickets: opened (one per conversation), queued, claimed, answered by agents."""

    def open_ticket(self, session: Session, conversation: Conversation, reason: str) -> tuple[Ticket, int]:
        """A hand-off ticket for the conversation (reused if one is open) and how many are ahead."""
        ticket = self._open_of(session, conversation.id)
        if ticket is None:
            ticket = Ticket(
                id=new_id("t"), conversation_id=conversation.id, reason=reason, created_at=now(),
                ref=new_ref(session), channel=conversation.channel,
            )  # fmt: skip
            session.add(ticket)
            session.flush()
        conversation.status = ConversationStatus.HANDOFF
        return ticket, self._ahead(session, ticket)

    @staticmethod
    def _open_of(session: Session, conversation_id: str) -> Ticket | None:
        return session.scalars(
            select(Ticket).where(
                Ticket.conversation_id == conversation_id, Ticket.status == TicketStatus.OPEN
            )
        ).first()

    @staticmethod
    def _ahead(session: Session, ticket: Ticket) -> int:
        """Open tickets no agent has answered yet that came before this one."""
        ahead = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.status == TicketStatus.OPEN,
                Ticket.first_reply_at.is_(None),
                Ticket.created_at < ticket.created_at,
            )
        )
        return int(ahead or 0)

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

    def open_ticket_by_id(self, ticket_id: str) -> tuple[Ticket, Conversation] | None:
        """The open ticket `ticket_id` and its conversation, if it is open."""
        with self.reading() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != TicketStatus.OPEN:
                return None
            return ticket, session.get(Conversation, ticket.conversation_id)

    def open_ticket_of(self, conversation_id: str) -> Ticket | None:
        """The conversation's open ticket, if a hand-off is open."""
        with self.reading() as session:
            return self._open_of(session, conversation_id)

    def queue(self) -> list[QueueRow]:
        """The inbox: open tickets oldest first, with unread counts and the last message."""
        with self.reading() as session:
            pairs = list(
                session.execute(
                    select(Ticket, Conversation)
                    .join(Conversation, Ticket.conversation_id == Conversation.id)
                    .where(Ticket.status == TicketStatus.OPEN)
                    .order_by(Ticket.created_at)
                )
            )
            if not pairs:
                return []
            ids = [c.id for _t, c in pairs]
            since = {c.id: aware(t.seen_at or t.created_at) for t, c in pairs}
            people = (Role.USER, Role.AGENT)
            written = session.execute(
                select(Message.conversation_id, Message.role, Message.text, Message.created_at)
                .where(Message.conversation_id.in_(ids), Message.role.in_(people))
                .order_by(Message.created_at)
            ).all()
        unread: dict[str, int] = {}
        last: dict[str, tuple[str, str, dt.datetime]] = {}
        for conversation_id, role, text, at in written:
            last[conversation_id] = (role, text, aware(at))
            if role == Role.USER and aware(at) > since[conversation_id]:
                unread[conversation_id] = unread.get(conversation_id, 0) + 1
        rows = []
        for ticket, conversation in pairs:
            role, text, at = last.get(conversation.id, (None, "", None))
            rows.append(
                QueueRow(ticket, conversation, unread.get(conversation.id, 0), text[:PREVIEW], role, at)
            )
        return rows

    def _ticket_for_update(self, session: Session, ticket_id: str) -> tuple[Ticket, Conversation]:
        ticket = session.get(Ticket, ticket_id)
        if ticket is None or ticket.status != TicketStatus.OPEN:
            raise LookupError(f"no open ticket {ticket_id}")
        return ticket, session.get(Conversation, ticket.conversation_id)

    @staticmethod
    def _say(
        session: Session, conversation: Conversation, role: str, text: str, author: str | None = None
    ) -> Message:
        stamp = now()
        message = Message(
            id=new_id("m"), conversation_id=conversation.id, role=role, text=text, created_at=stamp,
            author=author[:64] if author else None,
        )  # fmt: skip
        session.add(message)
        conversation.updated_at = stamp
        return message

    def agent_message(self, ticket_id: str, text: str, close: bool, author: str | None = None) -> Message:
        """An agent's reply in a handed-off conversation (by `author`); `close` hands it back to the bot.
        The first reply is the ticket's measured wait."""
        with self.session() as session:
            ticket, conversation = self._ticket_for_update(session, ticket_id)
            message = self._say(session, conversation, Role.AGENT, text, author)
            if ticket.first_reply_at is None:
                ticket.first_reply_at = message.created_at
            if author and ticket.assignee is None:
                ticket.assignee, ticket.claimed_at = author[:64], message.created_at
            ticket.seen_at = message.created_at  # who answers has read what came before
            if close:
                self._close(ticket, conversation)
            return message

    def system_message(
        self, ticket_id: str, text: str, close: bool, author: str | None = None, role: str = Role.SYSTEM
    ) -> Message:
        """A notice to the customer in the conversation ("the bot answers again"), or with `role`
        NOTE one to staff only; `close` ends the hand-off."""
        with self.session() as session:
            ticket, conversation = self._ticket_for_update(session, ticket_id)
            message = self._say(session, conversation, role, text, author)
            if close:
                self._close(ticket, conversation)
            return message

    @staticmethod
    def _close(ticket: Ticket, conversation: Conversation) -> None:
        ticket.status = TicketStatus.CLOSED
        ticket.closed_at = now()
        conversation.status = ConversationStatus.BOT
        conversation.state = {"lang": conversation.lang}

    def claim(self, ticket_id: str, agent: str, notice: str | None) -> tuple[Ticket, Message | None]:
        """`agent` takes the ticket (from whoever had it); the customer is told with `notice`, a
        system message, unless the agent had it already."""
        with self.session() as session:
            ticket, conversation = self._ticket_for_update(session, ticket_id)
            if ticket.assignee == agent[:64]:
                return ticket, None
            ticket.assignee, ticket.claimed_at = agent[:64], now()
            said = self._say(session, conversation, Role.SYSTEM, notice, agent) if notice else None
            return ticket, said

    def note(self, ticket_id: str, text: str, author: str | None) -> Message:
        """A private note on the conversation: staff see it, the customer never does."""
        with self.session() as session:
            _ticket, conversation = self._ticket_for_update(session, ticket_id)
            return self._say(session, conversation, Role.NOTE, text, author)

    def mark_read(self, ticket_id: str) -> None:
        """An agent read the conversation: its customer messages are no longer unread."""
        with self.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                ticket.seen_at = now()

    def set_contact(self, conversation_id: str, email: str) -> Ticket:
        """The e-mail address to answer the open hand-off at; LookupError without one."""
        with self.session() as session:
            ticket = self._open_of(session, conversation_id)
            if ticket is None:
                raise LookupError(f"no open hand-off in conversation {conversation_id}")
            ticket.contact = email[:320]
            return ticket

    def answered_waits(
        self, channel: str, since: dt.datetime, limit: int = 200
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """(opened, first agent reply) of the channel's answered tickets since `since`, oldest first."""
        with self.reading() as session:
            rows = session.execute(
                select(Ticket.created_at, Ticket.first_reply_at)
                .where(
                    and_(Ticket.channel == channel, Ticket.first_reply_at.is_not(None)),
                    Ticket.first_reply_at >= since,
                )
                .order_by(Ticket.first_reply_at.desc())
                .limit(limit)
            ).all()
        return [(aware(a), aware(b)) for a, b in reversed(rows)]
