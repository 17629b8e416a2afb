"""Hand-offs from the customer's side: the ticket, the honest wait the customer is told once, and the
bot silent while a person holds the conversation (what agents do is bot.service.inbox)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from bot.dialogue.business_hours import BusinessHours, Expectation, Queue, expectation
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import Reason
from bot.durability.records import SpooledTicket
from bot.service.waits import Waits
from bot.storage.schema import new_id
from bot.storage.store import Conversation, Store, Ticket
from bot.text.redact import EMAIL


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Handoff:
    """A hand-off as a channel tells it: the ticket, what happens next and when, the wait in minutes."""

    ticket_id: str
    message: str
    eta_minutes: int
    reference: str | None = None  # short, to read over the phone ("LC-4821")
    position: int = 1  # place among the customers waiting for a first reply
    agents_online: int | None = None  # None: unknown (the database is out of reach)


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
        self.waits = Waits(self.store, self.minutes_per_ticket, self.hours.zone, self.clock)

    def wait(self, lang: str, channel: str, queue: Queue, contact: str | None = None) -> Expectation:
        """Who answers, where and when, for a customer joining `queue`."""
        return expectation(self.hours, self.clock(), lang, channel, queue, contact)

    def open(
        self, session: Session, conversation: Conversation, reason: str, lang: str, channel: str, notice: str
    ) -> tuple[Ticket, Handoff]:
        """Hand the conversation to a person: its ticket (the open one, if any) and `notice` followed
        by the wait."""
        ticket, ahead = self.store.open_ticket(session, conversation, reason)
        queue = self.waits.queue(channel, ahead)
        wait = self.wait(lang, channel, queue)
        handoff = Handoff(
            ticket.id, f"{notice} {wait.text}", wait.eta_minutes, ticket.ref, wait.position, queue.online
        )
        return ticket, handoff

    def hold(self, session: Session, conversation: Conversation, text: str, lang: str) -> tuple[Ticket, str]:
        """A customer message while a person holds the conversation: the bot stays silent (the wait
        was told once, at the hand-off). The ticket takes an e-mail address written in the message as
        its contact; the only thing then said is that the answer will go there."""
        ticket, _ahead = self.store.open_ticket(session, conversation, Reason.AGENT_HOLDS)
        address = EMAIL.search(text)
        if address and not ticket.contact:
            ticket.contact = address.group()
            return ticket, message("contact_kept", lang).format(email=ticket.contact)
        return ticket, ""

    def spooled_open(
        self, reason: str, lang: str, channel: str, notice: str
    ) -> tuple[SpooledTicket, Handoff]:
        """`open` while the database is out of reach: a ticket for the spool, and the wait of an
        empty queue (the queue ahead and who is online are unknown)."""
        ticket = SpooledTicket(new_id("t"), reason)
        wait = self.wait(lang, channel, Queue(0, self.minutes_per_ticket))
        return ticket, Handoff(ticket.id, f"{notice} {wait.text}", wait.eta_minutes)

    def spooled_hold(self, ticket_id: str | None, text: str, lang: str) -> tuple[SpooledTicket, str]:
        """`hold` while the database is out of reach: the person's ticket for the spool, with an
        e-mail address in `text` as its contact."""
        address = EMAIL.search(text)
        ticket = SpooledTicket(ticket_id or new_id("t"), Reason.AGENT_HOLDS, address and address.group())
        said = message("contact_kept", lang).format(email=ticket.contact) if ticket.contact else ""
        return ticket, said
