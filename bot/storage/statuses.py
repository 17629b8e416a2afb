"""What the store's status and role columns hold: conversations, tickets, missed queries, messages."""

from __future__ import annotations

from enum import StrEnum


class ConversationStatus(StrEnum):
    """Who answers in a conversation."""

    BOT = "bot"
    HANDOFF = "handoff"  # a person holds it: the bot stays silent until they hand it back


class TicketStatus(StrEnum):
    """A hand-off ticket's place in the queue."""

    OPEN = "open"
    CLOSED = "closed"


class MissedStatus(StrEnum):
    """What staff did with a missed question."""

    OPEN = "open"
    RESOLVED = "resolved"  # added to an article's questions, or made a new article
    DISMISSED = "dismissed"


class Role(StrEnum):
    """Who wrote a message."""

    USER = "user"  # the customer
    BOT = "bot"
    AGENT = "agent"  # a person of the support team
    SYSTEM = "system"  # a notice to the customer: an agent joined, the bot answers again
    NOTE = "note"  # an agent's private note: staff see it, the customer never does
