"""Conversations on channels with their own user ids (Messenger): one per user, redeliveries
recognised, the customer's last message time, and who holds the thread on the channel's side.

Everything is in the store, so it holds across server processes and restarts.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.schema import Conversation, InboundEvent, Message, Ticket, aware, new_id, now
from bot.storage.statuses import ConversationStatus, Role, TicketStatus
from bot.storage.store import Store

BOT, INBOX, OTHER = "bot", "inbox", "other"  # thread owners


@dataclass(frozen=True)
class Thread:
    """A conversation as a channel sees it."""

    conversation_id: str
    external_id: str
    lang: str | None
    status: str  # bot | handoff (the store's conversation status)
    owner: str  # bot | inbox | other (who may write in the thread on the channel's side)
    last_customer_at: dt.datetime | None


EVENTS_KEPT = dt.timedelta(days=7)  # Meta stops redelivering a webhook long before this


class Threads:
    """The store's view of one channel's threads."""

    def __init__(self, store: Store, channel: str) -> None:
        if not channel:
            raise ValueError("channel must not be empty")
        self.store = store
        self.channel = channel
        self._pruned = 0.0  # when forget_stale_events last ran (time.monotonic)

    def arrive(
        self,
        external_id: str,
        event_id: str,
        at: dt.datetime | None,
        customer: bool = True,
        again: bool = False,
    ) -> Thread | None:
        """Take in one event of user `external_id`: None if `event_id` was taken in before (a
        redelivery), else the user's thread, created on first contact. A customer event moves the
        last-message time to `at`. With `again` (a replay of an event kept durably), an event
        taken in whose handling never finished (see `done`) is taken in once more."""
        with self.store.session() as session:
            key = {"channel": self.channel, "event_id": event_id}
            if not _insert_new(session, InboundEvent, key) and not (again and self._unfinished(session, key)):
                return None
            conversation = self._conversation(session, external_id)
            if customer and at is not None:
                last = conversation.last_customer_at
                if last is None or aware(last) < at:
                    conversation.last_customer_at = at
            return _thread(conversation)

    def done(self, event_id: str) -> None:
        """The event's handling finished: from now on it is a redelivery, even for a replay."""
        with self.store.session() as session:
            session.execute(
                update(InboundEvent)
                .where(InboundEvent.channel == self.channel, InboundEvent.event_id == event_id)
                .values(done_at=now())
            )

    @staticmethod
    def _unfinished(session: Session, key: dict) -> bool:
        query = select(InboundEvent).where(
            InboundEvent.channel == key["channel"], InboundEvent.event_id == key["event_id"]
        )
        event = session.scalars(query.with_for_update()).first()
        return event is not None and event.done_at is None

    def get(self, conversation_id: str) -> Thread | None:
        """The thread of a conversation, or None if it is not one of this channel's."""
        with self.store.session() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None or conversation.channel != self.channel or not conversation.external_id:
                return None
            return _thread(conversation)

    def set_owner(self, conversation_id: str, owner: str) -> None:
        if owner not in (BOT, INBOX, OTHER):
            raise ValueError(f"owner must be bot, inbox or other, got {owner!r}")
        with self.store.session() as session:
            self._locked(session, conversation_id).thread_owner = owner

    def set_lang(self, conversation_id: str, lang: str) -> None:
        """The customer's language, learnt outside a turn (their Messenger locale, a link's ref)."""
        with self.store.session() as session:
            conversation = self._locked(session, conversation_id)
            conversation.lang = lang
            conversation.state = {**(conversation.state or {}), "lang": lang}

    def hold(self, conversation_id: str, reason: str) -> str:
        """Someone else holds the thread (e.g. a person took it in the Page Inbox): the bot goes
        silent and staff see a ticket. Returns the ticket id (an open one is reused)."""
        with self.store.session() as session:
            ticket, _ = self.store.open_ticket(session, self._locked(session, conversation_id), reason)
            return ticket.id

    def open_ticket(self, conversation_id: str) -> str | None:
        """The id of the conversation's open hand-off ticket, if any."""
        with self.store.session() as session:
            query = select(Ticket.id).where(
                Ticket.conversation_id == conversation_id, Ticket.status == TicketStatus.OPEN
            )
            return session.scalars(query).first()

    def note(self, conversation_id: str, role: str, text: str, reason: str | None = None) -> str:
        """Record a message outside a bot turn (a greeting, an attachment); returns its id."""
        if role not in (Role.USER, Role.BOT):
            raise ValueError(f"role must be user or bot, got {role!r}")
        with self.store.session() as session:
            conversation = self._locked(session, conversation_id)
            stamp = now()
            message = Message(
                id=new_id("m"), conversation_id=conversation.id, role=role, text=text, reason=reason,
                created_at=stamp,
            )  # fmt: skip
            session.add(message)
            conversation.updated_at = stamp
            return message.id

    def start_over(self, conversation_id: str) -> None:
        """Forget what the bot was asking (pending choices, misses); keep the language."""
        with self.store.session() as session:
            conversation = self._locked(session, conversation_id)
            conversation.state = {"lang": conversation.lang}
            conversation.updated_at = now()

    def forget_events(self, older_than: dt.datetime) -> int:
        """Drop the record of events taken in before `older_than` (platforms stop redelivering
        long before); returns how many went."""
        with self.store.session() as session:
            result = session.execute(
                delete(InboundEvent).where(
                    InboundEvent.channel == self.channel, InboundEvent.created_at < older_than
                )
            )
            return result.rowcount or 0

    def forget_stale_events(self, kept: dt.timedelta = EVENTS_KEPT, every: float = 3600.0) -> None:
        """Forget de-duplication keys older than `kept`, at most once every `every` seconds (the
        channel's handler calls this for each event)."""
        if self._pruned and time.monotonic() - self._pruned < every:
            return
        self._pruned = time.monotonic()
        self.forget_events(now() - kept)

    def _conversation(self, session: Session, external_id: str) -> Conversation:
        """The user's conversation, locked for this transaction; created (race-free) on first contact."""
        query = (
            select(Conversation)
            .where(Conversation.channel == self.channel, Conversation.external_id == external_id)
            .with_for_update()
        )
        conversation = session.scalars(query).first()
        if conversation is None:
            stamp = now()
            values = {
                "id": new_id("c"), "channel": self.channel, "external_id": external_id,
                "status": ConversationStatus.BOT, "state": {}, "thread_owner": BOT, "created_at": stamp,
                "updated_at": stamp,
            }  # fmt: skip
            _insert_new(session, Conversation, values)  # another process may have just created it
            conversation = session.scalars(query).one()
        return conversation

    @staticmethod
    def _locked(session: Session, conversation_id: str) -> Conversation:
        query = select(Conversation).where(Conversation.id == conversation_id).with_for_update()
        conversation = session.scalars(query).first()
        if conversation is None:
            raise LookupError(f"no conversation {conversation_id}")
        return conversation


def _thread(conversation: Conversation) -> Thread:
    last = conversation.last_customer_at
    return Thread(
        conversation.id,
        conversation.external_id or "",
        conversation.lang,
        conversation.status,
        conversation.thread_owner or BOT,
        aware(last) if last is not None else None,
    )


def _insert_new(session: Session, model: type, values: dict) -> bool:
    """INSERT unless a row with the same key exists; True if this call inserted it.

    Atomic across processes: PostgreSQL and SQLite use ON CONFLICT DO NOTHING (a concurrent
    inserter waits for the first to commit), other databases a savepoint."""
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        if model is InboundEvent:
            values = {"created_at": now(), **values}
        table = model.__table__
        statement = insert(table).values(**values).on_conflict_do_nothing()
        # RETURNING, not rowcount: the PostgreSQL driver path reports rowcount -1 here.
        return session.execute(statement.returning(*table.primary_key.columns)).first() is not None
    try:
        with session.begin_nested():
            session.add(model(**values))
    except IntegrityError:
        return False
    return True
