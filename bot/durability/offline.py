"""What a server process needs to keep answering while the database is out of reach: its memory of
recently active conversations, the spool the turns go to, and when to try the database again.

An offline turn on a conversation this process remembers continues it (its status, state and open
ticket as this process last saw them: a "did you mean" choice by number still works, and the bot
stays silent where a person holds the conversation). On a conversation it does not remember, the
bot answers the message as the first of a conversation, and the turn is still recorded in it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from bot.dialogue.bot import ConversationState
from bot.durability.records import TurnRecord
from bot.durability.spool import Spool
from bot.storage.schema import new_id
from bot.storage.statuses import ConversationStatus
from bot.storage.store import UnknownConversation

log = logging.getLogger("faqbot.offline")
CONVERSATION_ID = re.compile(r"cs?_[0-9a-f]{32}")  # the ids conversations get (bot.storage.schema.new_id)
# A conversation started by a turn that went to a spool: until that spool is replayed (by another
# process, perhaps on another machine), the store does not know it, and that is no reason for a 404.
BORN_OFFLINE = re.compile(r"cs_[0-9a-f]{32}")


@dataclass(frozen=True)
class Known:
    """What this process last saw of a conversation."""

    status: str  # a ConversationStatus
    state: ConversationState
    channel: str
    ticket_id: str | None = None  # its open ticket, when handed off


@dataclass(frozen=True)
class TurnIds:
    """A turn's ids, chosen before it is written anywhere: the store or, if that fails, the spool
    write the same ones, so a replay recognises a turn whose commit did go through."""

    conversation: str  # used only if the turn starts a conversation
    user: str
    bot: str

    @classmethod
    def new(cls, offline: bool = False) -> TurnIds:
        """Fresh ids; a conversation started offline gets an id that says so (see BORN_OFFLINE)."""
        return cls(new_id("cs" if offline else "c"), new_id("m"), new_id("m"))

    def offline(self) -> TurnIds:
        """The same turn, now certain never to reach the store first: it starts any conversation offline."""
        return dataclasses.replace(self, conversation=new_id("cs"))


class Offline:
    """The spool, a bounded memory of conversations, and a short pause on the database after it fails."""

    def __init__(self, spool: Spool, memory_size: int = 10_000, retry_interval: float = 1.0) -> None:
        if memory_size < 0:
            raise ValueError(f"memory_size must be >= 0, got {memory_size}")
        if retry_interval < 0:
            raise ValueError(f"retry_interval must be >= 0 seconds, got {retry_interval}")
        self.spool = spool
        self.memory_size = memory_size
        self.retry_interval = retry_interval
        self._memory: OrderedDict[str, Known] = OrderedDict()
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down = False  # for logging the changes only

    def bypass(self, conversation_id: str | None) -> bool:
        """Should this turn skip the database? Yes for a short while after it failed (so customers do
        not each wait for a connection to fail), and while this conversation has turns in the spool
        (a turn must not overtake the ones before it)."""
        if time.monotonic() < self._down_until:
            return True
        return conversation_id is not None and self.spool.holds(conversation_id)

    def went_down(self) -> None:
        if not self._down:
            log.warning("database unreachable: turns go to the spool (%s)", self.spool.directory)
        self._down = True
        self._down_until = time.monotonic() + self.retry_interval

    def went_up(self) -> None:
        if self._down:
            log.warning("database reachable again: turns go to the store")
        self._down = False

    def remember(
        self, conversation_id: str, status: str, state: ConversationState, channel: str, ticket_id: str | None
    ) -> None:
        """Note what a turn saw or left behind (a handed-off conversation keeps its known ticket)."""
        if self.memory_size == 0:
            return
        with self._lock:
            before = self._memory.pop(conversation_id, None)
            if ticket_id is None and status == ConversationStatus.HANDOFF and before is not None:
                ticket_id = before.ticket_id
            self._memory[conversation_id] = Known(status, state, channel, ticket_id)
            while len(self._memory) > self.memory_size:
                self._memory.popitem(last=False)

    @staticmethod
    def born_offline(conversation_id: str | None) -> bool:
        return conversation_id is not None and BORN_OFFLINE.fullmatch(conversation_id) is not None

    def recall(self, conversation_id: str | None) -> Known | None:
        """What this process knows of the conversation; UnknownConversation for an id the store
        could never have handed out (nothing to check it against while the database is away)."""
        if conversation_id is None:
            return None
        with self._lock:
            known = self._memory.get(conversation_id)
            if known is not None:
                self._memory.move_to_end(conversation_id)
                return known
        if not CONVERSATION_ID.fullmatch(conversation_id):
            raise UnknownConversation(conversation_id)
        return None

    def keep(self, record: TurnRecord, status: str, state: ConversationState) -> None:
        """Spool the turn (on disk when this returns; SpoolUnavailable if it cannot be) and remember it."""
        self.spool.append(record.to_json())
        ticket = record.ticket.id if record.ticket else None
        self.remember(record.conversation_id, status, state, record.channel, ticket)
