"""Persistence of conversations, messages, feedback and hand-off tickets (SQLAlchemy 2).

SQLite file by default (WAL mode), any SQLAlchemy URL otherwise (PostgreSQL with psycopg 3).
Conversation state lives here, never only in a process's memory, so any server process can
continue any conversation. The schema is created and migrated by Alembic when the store opens.
"""

from __future__ import annotations

from bot.storage.agents import Agents
from bot.storage.canned import CannedReplies
from bot.storage.console_sessions import ConsoleSessions
from bot.storage.conversations import ConversationRecords, Snapshot, UnknownConversation
from bot.storage.database import Limits, StoreUnavailable
from bot.storage.editorial import Editorial
from bot.storage.missed import MissedLog
from bot.storage.outbox import Outbox
from bot.storage.reports import Reports
from bot.storage.schema import Base, Conversation, Feedback, Message, MissedQuery, Ticket
from bot.storage.tickets import TicketQueue

__all__ = [
    "Base",
    "Conversation",
    "Feedback",
    "Limits",
    "Message",
    "MissedQuery",
    "Snapshot",
    "Store",
    "StoreUnavailable",
    "Ticket",
    "UnknownConversation",
]


class Store(
    ConversationRecords,
    TicketQueue,
    MissedLog,
    Reports,
    ConsoleSessions,
    Outbox,
    Editorial,
    Agents,
    CannedReplies,
):
    """The bot's persistence. `open()` migrates the schema to the latest version."""
