"""The agents' side of a hand-off: claim, reply (with canned replies), private notes, typing, read,
return to the bot. Every step is recorded first, then told live (bot.live) to every console and to
the customer's widget, and delivered on channels that push messages (Messenger)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.dialogue.messages import message
from bot.live.bus import LocalBus
from bot.live.events import Event, Kind
from bot.service.outbound import Delivery, Outbound
from bot.storage.statuses import Role
from bot.storage.store import Conversation, Message, Store, Ticket

# The name log lines have always carried for failed staff deliveries (they were curation's once).
log = logging.getLogger("faqbot.curation")


def message_event(conversation_id: str, recorded: Message, ticket: Ticket | None = None) -> Event:
    """The live event of a message written in a handed-off conversation."""
    data = {
        "id": recorded.id, "role": recorded.role, "author": recorded.author, "text": recorded.text,
        "created_at": recorded.created_at.isoformat(),
    }  # fmt: skip
    if ticket is not None:
        data |= {"ticket_id": ticket.id, "ref": ticket.ref}
    return Event(Kind.MESSAGE, conversation_id, data)


def ticket_event(conversation_id: str, ticket: Ticket, action: str, agent: str | None = None) -> Event:
    """The live event of a ticket that opened, was claimed, read or closed."""
    data = {"ticket_id": ticket.id, "ref": ticket.ref, "action": action, "agent": agent or ticket.assignee}
    return Event(Kind.TICKET, conversation_id, data)


@dataclass
class Inbox:
    """What agents do with handed-off conversations."""

    store: Store
    live: LocalBus = field(default_factory=LocalBus)
    outbound: Outbound = field(default_factory=Outbound)

    def _open(self, ticket_id: str) -> tuple[Ticket, Conversation]:
        found = self.store.open_ticket_by_id(ticket_id)
        if found is None:
            raise LookupError(f"no open ticket {ticket_id}")
        return found

    def for_conversation(self, conversation_id: str) -> Ticket | None:
        return self.store.open_ticket_of(conversation_id)

    def claim(self, ticket_id: str, agent: str) -> Ticket:
        """`agent` takes the hand-off (or is assigned it); the customer is told who answers them."""
        ticket, conversation = self._open(ticket_id)
        notice = message("agent_named_joined", conversation.lang or "it").format(name=agent)
        ticket, said = self.store.claim(ticket_id, agent, notice)
        if said is not None:
            self.live.publish(message_event(conversation.id, said, ticket))
            self.live.publish(ticket_event(conversation.id, ticket, "claimed", agent))
            self._push(conversation, lambda channel: channel.send(conversation.id, said.text))
        return ticket

    def reply(
        self, ticket_id: str, text: str, close: bool = False, author: str | None = None, claim: bool = True
    ) -> tuple[Message, Delivery | None]:
        """An agent's reply; `close` hands the conversation back to the bot. Recorded first, so a
        failed delivery never loses it; the Delivery says whether a channel that pushes messages got
        it to the customer (None: the channel fetches replies itself, like the web widget). The
        first reply from an agent with a name claims the hand-off for them (unless `claim` is off:
        a script answering under the shared admin token)."""
        ticket, conversation = self._open(ticket_id)
        if claim and author and ticket.assignee is None:
            ticket = self.claim(ticket_id, author)
        recorded = self.store.agent_message(ticket_id, text, close, author)
        self.live.publish(message_event(conversation.id, recorded, ticket))
        if close:
            self.live.publish(ticket_event(conversation.id, ticket, "closed", author))
        delivery = self._push(conversation, lambda channel: channel.send(conversation.id, text))
        if close:
            self._push(conversation, lambda channel: channel.release(conversation.id, None))
        return recorded, delivery

    def close(self, ticket_id: str, author: str | None = None, push: bool = True) -> Message:
        """Return the conversation to the bot, telling the customer in their language (on a channel
        that pushes messages, unless `push` is off: the channel tells them itself)."""
        ticket, conversation = self._open(ticket_id)
        note = self.store.system_message(
            ticket_id, message("back_to_bot", conversation.lang or "it"), True, author
        )
        self.live.publish(message_event(conversation.id, note, ticket))
        self.live.publish(ticket_event(conversation.id, ticket, "closed", author))
        if push:
            self._push(conversation, lambda channel: channel.release(conversation.id, note.text))
        return note

    def ended_by_customer(self, conversation_id: str) -> Message | None:
        """The customer left the chat ("new conversation"): the hand-off closes, and staff are told
        by a note (staff only: it is no notice to the customer)."""
        ticket = self.store.open_ticket_of(conversation_id)
        if ticket is None:
            return None
        _ticket, conversation = self._open(ticket.id)
        note = self.store.system_message(
            ticket.id, message("customer_left", conversation.lang or "it"), True, role=Role.NOTE
        )
        self.live.publish(message_event(conversation_id, note, ticket))
        self.live.publish(ticket_event(conversation_id, ticket, "ended"))
        return note

    def note(self, ticket_id: str, text: str, author: str | None) -> Message:
        """A private note for staff: never shown nor sent to the customer."""
        ticket, conversation = self._open(ticket_id)
        recorded = self.store.note(ticket_id, text, author)
        self.live.publish(message_event(conversation.id, recorded, ticket))
        return recorded

    def read(self, ticket_id: str, agent: str | None = None) -> None:
        """An agent read the conversation: its unread count drops to nothing on every console."""
        ticket, conversation = self._open(ticket_id)
        self.store.mark_read(ticket_id)
        self.live.publish(ticket_event(conversation.id, ticket, "read", agent))

    def typing(self, conversation_id: str, who: str, author: str | None, on: bool) -> None:
        """`who` ("customer" or "agent") is typing, or stopped: told live, recorded nowhere."""
        self.live.publish(Event(Kind.TYPING, conversation_id, {"who": who, "author": author, "typing": on}))

    def _push(self, conversation: Conversation, action: Callable) -> Delivery | None:
        """Run a delivery on the conversation's channel if it pushes messages; a failure is reported
        to staff, never raised over a recorded message."""
        channel = self.outbound.get(conversation.channel)
        if channel is None:
            return None
        try:
            return action(channel)
        except Exception as exc:  # noqa: BLE001 - the message is stored; staff must learn it did not go out
            log.exception("delivery failed")
            return Delivery(False, f"{type(exc).__name__}: {exc}")
