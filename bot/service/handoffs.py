"""Hand-offs in one place: the ticket, the honest wait the customer is told, the bot silent while a
person holds the conversation, and staff replying or handing the conversation back to the bot."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.dialogue.business_hours import BusinessHours, Expectation, expectation
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import Reason
from bot.durability.records import SpooledTicket
from bot.service.outbound import Delivery, Outbound
from bot.storage.schema import new_id
from bot.storage.store import Conversation, Message, Store, Ticket
from bot.text.redact import EMAIL

# The name log lines have always carried for failed staff deliveries (they were curation's once).
log = logging.getLogger("faqbot.curation")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Handoff:
    """A hand-off as a channel tells it: the ticket, what happens next and when, the wait in minutes."""

    ticket_id: str
    message: str
    eta_minutes: int


@dataclass
class Handoffs:
    """Tickets and the waits customers are told: the queue's pace, business hours and the clock."""

    store: Store
    minutes_per_ticket: int = 5
    hours: BusinessHours = field(default_factory=BusinessHours.always)
    clock: Callable[[], dt.datetime] = _utc_now

    def __post_init__(self) -> None:
        if self.minutes_per_ticket < 1:
            raise ValueError(f"minutes_per_ticket must be >= 1, got {self.minutes_per_ticket}")

    def wait(self, lang: str, channel: str, ahead: int, contact: str | None = None) -> Expectation:
        """Who answers, where and when, for a ticket with `ahead` tickets before it."""
        return expectation(self.hours, self.clock(), lang, channel, ahead, self.minutes_per_ticket, contact)

    def open(
        self, session: Session, conversation: Conversation, reason: str, lang: str, channel: str, notice: str
    ) -> tuple[Ticket, Handoff]:
        """Hand the conversation to a person: its ticket (the open one, if any) and `notice` followed
        by the wait."""
        ticket, ahead = self.store.open_ticket(session, conversation, reason)
        wait = self.wait(lang, channel, ahead)
        return ticket, Handoff(ticket.id, f"{notice} {wait.text}", wait.eta_minutes)

    def hold(self, session: Session, conversation: Conversation, text: str, lang: str) -> Handoff:
        """A customer message while a person holds the conversation: the bot stays silent, the ticket
        takes an e-mail address written in it as its contact (asked for outside business hours),
        and the customer is told the wait again."""
        ticket, ahead = self.store.open_ticket(session, conversation, Reason.AGENT_HOLDS)
        address = EMAIL.search(text)
        if address and not ticket.contact:
            ticket.contact = address.group()
        wait = self.wait(lang, conversation.channel, ahead, ticket.contact)
        return Handoff(ticket.id, wait.text, wait.eta_minutes)

    def spooled_open(
        self, reason: str, lang: str, channel: str, notice: str
    ) -> tuple[SpooledTicket, Handoff]:
        """`open` while the database is out of reach: a ticket for the spool, and the wait of an
        empty queue (the queue ahead is unknown)."""
        ticket = SpooledTicket(new_id("t"), reason)
        wait = self.wait(lang, channel, 0)
        return ticket, Handoff(ticket.id, f"{notice} {wait.text}", wait.eta_minutes)

    def spooled_hold(
        self, ticket_id: str | None, text: str, lang: str, channel: str
    ) -> tuple[SpooledTicket, Handoff]:
        """`hold` while the database is out of reach: the person's ticket for the spool, with an
        e-mail address in `text` as its contact, and the wait of an empty queue."""
        address = EMAIL.search(text)
        ticket = SpooledTicket(ticket_id or new_id("t"), Reason.AGENT_HOLDS, address and address.group())
        wait = self.wait(lang, channel, 0, ticket.contact)
        return ticket, Handoff(ticket.id, wait.text, wait.eta_minutes)


def return_to_bot(store: Store, ticket_id: str, outbound: Outbound | None = None) -> Message:
    """Close a hand-off, telling the customer in their language that the bot answers again.

    On a channel that pushes messages (Messenger) the bot also takes the thread back."""
    conversation = _conversation_of(store, ticket_id)
    lang = conversation.lang if conversation else None
    note = store.agent_message(ticket_id, message("back_to_bot", lang or "it"), close=True)
    channel = outbound.get(conversation.channel) if outbound and conversation else None
    if channel is not None:
        _deliver(lambda: channel.release(note.conversation_id, note.text))
    return note


def agent_reply(
    store: Store,
    ticket_id: str,
    text: str,
    close: bool,
    outbound: Outbound | None = None,
    author: str | None = None,
) -> tuple[Message, Delivery | None]:
    """An agent's reply in a handed-off conversation; `close` hands it back to the bot.

    It is recorded first, so a failed delivery never loses it; then, on a channel that pushes
    messages, it is sent: the Delivery says whether the customer got it (None: the channel
    fetches replies itself, like the web widget)."""
    conversation = _conversation_of(store, ticket_id)
    recorded = store.agent_message(ticket_id, text, close, author)
    channel = outbound.get(conversation.channel) if outbound and conversation else None
    if channel is None:
        return recorded, None
    delivery = _deliver(lambda: channel.send(recorded.conversation_id, text))
    if close:
        _deliver(lambda: channel.release(recorded.conversation_id, None))
    return recorded, delivery


def _conversation_of(store: Store, ticket_id: str) -> Conversation | None:
    return next((c for t, c in store.open_tickets() if t.id == ticket_id), None)


def _deliver(action: Callable[[], Delivery | None]) -> Delivery | None:
    """Run a channel delivery; a failure is reported to staff, never raised over a recorded message."""
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - the message is stored; staff must learn it did not go out
        log.exception("delivery failed")
        return Delivery(False, f"{type(exc).__name__}: {exc}")
